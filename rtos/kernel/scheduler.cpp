// The scheduler: ready lists with an O(1) priority bitmap, the timeout list,
// the tick, and the context-switch decision, taken once and handed to the
// port (arch::switch_context).
//
// SMP (docs/smp.md): one set of ready lists for every CPU, under the kernel
// lock. A running thread stays on its ready list (on_cpu marks it, and no
// other CPU picks it); each CPU picks the highest-priority ready thread that
// is not running elsewhere and that its affinity allows here. A thread made
// ready goes to the CPU running the lowest-priority thread among those it
// may use, when it outranks that thread: so the N highest-priority ready
// threads are the ones running (with affinity masks: no CPU runs a thread
// while a higher-priority ready thread allowed there waits).
#include "scheduler.hpp"

#include <rtos/clock.hpp>
#include <rtos/critical.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>

#include "arch/port.hpp"
#if defined(CONFIG_RTOS_SMP)
#include "arch/tick_timer.hpp"
#endif
#include "ready_bitmap.hpp"
#include "timer_service.hpp"

namespace rtos::kernel {

#if defined(CONFIG_RTOS_SMP)
SpinLock kernel_spinlock;  // the kernel lock (kernel_lock.hpp; lock order in rtos/spinlock.hpp)
#endif

namespace {

// Everything below is under the kernel lock (with SMP off: interrupts masked).
List<Thread, &Thread::sched_node> ready_lists[kPriorityLevels];
ReadyBitmap<kPriorityLevels> ready_bitmap;
List<Thread, &Thread::timeout_node> timeout_list;  // ascending wake_tick
List<Thread, &Thread::all_node> thread_list;
List<Thread, &Thread::sched_node> zombie_list;  // detached heap threads to free

volatile Tick tick_count = 0;
#if defined(CONFIG_RTOS_SMP)
// The global tick: every CPU's timer interrupt may announce, and the tick
// count follows the counter (epoch: the boot CPU's timer start), so a CPU
// that idles tickless leaves the counting to the others.
arch::TickTimer global_ticker;
// The scheduler lock is per CPU (CpuLocal: it keeps the thread running
// there on its CPU), and so is a switch it holds back. Held from boot
// until the CPU starts its first thread (kernel_cpu_init).
inline uint32_t& sched_lock_depth() { return arch::this_cpu().sched_lock_depth; }
inline bool& switch_deferred() { return arch::this_cpu().switch_deferred; }
#else
// Held from boot until start(): before the scheduler runs, reschedule() only
// notes the wish (one check for both cases on the switch path).
unsigned sched_lock_depth_ = 1;
bool switch_deferred_ = false;
inline unsigned& sched_lock_depth() { return sched_lock_depth_; }
inline bool& switch_deferred() { return switch_deferred_; }
#endif
bool is_started = false;

#if defined(CONFIG_RTOS_SMP)
StaticThread<CONFIG_RTOS_IDLE_STACK_SIZE> idle_threads[kMaxCpus];
#define idle_thread (idle_threads[0])
constexpr unsigned kNoPriority = kPriorityLevels;
#else
StaticThread<CONFIG_RTOS_IDLE_STACK_SIZE> idle_thread;
#endif

constexpr uint64_t kStackFillWord = kStackFill * 0x0101010101010101ull;

void reap_zombies();
void check_all_stacks();
Tick next_due_tick();

void idle_entry(void*) {
    for (;;) {
        reap_zombies();
        check_all_stacks();
        // Masked from here to the wait: nothing can become due unseen. The
        // CPU wakes from a pending interrupt though masked; it is taken when
        // the lock ends.
        IrqLock lock;
#if defined(CONFIG_RTOS_TICKLESS)
#if defined(CONFIG_RTOS_SMP)
        // Another CPU that adds an earlier timeout meanwhile is running, so
        // its own tick sees it; one that makes a thread ready for this CPU
        // interrupts it.
        lock_kernel();
        Tick ticks = next_due_tick() - tick_count;
        unlock_kernel();
        arch::timer_idle(ticks);
#else
        arch::timer_idle(next_due_tick() - tick_count);
#endif
#endif
        arch::wait_for_interrupt();
    }
}

uintptr_t stack_limit_of(const Thread* t) {
    return reinterpret_cast<uintptr_t>(t->stack_base) + kGuardBytes;
}

#if defined(CONFIG_RTOS_SMP)
// The best ready thread CPU `cpu` may run: the first, in priority order, that
// runs on no other CPU and whose affinity allows this one. The CPU's idle
// thread (pinned to it, always ready) ends the search.
Thread* pick_smp(unsigned cpu) {
    const CpuMask me = cpu_mask(cpu);
    for (unsigned p = ready_bitmap.highest(); p < kPriorityLevels; p = ready_bitmap.next(p)) {
        for (Thread* t = ready_lists[p].front(); t; t = ready_lists[p].next(t)) {
            if ((t->on_cpu && t->run_cpu != cpu) || !(t->cpu_affinity & me)) continue;
            return t;
        }
    }
    return static_cast<Thread*>(arch::cpu_local(cpu).idle);  // not reached: idle is ready
}
#endif

Thread* pick_next() {
#if defined(CONFIG_RTOS_SMP)
    // One CPU running: the front of the highest list is the answer (nothing
    // runs elsewhere; affinity masks hold only online CPUs, so CPU 0).
    if (smp::active()) return pick_smp(arch::this_cpu().id);
#endif
    return ready_lists[ready_bitmap.highest()].front();
}

#if defined(CONFIG_RTOS_SMP)
void place(Thread* t, unsigned exclude);

// The pick of this CPU, whatever was requested of it: requests end here.
inline Thread* repick(arch::CpuLocal& cpu) {
    cpu.switch_pending = 0;
    if (smp::active()) cpu.pending_prio = kNoPriority;
    return pick_next();
}
#else
inline Thread* repick(arch::CpuLocal&) { return pick_next(); }
#endif

// The one way threads change: `cur` (the running thread, or one that just
// blocked or exited) hands the CPU to `next`. Interrupts masked. The running
// thread's run_state stays `ready` (it is on its ready list); "running" is
// "ready and current" (Thread::state()), so a switch writes no states.
// SMP: under the kernel lock, which `next` releases when it resumes.
// The part every switch shares: the cheap stack check, CPU time, the
// port's switch. `bookkeeping` runs in between with several CPUs.
template <typename F>
[[gnu::always_inline]] inline void switch_common(Thread* cur, Thread* next, F bookkeeping) {
    auto& cpu = arch::this_cpu();
#if defined(CONFIG_RTOS_STACK_GUARD_CHECK)
    // The cheap check at switch-out: the stack pointer above the guard band
    // and the band's bottom word intact (idle and `ps` read the whole band).
    // cpu.stack_limit is cur's stack base plus the band.
    uintptr_t sp = arch::stack_pointer();
    uintptr_t limit = cpu.stack_limit;
    if (sp < limit || *reinterpret_cast<const uint64_t*>(limit - kGuardBytes) != kStackFillWord)
        stack_overflow_locked(cur, reinterpret_cast<const void*>(sp));
#endif
    uint64_t now = arch::counter_read();
    cur->cpu_counter += now - cpu.switch_time;
    bookkeeping(cpu, now);
    cpu.switch_time = now;
    cpu.current = next;
    cpu.stack_limit = stack_limit_of(next);
    arch::switch_context(&cur->sp, next->sp);
}

#if defined(CONFIG_RTOS_SMP)
// With several CPUs: which thread runs where, the CPU's counters, and the
// thread switched out if it is still ready: another CPU running something
// lower may take it, once its context is saved (the kernel lock holds that
// CPU back until this switch is complete). Out of line, so the single-CPU
// switch stays as short as with SMP off.
[[gnu::noinline]] void switch_multi(Thread* cur, Thread* next) {
    switch_common(cur, next, [&](arch::CpuLocal& cpu, uint64_t now) {
        if (cur != cpu.idle) cpu.busy += now - cpu.switch_time;
        ++cpu.switches;
        cur->on_cpu = false;
        next->on_cpu = true;
        next->run_cpu = static_cast<uint8_t>(cpu.id);
        if (cur->run_state == ThreadState::ready && cur != cpu.idle) place(cur, cpu.id);
    });
}
#endif

void switch_to(Thread* cur, Thread* next) {
#if defined(CONFIG_RTOS_SMP)
    if (smp::active()) {
        switch_multi(cur, next);
        return;
    }
#endif
    switch_common(cur, next, [](arch::CpuLocal&, uint64_t) {});
}

}  // namespace

bool started() { return is_started; }
List<Thread, &Thread::all_node>& all_threads() { return thread_list; }

#if defined(CONFIG_RTOS_SMP)
namespace {

// Under the kernel lock: the IPI itself goes out when this CPU drops it.
void send_reason(unsigned cpu, uint32_t reason) {
    __atomic_fetch_or(&arch::cpu_local(cpu).ipi_reasons, reason, __ATOMIC_RELEASE);
    arch::this_cpu().ipi_defer |= cpu_mask(cpu);
}

// Priority CPU `c` is busy with, for placing a thread: its running thread's,
// or better when an IPI already asked it to run something better.
inline unsigned busy_priority(const arch::CpuLocal& c) {
    unsigned p = static_cast<const Thread*>(c.current)->prio;
    return c.pending_prio < p ? c.pending_prio : p;
}

// Finds the CPU `t` (ready, not running) should preempt, if any: among the
// online CPUs its affinity allows (but `exclude`), the one busy with the
// lowest priority; this CPU on a tie (no IPI), else the CPU t last ran on.
// t goes there when it outranks that priority.
void place(Thread* t, unsigned exclude) {
    auto& self = arch::this_cpu();
    unsigned best = kMaxCpus, best_prio = 0;
    for (unsigned c = 0; c < kMaxCpus; ++c) {
        auto& cl = arch::cpu_local(c);
        if (c == exclude || !cl.online || !(t->cpu_affinity & cpu_mask(c))) continue;
        unsigned p = busy_priority(cl);
        bool better = best == kMaxCpus || p > best_prio ||
                      (p == best_prio && (c == self.id || (c == t->run_cpu && best != self.id)));
        if (better) {
            best = c;
            best_prio = p;
        }
    }
    if (best == kMaxCpus || t->prio >= best_prio) return;
    auto& target = arch::cpu_local(best);
    if (t->prio < target.pending_prio) target.pending_prio = t->prio;
    if (best == self.id) self.switch_pending = 1;
    else send_reason(best, arch::kIpiReschedule);
}

}  // namespace

void send_deferred_ipis() {
    auto& self = arch::this_cpu();
    CpuMask m = self.ipi_defer;
    self.ipi_defer = 0;
    for (unsigned c = 0; m; ++c, m >>= 1)
        if (m & 1) arch::send_ipi(c);
}

void request_switch(unsigned cpu) {
    auto& self = arch::this_cpu();
    if (cpu == self.id) self.switch_pending = 1;
    else send_reason(cpu, arch::kIpiReschedule);
}
#else
void request_switch(unsigned) { arch::this_cpu().switch_pending = 1; }
#endif

void make_ready(Thread* t) {
    t->run_state = ThreadState::ready;
    ready_lists[t->prio].push_back(t);
    ready_bitmap.set(t->prio);
#if defined(CONFIG_RTOS_SMP)
    if (smp::active()) {
        // Made ready while still running (resumed before its CPU took the
        // suspension's IPI): that CPU picks again anyway.
        if (!t->on_cpu) place(t, kMaxCpus);
        return;
    }
#endif
    // In a trap, the outermost exit decides (reschedule() in thread context).
    arch::this_cpu().switch_pending = 1;
}

void make_unready(Thread* t) {
    List<Thread, &Thread::sched_node>::remove(t);
    if (ready_lists[t->prio].empty()) ready_bitmap.clear(t->prio);
}

namespace {
inline void reschedule_inline() {
    auto& cpu = arch::this_cpu();
    if (cpu.trap_depth != 0) {
        // The trap exit decides (with several CPUs, placing the thread
        // asked the right one already).
        if (!smp::active()) cpu.switch_pending = 1;
        return;
    }
    // Several CPUs: placing a thread asked this CPU to switch, or nothing
    // did and there is nothing to do. Alone: as with SMP off.
    if (smp::active() && !cpu.switch_pending) return;
    if (sched_lock_depth() > 0) {
        switch_deferred() = true;
        return;
    }
#if defined(CONFIG_RTOS_SMP)
    Thread* cur = current();
    Thread* next = repick(cpu);
#else
    cpu.switch_pending = 0;
    Thread* cur = current();
    Thread* next = pick_next();
#endif
    if (next != cur) switch_to(cur, next);
}

inline void rotate_current_inline() {
    Thread* cur = current();
    auto& list = ready_lists[cur->prio];
#if defined(CONFIG_RTOS_SMP)
    // The threads in front of it may be running elsewhere: behind every
    // equal it goes (the pick skips those that run).
    if (smp::active()) {
        if (cur->run_state == ThreadState::ready && list.back() != cur) {
            List<Thread, &Thread::sched_node>::remove(cur);
            list.push_back(cur);
        }
        cur->slice_left = cur->timeslice;
        return;
    }
#endif
    if (cur->run_state == ThreadState::ready && list.front() == cur && list.back() != cur) {
        List<Thread, &Thread::sched_node>::remove(cur);
        list.push_back(cur);
    }
    cur->slice_left = cur->timeslice;
}
}  // namespace

void reschedule() { reschedule_inline(); }
void rotate_current() { rotate_current_inline(); }

}  // namespace rtos::kernel

#if defined(CONFIG_RTOS_SMP)
namespace rtos::kernel {
namespace {
// Several CPUs: the threads in front may run elsewhere, so the pick decides.
[[gnu::noinline]] void yield_multi() {
    KernelLock lock;
    rotate_current_inline();
    arch::this_cpu().switch_pending = 1;
    reschedule_inline();
}
}  // namespace
}  // namespace rtos::kernel
#endif

// Here rather than in thread.cpp: the whole yield path inlines into it.
void rtos::Thread::yield() {
    using namespace kernel;
#if defined(CONFIG_RTOS_SMP)
    if (smp::active()) {
        yield_multi();
        return;
    }
#endif
    KernelLock lock;
    auto& cpu = arch::this_cpu();
    Thread* cur = static_cast<Thread*>(cpu.current);  // kernel::current(), read once
    auto& list = ready_lists[cur->prio];
    // Fast path. In thread context with the scheduler unlocked the running
    // thread is the first of the highest ready priority (anything that
    // readies a higher thread switches at once), so the next thread is the
    // one behind it, or none.
    if (cpu.trap_depth == 0 && sched_lock_depth() == 0 && list.is_front(cur)) {
        cur->slice_left = cur->timeslice;
        Thread* next = list.next(cur);
        if (!next) return;
        List<Thread, &Thread::sched_node>::remove(cur);
        list.push_back(cur);
        cpu.switch_pending = 0;
        switch_to(cur, next);
        return;
    }
    rotate_current_inline();
#if defined(CONFIG_RTOS_SMP)
    cpu.switch_pending = 1;
#endif
    reschedule_inline();
}

namespace rtos::kernel {

Status block_current(WaitQueue* wq, Timeout timeout, ThreadState state) {
    // No wait is an answer, not a block: fine in any context.
    if (timeout.is_none()) return Status::timeout;
    auto& cpu = arch::this_cpu();
    if (cpu.trap_depth != 0) panic("blocking call from an interrupt handler");
    if (sched_lock_depth() > 0) panic("blocking call with the scheduler locked");
    Thread* cur = current();
    make_unready(cur);
    cur->run_state = state;
    cur->wait_status = Status::ok;
    cur->waiting_on = wq;
    if (wq) wq->insert(cur);
    // A finite wait so long that the wake-up tick would wrap is a wait forever.
    if (!timeout.is_forever() && timeout.count() <= ~Tick{0} - tick_count) {
        cur->wake_tick = tick_count + timeout.count();
        timeout_list.insert_sorted(
            cur, [](const Thread* a, const Thread* b) { return a->wake_tick < b->wake_tick; });
    }
    switch_to(cur, repick(cpu));
    return cur->wait_status;
}

void switch_away() {
    Thread* cur = current();
    switch_to(cur, repick(arch::this_cpu()));
}

void wake(Thread* t, Status status) {
    if (t->waiting_on) {
        t->waiting_on->remove(t);
        t->waiting_on = nullptr;
    }
    t->timeout_node.unlink();
    t->wait_status = status;
    if (t->suspend_pending) {
        t->suspend_pending = false;
        t->run_state = ThreadState::suspended;
        return;
    }
    make_ready(t);
}

void set_effective_priority(Thread* t, unsigned prio) {
    if (t->prio == prio) return;
    bool on_ready_list = t->run_state == ThreadState::ready;
    if (on_ready_list) {
        bool was_front = ready_lists[t->prio].front() == t;
#if defined(CONFIG_RTOS_SMP)
        bool running = smp::active() ? t->on_cpu : t == current();
        bool lowered = prio > t->prio;
#else
        bool running = t == current();
#endif
        make_unready(t);
        t->prio = prio;
        // The running thread keeps the CPU among its new equals.
        if (running && was_front) ready_lists[prio].push_front(t);
        else ready_lists[prio].push_back(t);
        ready_bitmap.set(prio);
#if defined(CONFIG_RTOS_SMP)
        // Running and lowered: its CPU may have better now. Waiting and
        // raised: it may outrank a running thread now. (Alone: reschedule()
        // picks again anyway.)
        if (smp::active()) {
            if (running && lowered) request_switch(t->run_cpu);
            else if (!running && !lowered) place(t, kMaxCpus);
        }
#endif
    } else {
        t->prio = prio;
        if (t->waiting_on) t->waiting_on->reposition(t);
    }
}

#if defined(CONFIG_RTOS_SMP)
// Per CPU: the switch a locked scheduler holds back is this CPU's.
void defer_switches_begin() { ++sched_lock_depth(); }
void defer_switches_end() {
    --sched_lock_depth();  // block_current() follows and picks the best thread anyway
    switch_deferred() = false;
}

void scheduler_lock() {
    IrqLock lock;  // per CPU: the depth is this CPU's
    ++sched_lock_depth();
}

void scheduler_unlock() {
    KernelLock lock;
    RTOS_ASSERT(sched_lock_depth() > 0);
    if (--sched_lock_depth() == 0) {
        // Not only switches requested by threads (switch_deferred): an
        // interrupt may have asked for one while the lock held the trap
        // exit back (which forgot it), so this CPU picks again.
        switch_deferred() = false;
        arch::this_cpu().switch_pending = 1;
        reschedule();
    }
}

bool scheduler_locked() {
    IrqLock lock;
    return is_started && sched_lock_depth() > 0;
}
}  // namespace rtos::kernel

// The last SpinLock this CPU held is dropped and a thread woken meanwhile
// may outrank the running one: pick again (as scheduler_unlock()).
void rtos::smp::switch_held_back() {
    using namespace kernel;
    KernelLock lock;
    if (sched_lock_depth() != 0 || !switch_deferred()) return;
    switch_deferred() = false;
    arch::this_cpu().switch_pending = 1;
    reschedule();
}

namespace rtos::kernel {
#else
void defer_switches_begin() { ++sched_lock_depth(); }
void defer_switches_end() {
    --sched_lock_depth();  // block_current() follows and picks the best thread anyway
    switch_deferred() = false;
}

void scheduler_lock() {
    IrqLock lock;
    ++sched_lock_depth();
}

void scheduler_unlock() {
    IrqLock lock;
    RTOS_ASSERT(sched_lock_depth() > 0);
    if (--sched_lock_depth() == 0) {
        // Not only switches requested by threads (switch_deferred): an
        // interrupt may have readied a higher thread while the lock held the
        // trap exit back, and nothing else would switch before the next tick.
        switch_deferred() = false;
        reschedule();
    }
}

bool scheduler_locked() { return is_started && sched_lock_depth() > 0; }
#endif

void register_thread(Thread* t) {
    KernelLock lock;
    // init() may run again on a thread that is still listed (set up twice
    // before start, or ended without join): linking it twice would corrupt
    // the list.
    t->all_node.unlink();
    thread_list.push_back(t);
}

void unregister_thread(Thread* t) {
    KernelLock lock;
    t->all_node.unlink();
}

void prepare_stack(uint8_t* base, std::size_t size) {
    for (std::size_t i = 0; i < size; ++i) base[i] = kStackFill;
}

bool stack_guard_broken(const Thread* t) {
    const auto* guard = reinterpret_cast<const uint64_t*>(t->stack_base);
    for (std::size_t i = 0; i < kGuardBytes / sizeof(uint64_t); ++i)
        if (guard[i] != kStackFillWord) return true;
    return false;
}

namespace {

// A stack overflow is reported from a stack of its own: the overflowed one,
// and whatever lies below it, is no place to run the panic path on. One
// CPU at a time: the first to claim the panic (panic_claim) reports, a
// second one stops.
alignas(16) uint8_t overflow_report_stack[4096];
Thread overflow_reporter;
struct {
    const char* name;
    const uint8_t* low;
    const uint8_t* high;
    const void* sp;
    const void* frame;
} overflow;

[[noreturn]] void report_overflow(void*) {
    panic_with_frame(overflow.frame, "stack overflow in thread '%s' (stack %p..%p, sp %p)",
                     overflow.name, static_cast<const void*>(overflow.low),
                     static_cast<const void*>(overflow.high), overflow.sp);
}

void report_returned() { arch::fail_exit(); }

}  // namespace

void stack_overflow_locked(Thread* t, const void* sp) {
    arch::irq_save();
#if defined(CONFIG_RTOS_SMP)
    // The report never gives the lock back: another CPU spinning on it with
    // interrupts masked would never take the panic's stop IPI (nor print its
    // state). Dropped, it gets the lock, and the IPI once it unmasks.
    if (smp::active()) kernel_spinlock.unlock_always();
#endif
    stack_overflow(t, sp, nullptr);
}

void stack_overflow(Thread* t, const void* sp, const void* frame, bool frame_readable) {
    arch::irq_save();
#if defined(CONFIG_RTOS_SMP)
    if (!panic_claim()) panic_stop_this_cpu();  // another CPU is panicking already
#endif
    const uint8_t* high = t->stack_base + t->stack_bytes;
    // The victim's registers are worth printing when its frame is plausibly
    // readable: inside the stack or just below it.
    auto* f = static_cast<const uint8_t*>(frame);
    bool frame_ok = f && (frame_readable || (f < high && f + 4096 > t->stack_base));
    overflow = {t->thread_name, t->stack_base, high, sp, frame_ok ? frame : nullptr};
    Thread& r = overflow_reporter;
    r.thread_name = t->thread_name;  // panic's "thread:" line names the victim
    r.stack_base = overflow_report_stack;
    r.stack_bytes = sizeof(overflow_report_stack);
    prepare_stack(overflow_report_stack, sizeof(overflow_report_stack));
    r.prio = r.base_prio = 0;
    r.run_state = ThreadState::ready;
    // Nothing else runs before the panic ends the system.
    ++sched_lock_depth();
    auto& cpu = arch::this_cpu();
    cpu.current = &r;
    cpu.stack_limit = stack_limit_of(&r);
    cpu.trap_depth = 0;
    // Entered without saving anything on the overflowed stack: a switch
    // frame pushed there can land below it (in the guard page on aarch64).
    arch::start_first_thread(arch::init_stack(overflow_report_stack + sizeof(overflow_report_stack),
                                              report_overflow, nullptr, report_returned));
}

namespace {
[[gnu::noinline]] void wake_timed_out(Tick now) {
    while (Thread* t = timeout_list.front()) {
        if (t->wake_tick > now) break;
        wake(t, Status::timeout);
    }
}
}  // namespace

// The tick with one CPU: `n` periods elapsed.
[[gnu::always_inline]] inline void announce_alone(uint64_t n, arch::CpuLocal& cpu) {
    Tick now = tick_count + n;
    tick_count = now;
    // Out of line: a tick that wakes nobody stays a short leaf-like path.
    if (Thread* t = timeout_list.front(); t && t->wake_tick <= now) wake_timed_out(now);
    Thread* cur = current();
    if (cur && cur->run_state == ThreadState::ready && cur != &idle_thread && cur->slice_left > 0) {
        if (cur->slice_left <= n) {
            cur->slice_left = 0;
            rotate_current();
            cpu.switch_pending = 1;
        } else {
            cur->slice_left -= static_cast<unsigned>(n);
        }
    }
    timer_service_tick_from_isr(now);
}

#if defined(CONFIG_RTOS_SMP)
// Each CPU's timer interrupt: `n` periods of its own timer elapsed (its
// running thread's slice); the global tick count follows the counter, so
// the first CPU to see a global boundary counts it and the others count
// nothing. The CPUs' timers are staggered (arch::timer_start_cpu), so
// usually one of them finds a boundary to count and the others take the
// fast path, without the kernel lock: nothing global due, and a slice that
// goes on (the running thread's slice is this CPU's alone, with interrupts
// masked).
void announce_ticks(uint64_t n) {
    auto& cpu = arch::this_cpu();
    if (!smp::active()) {  // alone: as with SMP off
        announce_alone(n, cpu);
        return;
    }
    cpu.local_ticks += n;
    Thread* cur = current();
    const bool slice_ends = cur != cpu.idle && cur->slice_left > 0 && cur->slice_left <= n;
    // A stale read of the global boundary only sends us the slow way.
    if (!slice_ends && arch::counter_read() < global_ticker.next()) {
        if (cur != cpu.idle && cur->slice_left > 0) cur->slice_left -= static_cast<unsigned>(n);
        return;
    }
    KernelLock lock;
    if (uint64_t g = global_ticker.advance(arch::counter_read())) {
        Tick now = tick_count + g;
        tick_count = now;
        if (Thread* t = timeout_list.front(); t && t->wake_tick <= now) wake_timed_out(now);
        timer_service_tick_from_isr(now);
    }
    if (cur->run_state == ThreadState::ready && cur != cpu.idle && cur->slice_left > 0) {
        if (cur->slice_left <= n) {
            cur->slice_left = 0;
            rotate_current();
            cpu.switch_pending = 1;
        } else {
            cur->slice_left -= static_cast<unsigned>(n);
        }
    }
}
#else
void announce_ticks(uint64_t n) { announce_alone(n, arch::this_cpu()); }
#endif

namespace {
// The idle thread of a CPU: lowest priority, pinned to it (SMP).
void init_idle(Thread& idle, unsigned cpu) {
#if defined(CONFIG_RTOS_SMP)
    static const char* const names[] = {"idle0", "idle1", "idle2", "idle3",
                                        "idle4", "idle5", "idle6", "idle7"};
    static_assert(sizeof(names) / sizeof(names[0]) >= kMaxCpus);
    static_cast<StaticThread<CONFIG_RTOS_IDLE_STACK_SIZE>&>(idle).init(
        {.name = names[cpu], .priority = kIdlePriority, .timeslice = 0, .affinity = cpu_mask(cpu)},
        idle_entry, nullptr);
    arch::cpu_local(cpu).idle = &idle;
#else
    (void)cpu;
    static_cast<StaticThread<CONFIG_RTOS_IDLE_STACK_SIZE>&>(idle).init(
        {.name = "idle", .priority = kIdlePriority, .timeslice = 0}, idle_entry, nullptr);
#endif
    idle.start();
}
}  // namespace

[[noreturn]] void start(Thread* first) {
    init_idle(idle_thread, 0);
    arch::irq_save();
    make_unready(first);
    first->run_state = ThreadState::ready;
    ready_lists[first->prio].push_front(first);
    ready_bitmap.set(first->prio);
    auto& cpu = arch::this_cpu();
    cpu.current = first;
    cpu.stack_limit = stack_limit_of(first);
    cpu.switch_pending = 0;
    sched_lock_depth() = 0;
    switch_deferred() = false;
    is_started = true;
#if defined(CONFIG_RTOS_SMP)
    first->on_cpu = true;
    first->run_cpu = 0;
    cpu.online = true;
    global_ticker.start(arch::counter_read(), arch::counter_frequency() / CONFIG_RTOS_TICK_HZ);
#endif
    cpu.switch_time = arch::counter_read();
    arch::timer_start(CONFIG_RTOS_TICK_HZ);
    printk("tick: %u Hz via %s%s\n", CONFIG_RTOS_TICK_HZ, arch::timer_source(),
#if defined(CONFIG_RTOS_TICKLESS)
           ", tickless idle"
#else
           ""
#endif
    );
    // SMP: the first thread's start path releases the kernel lock (one CPU
    // so far: a no-op, but the pairing is the same as everywhere).
    lock_kernel();
    arch::start_first_thread(first->sp);
}

#if defined(CONFIG_RTOS_SMP)
Thread& idle_thread_of(unsigned cpu) { return idle_threads[cpu]; }

void begin_multi() {
    // Which thread runs (only the boot CPU's, this one), CPU time so far.
    auto& cpu = arch::this_cpu();
    Thread* cur = current();
    uint64_t now = arch::counter_read();
    for_each_thread([&](Thread* t) {
        t->on_cpu = t == cur;
        t->run_cpu = 0;
        if (t != cpu.idle) cpu.busy += t->cpu_counter;
    });
    cpu.busy += now - cpu.switch_time;
    // The global tick goes on from the count the single-CPU tick reached.
    global_ticker.resume_at(tick_count);
}

void boot_cpu_init() {
    auto& cpu = arch::cpu_local(0);
    cpu.id = 0;
    cpu.hw_id = arch::boot_cpu_hw_id();
    cpu.pending_prio = kNoPriority;
    cpu.sched_lock_depth = 1;  // until start()
}

void prepare_cpu(unsigned id, uint64_t hw_id) {
    auto& cpu = arch::cpu_local(id);
    cpu.id = id;
    cpu.hw_id = hw_id;
    cpu.pending_prio = kNoPriority;
    cpu.sched_lock_depth = 1;         // until its first thread runs
    init_idle(idle_threads[id], id);  // ready, not placed: the CPU is not online yet
}

// Kernel side of a secondary CPU's start (smp.cpp), on that CPU with
// interrupts masked: the best thread it may run (its idle thread at least).
[[noreturn]] void enter_cpu() {
    auto& cpu = arch::this_cpu();
    lock_kernel();
    Thread* first = pick_smp(cpu.id);
    cpu.current = first;
    cpu.stack_limit = stack_limit_of(first);
    cpu.switch_pending = 0;
    cpu.sched_lock_depth = 0;
    first->on_cpu = true;
    first->run_cpu = static_cast<uint8_t>(cpu.id);
    cpu.switch_time = arch::counter_read();
    // Online from here: other CPUs place threads here (under the lock).
    __atomic_store_n(&cpu.online, true, __ATOMIC_RELEASE);
    arch::start_first_thread(first->sp);  // its start path releases the kernel lock
}
#endif

namespace {
void reap_zombies() {
    for (;;) {
        Thread* t;
        {
            KernelLock lock;
            t = zombie_list.pop_front();
        }
        if (!t) return;
        thread_release_memory(t);
    }
}

// The full guard-band scan, off the switch path: idle runs it whenever it
// gets the CPU (`ps` too).
void check_all_stacks() {
#if defined(CONFIG_RTOS_STACK_GUARD_CHECK)
    KernelLock lock;
    for_each_thread([](Thread* t) {
        if (t->run_state != ThreadState::exited && t->stack_base && stack_guard_broken(t))
            stack_overflow_locked(t, t->sp);
    });
#endif
}

// The tick at which something next needs the kernel: a timeout or a
// software timer, and at least once a second (an idle period's length
// stays well inside every counter and multiplication range).
[[maybe_unused]] Tick next_due_tick() {
    Tick due = tick_count + CONFIG_RTOS_TICK_HZ;
    if (Tick t = timer_service_next_due(); t < due) due = t;
    if (Thread* t = timeout_list.front(); t && t->wake_tick < due) due = t->wake_tick;
    return due <= tick_count ? tick_count + 1 : due;
}
}  // namespace

void add_zombie(Thread* t) { zombie_list.push_back(t); }

namespace {
// Lock story: written under the kernel lock, read by the software
// interrupt of any CPU (a stale read sees the previous hook, harmless for
// the tests that install it before raising).
void (*volatile soft_hook)(void*) = nullptr;
void* volatile soft_hook_arg = nullptr;
}  // namespace

void set_soft_interrupt_hook(void (*hook)(void*), void* arg) {
    KernelLock lock;
    soft_hook = hook;
    soft_hook_arg = arg;
}

#if defined(CONFIG_RTOS_SMP)
namespace {
[[gnu::always_inline]] inline void run_soft_hook() {
    if (auto hook = soft_hook) hook(soft_hook_arg);
}

[[gnu::always_inline]] inline void run_soft_pending(arch::CpuLocal& cpu) {
    if (cpu.soft_pending) {
        cpu.soft_pending = false;
        run_soft_hook();
    }
}

// The reasons other CPUs left (IPIs), out of line: the software interrupt a
// CPU raises on itself (irq::raise_soft, Thread-Metric's interrupt tests)
// takes a leaf path that tail-calls the hook.
[[gnu::noinline]] void ipi_reasons_from_isr(arch::CpuLocal& cpu) {
    uint32_t reasons = __atomic_exchange_n(&cpu.ipi_reasons, 0, __ATOMIC_ACQUIRE);
    ++cpu.ipis;
    if (reasons & arch::kIpiStop) panic_stop_this_cpu();
    if (reasons & arch::kIpiReschedule) cpu.switch_pending = 1;  // the trap exit picks again
    if (reasons & arch::kIpiCall) {
        void (*fn)(void*) = cpu.call_fn;
        void* arg = cpu.call_arg;
        __atomic_store_n(&cpu.call_fn, nullptr, __ATOMIC_RELEASE);  // the slot is free again
        if (fn) fn(arg);
    }
    run_soft_pending(cpu);
}
}  // namespace

// This CPU's software interrupt: the reasons other CPUs left in its
// CpuLocal, and the one it raised itself (raise_soft_interrupt). A reason
// set after the load below comes with an interrupt of its own (the sender
// sets it before it sends), so a zero needs no exchange (a plain load: it
// is one instruction where the relaxed atomic load is two).
void soft_interrupt_from_isr() {
    auto& cpu = arch::this_cpu();
    if (*static_cast<volatile uint32_t*>(&cpu.ipi_reasons)) [[unlikely]]
        return ipi_reasons_from_isr(cpu);
    run_soft_pending(cpu);
}
#else
void soft_interrupt_from_isr() {
    if (soft_hook) soft_hook(soft_hook_arg);
}
#endif
uint64_t last_switch_time() { return arch::this_cpu().switch_time; }

#if defined(CONFIG_RTOS_SMP)
Tick cpu_ticks() {
    if (!smp::active()) return tick_count;  // alone: its ticks are the ticks
    IrqLock lock;
    return arch::this_cpu().local_ticks;
}
#else
Tick cpu_ticks() { return tick_count; }
#endif

}  // namespace rtos::kernel

namespace rtos::clock {

Tick ticks() { return kernel::tick_count; }

uint64_t now_ns() {
    uint64_t c = arch::counter_read();
    uint64_t f = arch::counter_frequency();
    return c / f * 1000000000ull + c % f * 1000000000ull / f;
}

}  // namespace rtos::clock

// Outermost trap exit with switch_pending set, interrupts masked.
extern "C" void rtos_kernel_preempt() {
    using namespace rtos;
    using namespace rtos::kernel;
    arch::this_cpu().switch_pending = 0;
    if (!is_started) return;
#if defined(CONFIG_RTOS_SMP)
    lock_kernel();
    auto& cpu = arch::this_cpu();
    Thread* cur = current();
    // A scheduler lock or a SpinLock holds the running thread: the switch
    // is held back, not forgotten, and made when the CPU's last one is
    // dropped (scheduler_unlock(), smp::switch_held_back()).
    if (sched_lock_depth() > 0 && cur->run_state == ThreadState::ready) {
        switch_deferred() = true;
        unlock_kernel();
        return;
    }
    Thread* next = repick(cpu);
    if (next != cur) switch_to(cur, next);
    unlock_kernel();  // whoever resumes here releases what the switcher took
#else
    Thread* cur = current();
    // The lock holds the running thread; scheduler_unlock() reschedules.
    if (sched_lock_depth() > 0 && cur->run_state == ThreadState::ready) return;
    Thread* next = pick_next();
    if (next != cur) switch_to(cur, next);
#endif
}

#if defined(CONFIG_RTOS_SMP)
// A new thread's first instructions (the port's thread start, before it
// unmasks interrupts): the kernel lock its switcher took is released here.
// The stack-overflow reporter starts from a switch made without it.
extern "C" void rtos_kernel_thread_entry() {
    using namespace rtos::kernel;
    if (current() != &overflow_reporter) unlock_kernel();
}
#endif

extern "C" void rtos_kernel_stack_overflow(void* frame) {
    using namespace rtos::kernel;
    stack_overflow(current(), frame, frame);
}

#if defined(CONFIG_RTOS_STACK_GUARD_PAGES)
extern "C" void rtos_kernel_stack_guard_fault(void* frame, const void* addr) {
    using namespace rtos::kernel;
    stack_overflow(current(), addr, frame, true);
}
#endif
