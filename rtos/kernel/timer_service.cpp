#include "timer_service.hpp"

namespace rtos::kernel {

// Software timers arrive with the kernel issue; until then the tick has
// nothing to hand over.
void timer_service_tick_from_isr(Tick) {}

}  // namespace rtos::kernel
