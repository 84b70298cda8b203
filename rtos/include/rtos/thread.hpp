// Threads: creation with a static stack (StaticThread<N>) or from the heap
// (Thread::create), priorities (0 = highest), round-robin slices, sleep,
// suspend/resume, join.
#pragma once

#include <cstddef>
#include <cstdint>

#include <rtos/config.hpp>

#include "list.hpp"
#include "smp.hpp"
#include "types.hpp"
#include "wait_queue.hpp"

namespace rtos {

class Mutex;

enum class ThreadState : uint8_t { created, ready, running, blocked, sleeping, suspended, exited };

const char* thread_state_name(ThreadState s);

class Thread {
public:
    using Entry = void (*)(void* arg);

    struct Params {
        const char* name = "thread";
        unsigned priority = 10;
        /// Round-robin slice in ticks; 0 = CONFIG_RTOS_TIMESLICE_TICKS.
        unsigned timeslice = 0;
        /// The CPUs the thread may run on (rtos/smp.hpp; cpu_mask(1): pinned
        /// to CPU 1). 0: those of the thread that creates it, as on Linux
        /// (every CPU for threads made before the scheduler starts).
        CpuMask affinity = 0;
    };

    constexpr Thread() = default;
    Thread(const Thread&) = delete;
    Thread& operator=(const Thread&) = delete;

    /// Prepares a thread on caller-provided stack memory; start() runs it.
    Status init(const Params& params, Entry entry, void* arg, void* stack, std::size_t stack_size);
    /// Makes an initialised thread ready to run.
    Status start();

    /// Allocates stack and control block from the heap (one block, the control
    /// block above the stack) and starts the thread. The memory is returned by
    /// join() (or at exit for detached threads).
    static Thread* create(const Params& params, Entry entry, void* arg, std::size_t stack_size,
                          bool detached = false);

    /// Waits until the thread has exited. Returns ok, or timeout.
    Status join(Timeout timeout = Timeout::forever());

    Status suspend();
    Status resume();

    /// Changes the base priority (effective priority may be raised by
    /// priority inheritance while the thread holds mutexes).
    Status set_priority(unsigned priority);
    unsigned priority() const { return prio; }
    /// Restricts the thread to the CPUs in `mask` (bits beyond the CPUs
    /// online are ignored; none left: invalid). A thread running on a CPU
    /// the mask excludes moves at once (the CPU is interrupted); a ready one
    /// runs where the mask allows. With SMP off only CPU 0 exists.
    Status set_affinity(CpuMask mask);
    CpuMask affinity() const;
    /// The CPU the thread runs on, or last ran on (0 before it first ran).
    unsigned cpu() const;
    unsigned base_priority() const { return base_prio; }
    const char* name() const { return thread_name; }
    ThreadState state() const;

    /// Bytes of stack never touched since the thread started.
    std::size_t stack_unused() const;
    std::size_t stack_size() const { return stack_bytes; }
    /// Counter ticks (arch::counter_read units) spent running.
    uint64_t cpu_time() const { return cpu_counter; }

    static Thread* current();
    /// Gives the CPU to the next ready thread of the same priority.
    static void yield();
    static void sleep(Tick ticks);
    /// Sleeps until the tick count reaches `deadline` (no drift in loops).
    static void sleep_until(Tick deadline);
    [[noreturn]] static void exit();

    // ---- Kernel-internal state: kernel code only; applications use the
    // ---- methods above.
    /// init() with `guard` (null, or the page just below `stack`) made
    /// inaccessible while the thread lives (CONFIG_RTOS_STACK_GUARD_PAGES).
    Status init_guarded(const Params& params, Entry entry, void* arg, void* stack,
                        std::size_t stack_size, void* guard);
    void* sp = nullptr;  ///< saved stack pointer (trap frame on the stack)
#if defined(CONFIG_RTOS_SMP)
    // Under the kernel lock. on_cpu: some CPU's current thread, from the
    // switch to it until the switch away (never picked by another CPU
    // meanwhile); run_cpu: that CPU, or the last one.
    CpuMask cpu_affinity = kAllCpus;
    uint8_t run_cpu = 0;
    bool on_cpu = false;
#endif
    const char* thread_name = "?";
    unsigned prio = 0;                             ///< effective priority (raised by inheritance)
    unsigned base_prio = 0;                        ///< priority set by the application
    ThreadState run_state = ThreadState::created;  ///< never `running`: see state()
    bool heap_allocated = false;
    bool detached = false;
    bool suspend_pending = false;
    unsigned timeslice = 0;
    unsigned slice_left = 0;
    Entry entry = nullptr;
    void* arg = nullptr;
    uint8_t* stack_base = nullptr;
    std::size_t stack_bytes = 0;
    uint8_t* guard_page = nullptr;  ///< unmapped page below the stack, if any
    ListNode sched_node;            ///< ready list or a WaitQueue
    ListNode timeout_node;          ///< the kernel's timeout list
    ListNode all_node;              ///< list of every thread (ps)
    Tick wake_tick = 0;
    WaitQueue* waiting_on = nullptr;
    Status wait_status = Status::ok;
    uintptr_t wait_data = 0;  ///< per-object wait argument (event bits, message...)
    Mutex* blocked_on_mutex = nullptr;
    ListNode owned_mutexes;    ///< mutexes held, for priority inheritance
    uint64_t cpu_counter = 0;  ///< arch counter ticks spent running
    WaitQueue joiners;
};

namespace detail {
#if defined(CONFIG_RTOS_STACK_GUARD_PAGES)
inline constexpr std::size_t kStackGuardPage = kPageSize;
#else
inline constexpr std::size_t kStackGuardPage = 0;
#endif
/// With guard pages: a page-aligned guard page, then the stack.
template <std::size_t StackSize>
struct ThreadStack {
    alignas(kStackGuardPage ? kStackGuardPage : 16) uint8_t stack_[kStackGuardPage + StackSize];
};
}  // namespace detail

/// A thread that owns its stack: `StaticThread<4096> t; t.init(...)`.
/// The stack comes first in memory (base classes are laid out in order), so
/// a stack overflow runs away from the control block, not into it.
template <std::size_t StackSize>
class StaticThread : private detail::ThreadStack<StackSize>, public Thread {
public:
    static_assert(StackSize >= 1024, "thread stacks must be at least 1 KiB");
    Status init(const Params& params, Entry entry, void* arg) {
        return Thread::init_guarded(params, entry, arg, this->stack_ + detail::kStackGuardPage,
                                    StackSize, detail::kStackGuardPage ? this->stack_ : nullptr);
    }
    Status start(const Params& params, Entry entry, void* arg) {
        Status s = init(params, entry, arg);
        return s == Status::ok ? Thread::start() : s;
    }
    using Thread::start;
};

/// Work spread over every CPU (the shell's stress commands): creates
/// `count` threads from the heap (Thread::create) named `name`, at the
/// caller's priority, thread i pinned to CPU i modulo the CPUs online and
/// running entry(&args[i]). Stops at the first that cannot be created and
/// returns how many were: threads[0..n) for the caller to join.
template <typename Arg>
unsigned create_pinned(const char* name, Thread::Entry entry, Arg* args, unsigned count,
                       std::size_t stack_size, Thread** threads) {
    const unsigned priority = Thread::current()->priority();
    for (unsigned i = 0; i < count; ++i) {
        threads[i] = Thread::create(
            {.name = name, .priority = priority, .affinity = cpu_mask(i % smp::cpu_count())}, entry,
            &args[i], stack_size);
        if (!threads[i]) return i;
    }
    return count;
}

}  // namespace rtos
