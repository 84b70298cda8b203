// Hook from the tick into the software-timer service (timer.cpp).
#pragma once

#include <rtos/types.hpp>

namespace rtos::kernel {

/// Called from the tick interrupt; wakes the timer thread when a timer is due.
void timer_service_tick_from_isr(Tick now);
/// Expiry tick of the first active timer (~Tick{0}: none); caller holds IrqLock.
Tick timer_service_next_due();

}  // namespace rtos::kernel
