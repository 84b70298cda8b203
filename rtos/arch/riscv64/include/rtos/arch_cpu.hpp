// riscv64: the per-CPU primitives every kernel path uses, inline (interrupt
// masking, trap depth, the time counter). Reached through <rtos/arch_cpu.hpp>
// (the build puts rtos/arch/<arch>/include on the include path).
#pragma once

#include <cstdint>

#include "arch/cpu_local.hpp"

namespace rtos::arch {

/// Saved interrupt-enable state returned by irq_save(): sstatus.SIE.
using IrqState = unsigned long;

/// Masks interrupts and returns the previous state (nestable).
inline IrqState irq_save() {
    IrqState old;
    asm volatile("csrrci %0, sstatus, 2" : "=r"(old)::"memory");
    return old & 2;
}
/// Restores the state saved by irq_save() (sets SIE back if it was set).
inline void irq_restore(IrqState state) {
    asm volatile("csrs sstatus, %0" ::"r"(state) : "memory");
}
/// Unmasks interrupts unconditionally.
inline void irq_enable() { asm volatile("csrsi sstatus, 2" ::: "memory"); }
/// True while executing a trap handler (interrupt or exception).
inline bool in_isr() { return this_cpu().trap_depth != 0; }
/// Nesting depth of traps; 0 in thread context.
inline unsigned isr_nesting() { return this_cpu().trap_depth; }

/// Free-running counter (rdtime).
inline uint64_t counter_read() {
    uint64_t t;
    asm volatile("rdtime %0" : "=r"(t));
    return t;
}

/// The stack pointer now (the cheap stack check at a switch).
inline uintptr_t stack_pointer() {
    uintptr_t sp;
    asm volatile("mv %0, sp" : "=r"(sp));
    return sp;
}

}  // namespace rtos::arch
