// RISC-V Platform-Level Interrupt Controller, S-mode context of hart 0.
#pragma once

#include <cstdint>

#include <rtos/irq.hpp>

namespace rtos::drivers {

/// Initialises the PLIC at `base` with `sources` interrupt sources
/// (riscv,ndev) and returns it as the system's controller.
irq::Controller* plic_init(uintptr_t base, unsigned sources);

}  // namespace rtos::drivers
