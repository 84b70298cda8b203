// The software interrupt of the aarch64 port (rtos::arch::raise_soft_interrupt)
// is an SGI to this CPU. How to send one depends on the GIC version, so the
// interrupt controller driver registers its sender here.
#pragma once

namespace rtos::arch::aarch64 {

/// SGI (INTID 0-15) used for raise_soft_interrupt().
constexpr unsigned kSoftInterruptSgi = 1;

/// Sends SGI `intid` to the calling CPU.
using SgiSender = void (*)(unsigned intid);
void set_sgi_sender(SgiSender sender);

}  // namespace rtos::arch::aarch64
