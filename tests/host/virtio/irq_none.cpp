// rtos::irq for the core tests, which run the device's interrupt handling
// themselves (Rig::service_irq): no interrupt controller, attach() refuses.
#include <rtos/irq.hpp>

namespace rtos::irq {
bool attach(unsigned, Handler, void*) { return false; }
void enable(unsigned) {}
void disable(unsigned) {}
}  // namespace rtos::irq
