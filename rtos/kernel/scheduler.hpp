// Kernel-internal scheduler interface. Every function here expects the
// caller to hold the kernel lock (KernelLock, kernel_lock.hpp; with SMP off
// that is masking interrupts), unless it says otherwise.
#pragma once

#include <rtos/config.hpp>

#include <rtos/thread.hpp>
#include <rtos/types.hpp>

#include "arch/port.hpp"
#include "kernel_lock.hpp"

namespace rtos::kernel {

constexpr unsigned kPriorityLevels = CONFIG_RTOS_PRIORITY_LEVELS;
/// The idle thread runs at the lowest priority; applications use the rest.
constexpr unsigned kIdlePriority = kPriorityLevels - 1;

/// The thread running on this CPU (interrupts masked with SMP: a thread
/// that moves between reading its CpuLocal and its `current` would get
/// another CPU's thread; Thread::current() masks).
inline Thread* current() { return static_cast<Thread*>(arch::this_cpu().current); }

/// Puts a thread on its ready list (state ready) and requests a switch if it
/// outranks the running thread (SMP: the lowest-priority thread running on
/// a CPU its affinity allows; that CPU is interrupted if it is another).
void make_ready(Thread* t);
/// Takes a thread off its ready list.
void make_unready(Thread* t);

/// Blocks the current thread on `wq` (may be null: pure sleep) for at most
/// `timeout`, switches away, and returns the status it was woken with.
/// Must not be called from an ISR or with the scheduler locked.
Status block_current(WaitQueue* wq, Timeout timeout, ThreadState state = ThreadState::blocked);
/// Hands the CPU to the best ready thread; the current one is off the ready
/// lists (exited). Interrupts masked.
void switch_away();
/// Wakes a blocked thread with `status` (removes it from its wait queue and
/// the timeout list).
void wake(Thread* t, Status status);

/// Changes a thread's effective priority, keeping ready lists and wait
/// queues ordered. Does not touch base priority.
void set_effective_priority(Thread* t, unsigned prio);

/// Switches to the highest-priority ready thread if that is not the
/// current one (in an ISR: leaves the decision to the trap exit). SMP: only
/// when a switch was requested for this CPU (switch_pending), as make_ready
/// and the changes below do.
void reschedule();
/// Asks CPU `cpu` to pick its thread again: this CPU's switch_pending, or
/// an IPI to another (a no-op with SMP off; the caller reschedules).
void request_switch(unsigned cpu);
/// Moves the current thread behind its equals (yield / slice expiry).
void rotate_current();

/// Holds back context switches that kernel calls would request, without the
/// checks of the scheduler lock (a thread about to block uses this to make
/// "release and wait" one step). Must be balanced before blocking.
void defer_switches_begin();
void defer_switches_end();

void scheduler_lock();
void scheduler_unlock();
bool scheduler_locked();

/// Registers a new thread in the list of all threads.
void register_thread(Thread* t);
void unregister_thread(Thread* t);
template <typename F>
void for_each_thread(F f);

/// Hook run by soft_interrupt_from_isr() (the port's software interrupt,
/// arch/port.hpp), in interrupt context (tests).
void set_soft_interrupt_hook(void (*hook)(void* arg), void* arg);

/// Boot: creates the idle thread and enters `first` (never returns).
[[noreturn]] void start(Thread* first);
bool started();

#if defined(CONFIG_RTOS_SMP)
/// Starts the other CPUs the board lists (main thread, before the start-up
/// hooks; smp.cpp) and prints "smp: N cpus online (boot cpu <id>)".
void start_cpus();
/// Runs fn(arg) in interrupt context on CPU `cpu` (not this one): waits
/// until its call slot is free, fills it and sends the IPI. Returns at once.
/// Interrupts must be enabled (a CPU waiting for a slot must be able to
/// take the IPI that empties its own).
void ipi_call(unsigned cpu, void (*fn)(void*), void* arg);
/// Interrupts every other CPU with a stop request (panic); they print
/// their state and halt. Waits a bounded time for them to stop.
void stop_other_cpus();
/// Idle thread of each CPU, pinned to it (named idle0, idle1...).
Thread& idle_thread_of(unsigned cpu);
/// Boot CPU's CpuLocal, first thing in rtos_kernel_main.
void boot_cpu_init();
/// On the boot CPU as smp::active() turns true (kernel lock held): the
/// multi-CPU bookkeeping the single-CPU paths skip (on_cpu, the global tick).
void begin_multi();
/// On the boot CPU, before CPU `id` is started: its CpuLocal and idle thread.
void prepare_cpu(unsigned id, uint64_t hw_id);
/// On CPU `id` once its port set it up: runs its first thread.
[[noreturn]] void enter_cpu();
/// The first CPU to call this owns the panic (true); the others must stop
/// (panic_stop_this_cpu). panic.cpp.
bool panic_claim();
/// Whether this CPU owns the panic already (the overflow report's panic).
bool panic_owner();
/// Reports this CPU's state for another CPU's panic and halts.
[[noreturn]] void panic_stop_this_cpu();
#endif

/// Untouched stack bytes hold this (high-water marks and the guard band).
constexpr uint8_t kStackFill = 0xaa;  // 0xaaaa... is one aarch64 mov immediate

/// Fills a new stack with the pattern used for high-water marks and guards.
void prepare_stack(uint8_t* base, std::size_t size);
/// The full check, for idle and `ps`: true when a word of `t`'s guard band
/// (the bottom kGuardBytes of its stack) changed. The cheap check (stack
/// pointer bounds and the bottom canary word) runs at every switch-out and
/// outermost trap exit; both end in a panic naming the thread, reported on a
/// stack of its own so the report survives whatever the overflow destroyed.
bool stack_guard_broken(const Thread* t);
/// Panics for an overflow of `t` (sp: where it was found; frame: its trap
/// frame if any, read only when it lies by the stack unless frame_readable)
/// on a stack of its own. Interrupts masked.
[[noreturn]] void stack_overflow(Thread* t, const void* sp, const void* frame,
                                 bool frame_readable = false);
/// stack_overflow(t, sp, nullptr) for an overflow found under the kernel
/// lock (KernelLock or a switch); it drops the lock first.
[[noreturn]] void stack_overflow_locked(Thread* t, const void* sp);
/// Bytes at the bottom of every stack that a thread must never reach. Larger
/// than a trap frame, so a trap taken just above it still lands inside the stack.
constexpr std::size_t kGuardBytes = 256;

/// Detached heap threads that exited: the idle thread frees their memory.
void add_zombie(Thread* t);
/// Frees the control block and stack of a heap-allocated thread (thread.cpp).
void thread_release_memory(Thread* t);

/// Counter value at the last context switch (CPU accounting of the running thread).
uint64_t last_switch_time();
/// Tick periods this CPU's own timer interrupt announced (with SMP off: the
/// tick count). The nesting tests watch their own CPU's tick.
Tick cpu_ticks();

/// The list of all threads (for ps).
List<Thread, &Thread::all_node>& all_threads();

template <typename F>
void for_each_thread(F f) {
    all_threads().for_each(f);
}

}  // namespace rtos::kernel
