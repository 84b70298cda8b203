// GIC priorities of the aarch64 port's nesting model (rtos/arch/port.hpp):
// the tick is the only interrupt above the running priority of any other
// handler, so it alone can preempt one. Lower numbers are more urgent; the
// two values differ in their top two bits, so they stay in different
// preemption groups for every binary point up to 5 (the GIC driver checks
// the one the hardware accepted).
#pragma once

#include <cstdint>

namespace rtos::arch::aarch64 {

/// INTID of the kernel tick: the EL1 virtual timer PPI.
constexpr unsigned kTimerIntid = 27;

/// Priority of the tick.
constexpr uint8_t kTickPriority = 0x40;
/// Priority of every other interrupt: SPIs, SGIs (raise_soft_interrupt) and PPIs.
constexpr uint8_t kDevicePriority = 0xa0;

static_assert(kTickPriority < kDevicePriority, "the tick must outrank every other interrupt");

}  // namespace rtos::arch::aarch64
