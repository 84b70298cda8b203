// The kernel lock (docs/smp.md, "Locks"): one spinlock (rtos/spinlock.hpp) over the
// scheduler (ready lists, the timeout list, every CPU's current thread),
// every kernel object (wait queues, semaphores, mutexes, queues, event
// flags, condition variables, memory pools), the software timers and the
// thread list. Always taken with interrupts masked on this CPU
// (KernelLock), so no interrupt handler on this CPU can want it meanwhile.
//
// Place in the lock order (rtos/spinlock.hpp): below every driver and
// subsystem lock (drivers give semaphores while holding theirs); above the
// heap and console locks. Kernel code holding it calls no driver and prints
// nothing (panics aside: they end the system).
//
// Held across a context switch. A thread that switches away holds it, and
// the thread that resumes releases it (its own KernelLock ends, or a new
// thread's start path, rtos_kernel_thread_entry), so the lock passes from
// the old thread to the new one on this CPU. Another CPU can therefore pick
// the old thread, or read anything of it, only once its context has been
// saved completely: a context is never resumed on one CPU while another is
// still saving it (the SPSR / register corruption other kernels met).
//
// With CONFIG_RTOS_SMP=n this is exactly an IrqLock; booted on one CPU the
// spinlock part is skipped (smp::active(), rtos/spinlock.hpp). The IPIs
// a holder asks for go out once it drops the lock (send_deferred_ipis).
#pragma once

#include <rtos/config.hpp>

#include <rtos/arch_cpu.hpp>
#include <rtos/smp.hpp>
#include <rtos/spinlock.hpp>

namespace rtos::kernel {

#if defined(CONFIG_RTOS_SMP)
extern SpinLock kernel_spinlock;
/// Sends the IPIs this CPU deferred while it held the lock.
[[gnu::noinline, gnu::cold]] void send_deferred_ipis();
/// Takes / drops the kernel lock; interrupts masked.
// lock_always(): not counted as a SpinLock this CPU holds (rtos/spinlock.hpp),
// since the kernel lock passes from thread to thread across a switch.
inline void lock_kernel() {
    if (smp::active()) kernel_spinlock.lock_always();
}
inline void unlock_kernel() {
    if (smp::active()) {
        kernel_spinlock.unlock_always();
        if (arch::this_cpu().ipi_defer) send_deferred_ipis();
    }
}
#else
inline void lock_kernel() {}
inline void unlock_kernel() {}
#endif

/// Masks interrupts on this CPU and takes the kernel lock; the reverse when
/// it ends.
class KernelLock {
public:
    KernelLock() : state_(arch::irq_save()) { lock_kernel(); }
    ~KernelLock() {
        unlock_kernel();
        arch::irq_restore(state_);
    }
    KernelLock(const KernelLock&) = delete;
    KernelLock& operator=(const KernelLock&) = delete;

private:
    arch::IrqState state_;
};

}  // namespace rtos::kernel
