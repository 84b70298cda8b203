// rtos::irq for the core tests, which run the device's interrupt handling
// themselves (Rig::service_irq): no interrupt controller, attach() refuses.
#include <rtos/irq.hpp>

namespace rtos::irq {
bool attach(unsigned, Handler, void*) { return false; }
void enable(unsigned) {}
void disable(unsigned) {}
// One CPU: every interrupt is delivered to CPU 0.
unsigned cpu_of(unsigned) { return 0; }
bool route(unsigned, unsigned cpu) { return cpu == 0; }
}  // namespace rtos::irq
