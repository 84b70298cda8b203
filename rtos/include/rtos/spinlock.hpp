// Spinlocks: mutual exclusion between CPUs for short critical sections that
// interrupt handlers share (docs/smp.md). The usual form is the guard:
//
//   rtos::SpinLock lock;                  // beside the data it protects
//   { rtos::SpinLockGuard g(lock); ... }  // masks interrupts here, then spins
//
// A SpinLock is a ticket lock that a waiter first tries to take only when
// it is free (test and test-and-set). A waiter that has seen
// kSpinLockBargeLimit critical sections of other CPUs pass takes a ticket
// and is served in order from then on, so none starves: it waits for about
// kSpinLockBargeLimit + (CPUs - 1) critical sections at most. Why not queue
// at once: under QEMU TCG each vCPU is a host thread, and with more vCPUs
// than host cores a queued waiter that the host has descheduled holds up
// every waiter behind it (a pure ticket lock let a -smp 4 guest on 2 host
// cores pass the kernel lock about a hundred times a second; Linux guests
// fall back to test-and-set for the same reason, virt_spin_lock()).
//
// Hold it briefly and never across a blocking call; take it with
// interrupts masked on this CPU (the guard does), or an interrupt handler
// that wants it on the same CPU would spin forever. Not recursive.
//
// A CPU holding a SpinLock does not switch threads: a switch asked of it
// meanwhile (a thread woken or raised here by Semaphore::give in thread
// context, a priority or affinity change, another CPU's IPI or the tick, both
// taken once interrupts are on again) is made when the last SpinLock the CPU
// holds is dropped, never while the lock is held by a thread that would then
// not run (the others would spin on it with interrupts masked). A SpinLock
// counts in the CPU's scheduler-lock depth for that; blocking while holding
// one panics, as under a SchedulerLock.
//
// While only one CPU runs (booted with -smp 1, and before the others are
// started: smp::active(), rtos/smp.hpp) the lock itself is skipped: masking interrupts is then all
// the exclusion there is to have. With CONFIG_RTOS_SMP=n it is always skipped and SpinLockGuard is
// an IrqLock.
//
// Lock order (outer first; a lock may be taken while holding the ones
// above it, never the other way round). Every SpinLock in the tree names
// its place in a comment beside its definition:
//   1. subsystem and driver locks (block layer, virtqueues and their
//      drivers, input, network device list, irq attach, GIC ITS / v2m),
//      never two of them at once unless named here
//   2. the kernel lock (rtos/kernel/kernel_lock.hpp: scheduler, every
//      kernel object, software timers): drivers call kernel services
//      (Semaphore::give...) while holding their own lock
//   3. the heap lock and the console locks (printk output, console input):
//      leaves, nothing is taken inside them (console drivers' putc write
//      hardware only)
#pragma once

#include <rtos/config.hpp>

#include <cstdint>

#include <rtos/arch_cpu.hpp>
#include <rtos/critical.hpp>
#include <rtos/smp.hpp>

namespace rtos {

#if defined(CONFIG_RTOS_SMP)

/// Critical sections of other CPUs a waiter lets pass before it queues.
inline constexpr unsigned kSpinLockBargeLimit = 8;

class SpinLock {
public:
    constexpr SpinLock() = default;
    SpinLock(const SpinLock&) = delete;
    SpinLock& operator=(const SpinLock&) = delete;

    /// Takes the lock; interrupts must be masked on this CPU.
    void lock() {
        if (smp::active()) {
            lock_always();
            hold_cpu();
        }
    }
    void unlock() {
        if (smp::active()) {
            unlock_always();
            release_cpu();
        }
    }
    /// True when it took the lock.
    bool try_lock() {
        if (!smp::active()) return true;
        uint32_t owner = __atomic_load_n(&owner_, __ATOMIC_RELAXED);
        uint32_t expected = owner;
        if (!__atomic_compare_exchange_n(&next_, &expected, owner + 1, false, __ATOMIC_ACQUIRE,
                                         __ATOMIC_RELAXED))
            return false;
        hold_cpu();
        return true;
    }
    /// Held by some CPU (a snapshot, for assertions).
    bool is_locked() const {
        return __atomic_load_n(&owner_, __ATOMIC_RELAXED) !=
               __atomic_load_n(&next_, __ATOMIC_RELAXED);
    }

    // The lock whatever smp::active() says. Two words that wrap on their
    // own: `next_` hands out tickets, `owner_` is the ticket served. The
    // acquire load that sees our ticket orders the critical section after
    // the previous owner's release store (C++ memory model; riscv64 RVWMO
    // and aarch64 LDAR/STLR implement exactly these orders). Only the
    // holder writes owner_.
    //
    // Taking it while free is taking the ticket that is being served
    // (next_ == owner_): one compare-and-swap. Every owner_ change a waiter
    // sees is another CPU's critical section ending.
    void lock_always() {
        uint32_t seen = __atomic_load_n(&owner_, __ATOMIC_RELAXED);
        for (unsigned passed = 0; passed < kSpinLockBargeLimit; arch::cpu_relax()) {
            uint32_t owner = __atomic_load_n(&owner_, __ATOMIC_RELAXED);
            if (owner != seen) {
                passed += owner - seen;
                seen = owner;
            }
            uint32_t expected = owner;
            if (__atomic_load_n(&next_, __ATOMIC_RELAXED) == owner &&
                __atomic_compare_exchange_n(&next_, &expected, owner + 1, false, __ATOMIC_ACQUIRE,
                                            __ATOMIC_RELAXED))
                return;
        }
        uint32_t ticket = __atomic_fetch_add(&next_, 1, __ATOMIC_RELAXED);
        while (__atomic_load_n(&owner_, __ATOMIC_ACQUIRE) != ticket) arch::cpu_relax();
    }
    void unlock_always() {
        __atomic_store_n(&owner_, __atomic_load_n(&owner_, __ATOMIC_RELAXED) + 1, __ATOMIC_RELEASE);
    }

private:
    // This CPU keeps its thread while it holds a SpinLock (the top of this
    // file); the kernel lock, handed from thread to thread across a switch,
    // takes lock_always() and is not counted.
    static void hold_cpu() { ++arch::this_cpu().sched_lock_depth; }
    static void release_cpu() {
        arch::CpuLocal& cpu = arch::this_cpu();
        if (--cpu.sched_lock_depth == 0 && cpu.switch_deferred) smp::switch_held_back();
    }

    uint32_t next_ = 0;
    uint32_t owner_ = 0;
};

#else

/// Uniprocessor: nothing to take; masking interrupts excludes everything.
class SpinLock {
public:
    constexpr SpinLock() = default;
    SpinLock(const SpinLock&) = delete;
    SpinLock& operator=(const SpinLock&) = delete;
    void lock() {}
    void unlock() {}
    bool try_lock() { return true; }
    bool is_locked() const { return false; }
};

#endif

/// Masks interrupts on this CPU, then takes `lock`; the reverse on scope exit.
class SpinLockGuard {
public:
    explicit SpinLockGuard(SpinLock& lock) : lock_(lock), state_(arch::irq_save()) { lock_.lock(); }
    ~SpinLockGuard() {
        lock_.unlock();
        arch::irq_restore(state_);
    }
    SpinLockGuard(const SpinLockGuard&) = delete;
    SpinLockGuard& operator=(const SpinLockGuard&) = delete;

private:
    SpinLock& lock_;
    arch::IrqState state_;
};

}  // namespace rtos
