// Per-CPU state shared by the kernel and the port's trap code. The trap entry
// and exit (trap.S, vectors.S) use the offsets checked below.
//
// Uniprocessor (CONFIG_RTOS_SMP=n): one instance, rtos_cpu_local. SMP: one
// per CPU, rtos_cpu_locals[logical id], found through a register each CPU
// sets once at start-up and nothing else writes: `tp` on riscv64 (the
// kernel has no TLS; trap.S never restores tp from a frame, since a thread
// may resume on another CPU than the one it was interrupted on), TPIDR_EL1
// on aarch64. A thread can move to another CPU whenever interrupts are
// enabled, so this_cpu() is only meaningful with interrupts masked (or in
// an interrupt handler): each call reads the register again (asm volatile).
#pragma once

#include <rtos/config.hpp>

#include <cstddef>
#include <cstdint>

namespace rtos::arch {

/// Reasons a CPU was sent its software interrupt (ipi_reasons), handled by
/// kernel::soft_interrupt_from_isr() on that CPU. (Bit 0 was the software
/// interrupt a CPU raises on itself: that is CpuLocal::soft_pending now.)
enum IpiReason : uint32_t {
    kIpiReschedule = 1u << 1,  ///< pick the next thread again
    kIpiStop = 1u << 2,        ///< another CPU panicked: report and stop
    kIpiCall = 1u << 3,        ///< run the function left in the call slot
};

struct CpuLocal {
    /// Nesting depth of traps; 0 in thread context.
    volatile uint32_t trap_depth;
    /// Set in a trap when a thread became ready or the slice ran out: the
    /// outermost trap exit then calls rtos_kernel_preempt(). A trap that
    /// changed nothing (a tick that wakes nobody) returns straight away.
    volatile uint32_t switch_pending;
    /// Lowest address the running thread's trap frame may start at (its
    /// stack base plus the guard band); 0 before the scheduler starts.
    uintptr_t stack_limit;
    /// The running thread (the kernel's Thread; opaque to the port).
    void* current;
    /// Counter value at the last switch (the kernel's CPU-time accounting).
    uint64_t switch_time;
#if defined(CONFIG_RTOS_SMP)
    /// Top of this CPU's own stack for what must not run on a thread's
    /// stack (aarch64: a data abort that may be a guard-page hit). It is the
    /// CPU's boot stack, unused once its first thread runs.
    uintptr_t exception_stack;
    /// Logical CPU number (0: the boot CPU).
    uint32_t id;
    /// IpiReason bits not yet handled; set by any CPU (atomic or), taken
    /// by this one (atomic exchange) in its software interrupt.
    uint32_t ipi_reasons;
    /// Scheduler lock depth of the thread running here (kernel).
    uint32_t sched_lock_depth;
    /// Best priority an IPI asked this CPU to run, not yet picked (kernel;
    /// kernel lock): other CPUs count the CPU as busy with it.
    uint32_t pending_prio;
    bool switch_deferred;
    bool online;
    /// raise_soft_interrupt() on this CPU, not yet handled. Only this CPU
    /// writes and reads it, with interrupts masked (no atomics: the
    /// Thread-Metric interrupt tests' path stays as short as with SMP off).
    bool soft_pending;
    /// This CPU's idle thread (kernel).
    void* idle;
    /// Call slot for kIpiCall (kernel::ipi_call).
    void (*volatile call_fn)(void*);
    void* volatile call_arg;
    /// The trap frame of the latest interrupt (the stop report of a panic).
    const void* volatile trap_frame;
    uint64_t hw_id;
    uint64_t busy, switches, interrupts, ipis;
    /// CPUs this one owes an IPI (kernel): sent once it drops the kernel
    /// lock, so no SBI call or GIC write lengthens the lock's hold.
    uint32_t ipi_defer;
    /// Tick periods this CPU's own timer announced (the global count is
    /// the kernel's tick_count).
    uint64_t local_ticks;
#endif
};
static_assert(offsetof(CpuLocal, trap_depth) == 0 && offsetof(CpuLocal, switch_pending) == 4 &&
                  offsetof(CpuLocal, stack_limit) == 8,
              "trap.S / vectors.S use these offsets");
#if defined(CONFIG_RTOS_SMP)
static_assert(offsetof(CpuLocal, exception_stack) == 32, "vectors.S uses this offset");
#endif

}  // namespace rtos::arch

#if defined(CONFIG_RTOS_SMP)

extern "C" rtos::arch::CpuLocal rtos_cpu_locals[CONFIG_RTOS_MAX_CPUS];

namespace rtos::arch {
inline CpuLocal& this_cpu() {
    CpuLocal* p;
#if defined(__riscv)
    asm volatile("mv %0, tp" : "=r"(p));
#elif defined(__aarch64__)
    asm volatile("mrs %0, tpidr_el1" : "=r"(p));
#else
#error "no per-CPU register for this architecture"
#endif
    return *p;
}
inline CpuLocal& cpu_local(unsigned cpu) { return rtos_cpu_locals[cpu]; }
}  // namespace rtos::arch

#else

extern "C" rtos::arch::CpuLocal rtos_cpu_local;

namespace rtos::arch {
inline CpuLocal& this_cpu() { return rtos_cpu_local; }
inline CpuLocal& cpu_local(unsigned) { return rtos_cpu_local; }
}  // namespace rtos::arch

#endif
