// Per-CPU state shared by the kernel and the port's trap code. The trap entry
// and exit (trap.S, vectors.S) use the offsets checked below. One CPU today;
// with SMP this becomes one instance per hart / core, found through the
// port's cpu_id() (tp / TPIDR_EL1), and nothing above the port changes.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtos::arch {

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
};
static_assert(offsetof(CpuLocal, trap_depth) == 0 && offsetof(CpuLocal, switch_pending) == 4 &&
                  offsetof(CpuLocal, stack_limit) == 8,
              "trap.S / vectors.S use these offsets");

}  // namespace rtos::arch

extern "C" rtos::arch::CpuLocal rtos_cpu_local;

namespace rtos::arch {
inline CpuLocal& this_cpu() { return rtos_cpu_local; }
}  // namespace rtos::arch
