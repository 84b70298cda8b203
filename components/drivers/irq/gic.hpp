// ARM Generic Interrupt Controller, v2 (memory-mapped CPU interface) and v3
// (system-register CPU interface, redistributors), for the boot CPU at EL1.
// Every interrupt is level/edge as reset left it, routed to this CPU, and
// signalled as IRQ (never FIQ). The tick (the virtual timer PPI) has a higher
// priority than all others, so it alone preempts a running handler (the
// nesting model in rtos/arch/port.hpp; values in arch/aarch64/irq_priority.hpp).
#pragma once

#include <cstdint>

#include <rtos/irq.hpp>

namespace rtos::drivers {

/// GICv2 (arm,cortex-a15-gic / arm,gic-400): distributor and CPU interface
/// bases. Returns the controller to pass to irq::set_controller().
irq::Controller* gic_v2_init(uintptr_t dist, uintptr_t cpu);

/// GICv3 (arm,gic-v3): distributor and the first redistributor region; the
/// boot CPU's redistributor is found by its affinity.
irq::Controller* gic_v3_init(uintptr_t dist, uintptr_t redist);

}  // namespace rtos::drivers
