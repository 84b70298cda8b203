// aarch64: the per-CPU primitives every kernel path uses, inline (interrupt
// masking, trap depth, the time counter). Reached through <rtos/arch_cpu.hpp>
// (the build puts rtos/arch/<arch>/include on the include path).
#pragma once

#include <rtos/config.hpp>

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
/// Nesting depth of traps; 0 in thread context.
inline unsigned isr_nesting() {
#if defined(CONFIG_RTOS_SMP)
    // Masked: a thread that moves to another CPU between finding its
    // CpuLocal (TPIDR_EL1) and reading it would read another CPU's depth.
    IrqState s = irq_save();
    unsigned depth = this_cpu().trap_depth;
    irq_restore(s);
    return depth;
#else
    return this_cpu().trap_depth;
#endif
}
/// True while executing a trap handler (interrupt or exception).
inline bool in_isr() { return isr_nesting() != 0; }

/// Free-running counter (CNTVCT_EL0), not read ahead of earlier instructions.
inline uint64_t counter_read() {
    uint64_t t;
    asm volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(t)::"memory");
    return t;
}

/// A hint inside a spin-wait loop: YIELD (ARM ARM C6.2.390), which QEMU
/// takes as the moment to run another vCPU.
inline void cpu_relax() { asm volatile("yield" ::: "memory"); }

/// Orders this core's earlier stores to memory before its later stores to
/// device registers (ARM ARM B2.3.12, "Data Synchronization Barrier": DSB
/// ST completes every earlier store first), e.g. a handler table entry
/// before the enable bit that lets another core take the interrupt.
inline void device_write_barrier() { asm volatile("dsb st" ::: "memory"); }

/// The stack pointer now (the cheap stack check at a switch).
inline uintptr_t stack_pointer() {
    uintptr_t sp;
    asm volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

}  // namespace rtos::arch
