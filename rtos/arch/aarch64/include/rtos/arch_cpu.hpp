// aarch64: the per-CPU primitives every kernel path uses, inline (interrupt
// masking, trap depth, the time counter). Reached through <rtos/arch_cpu.hpp>
// (the build puts rtos/arch/<arch>/include on the include path).
#pragma once

#include <cstdint>

#include "arch/cpu_local.hpp"

namespace rtos::arch {

/// Saved interrupt-enable state returned by irq_save(): DAIF.
using IrqState = unsigned long;

/// Masks IRQ and FIQ and returns the previous DAIF (nestable).
inline IrqState irq_save() {
    IrqState old;
    asm volatile("mrs %0, daif\n\tmsr daifset, #3" : "=r"(old)::"memory");
    return old;
}
/// Restores the state saved by irq_save().
inline void irq_restore(IrqState state) { asm volatile("msr daif, %0" ::"r"(state) : "memory"); }
/// Unmasks interrupts unconditionally.
inline void irq_enable() { asm volatile("msr daifclr, #3" ::: "memory"); }
/// True while executing a trap handler (interrupt or exception).
inline bool in_isr() { return this_cpu().trap_depth != 0; }
/// Nesting depth of traps; 0 in thread context.
inline unsigned isr_nesting() { return this_cpu().trap_depth; }

/// Free-running counter (CNTVCT_EL0), not read ahead of earlier instructions.
inline uint64_t counter_read() {
    uint64_t t;
    asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(t)::"memory");
    return t;
}

/// The stack pointer now (the cheap stack check at a switch).
inline uintptr_t stack_pointer() {
    uintptr_t sp;
    asm volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

}  // namespace rtos::arch
