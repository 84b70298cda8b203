// riscv64: the per-CPU primitives every kernel path uses, inline (interrupt
// masking, trap depth, the time counter). Reached through <rtos/arch_cpu.hpp>
// (the build puts rtos/arch/<arch>/include on the include path).
#pragma once

#include <rtos/config.hpp>

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
/// Nesting depth of traps; 0 in thread context.
inline unsigned isr_nesting() {
#if defined(CONFIG_RTOS_SMP)
    // One load relative to tp: a thread that moves to another CPU between
    // finding its CpuLocal and reading it would read another CPU's depth.
    unsigned depth;
    asm volatile("lw %0, 0(tp)" : "=r"(depth));  // CpuLocal::trap_depth
    return depth;
#else
    return this_cpu().trap_depth;
#endif
}
/// True while executing a trap handler (interrupt or exception).
inline bool in_isr() { return isr_nesting() != 0; }

/// Free-running counter (rdtime).
inline uint64_t counter_read() {
    uint64_t t;
    asm volatile("rdtime %0" : "=r"(t));
    return t;
}

/// A hint inside a spin-wait loop: Zihintpause PAUSE (encoded as FENCE
/// W,0, a no-op on harts without the extension), so QEMU moves on to
/// another vCPU and a hart with SMT lends its resources to its sibling.
inline void cpu_relax() { asm volatile(".insn i 0x0f, 0, x0, x0, 0x010" ::: "memory"); }

/// Orders this hart's earlier stores to memory before its later stores to
/// device registers (RISC-V unprivileged spec, "Memory Ordering
/// Instructions": FENCE W,O), e.g. a handler table entry before the
/// enable bit that lets another hart take the interrupt.
inline void device_write_barrier() { asm volatile("fence w, o" ::: "memory"); }

/// The stack pointer now (the cheap stack check at a switch).
inline uintptr_t stack_pointer() {
    uintptr_t sp;
    asm volatile("mv %0, sp" : "=r"(sp));
    return sp;
}

}  // namespace rtos::arch
