// Host stand-in for the port's inline primitives (<rtos/arch_cpu.hpp>): out
// of line, implemented by the simulated port (tests/host/kernel_ipc/sim.cpp)
// or the plain stubs (tests/host/support/kernel_stubs.cpp).
#pragma once

#include <cstdint>

#include "arch/cpu_local.hpp"

namespace rtos::arch {

using IrqState = unsigned long;

IrqState irq_save();
void irq_restore(IrqState state);
void irq_enable();
bool in_isr();
unsigned isr_nesting();
uint64_t counter_read();
uintptr_t stack_pointer();
inline void cpu_relax() {}
inline void device_write_barrier() {}

}  // namespace rtos::arch
