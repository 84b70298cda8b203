// The scheduler: ready lists with an O(1) priority bitmap, the timeout list,
// the tick, and the context-switch decision, taken once and handed to the
// port (arch::switch_context).
#include "scheduler.hpp"

#include <rtos/clock.hpp>
#include <rtos/critical.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>

#include "arch/port.hpp"
#include "ready_bitmap.hpp"
#include "timer_service.hpp"

namespace rtos::kernel {
namespace {

List<Thread, &Thread::sched_node> ready_lists[kPriorityLevels];
ReadyBitmap<kPriorityLevels> ready_bitmap;
List<Thread, &Thread::timeout_node> timeout_list;  // ascending wake_tick
List<Thread, &Thread::all_node> thread_list;
List<Thread, &Thread::sched_node> zombie_list;  // detached heap threads to free

volatile Tick tick_count = 0;
// Held from boot until start(): before the scheduler runs, reschedule() only
// notes the wish (one check for both cases on the switch path).
unsigned sched_lock_depth = 1;
bool switch_deferred = false;
bool is_started = false;

StaticThread<CONFIG_RTOS_IDLE_STACK_SIZE> idle_thread;

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
        arch::timer_idle(next_due_tick() - tick_count);
#endif
        arch::wait_for_interrupt();
    }
}

uintptr_t stack_limit_of(const Thread* t) {
    return reinterpret_cast<uintptr_t>(t->stack_base) + kGuardBytes;
}

Thread* pick_next() { return ready_lists[ready_bitmap.highest()].front(); }

// The one way threads change: `cur` (the running thread, or one that just
// blocked or exited) hands the CPU to `next`. Interrupts masked. The running
// thread's run_state stays `ready` (it is on its ready list); "running" is
// "ready and current" (Thread::state()), so a switch writes no states.
void switch_to(Thread* cur, Thread* next) {
    auto& cpu = arch::this_cpu();
#if defined(CONFIG_RTOS_STACK_GUARD_CHECK)
    // The cheap check at switch-out: the stack pointer above the guard band
    // and the band's bottom word intact (idle and `ps` read the whole band).
    // cpu.stack_limit is cur's stack base plus the band.
    uintptr_t sp = arch::stack_pointer();
    uintptr_t limit = cpu.stack_limit;
    if (sp < limit || *reinterpret_cast<const uint64_t*>(limit - kGuardBytes) != kStackFillWord)
        stack_overflow(cur, reinterpret_cast<const void*>(sp), nullptr);
#endif
    uint64_t now = arch::counter_read();
    cur->cpu_counter += now - cpu.switch_time;
    cpu.switch_time = now;
    cpu.current = next;
    cpu.stack_limit = stack_limit_of(next);
    arch::switch_context(&cur->sp, next->sp);
}

}  // namespace

bool started() { return is_started; }
List<Thread, &Thread::all_node>& all_threads() { return thread_list; }

void make_ready(Thread* t) {
    t->run_state = ThreadState::ready;
    ready_lists[t->prio].push_back(t);
    ready_bitmap.set(t->prio);
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
        cpu.switch_pending = 1;  // the trap exit decides
        return;
    }
    if (sched_lock_depth > 0) {
        switch_deferred = true;
        return;
    }
    cpu.switch_pending = 0;
    Thread* cur = current();
    Thread* next = pick_next();
    if (next != cur) switch_to(cur, next);
}

inline void rotate_current_inline() {
    Thread* cur = current();
    auto& list = ready_lists[cur->prio];
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

// Here rather than in thread.cpp: the whole yield path inlines into it.
void rtos::Thread::yield() {
    using namespace kernel;
    IrqLock lock;
    auto& cpu = arch::this_cpu();
    Thread* cur = kernel::current();  // not Thread::current(): that one is out of line
    auto& list = ready_lists[cur->prio];
    // Fast path. In thread context with the scheduler unlocked the running
    // thread is the first of the highest ready priority (anything that
    // readies a higher thread switches at once), so the next thread is the
    // one behind it, or none.
    if (cpu.trap_depth == 0 && sched_lock_depth == 0 && list.is_front(cur)) {
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
    reschedule_inline();
}

namespace rtos::kernel {

Status block_current(WaitQueue* wq, Timeout timeout, ThreadState state) {
    // No wait is an answer, not a block: fine in any context.
    if (timeout.is_none()) return Status::timeout;
    if (arch::in_isr()) panic("blocking call from an interrupt handler");
    if (sched_lock_depth > 0) panic("blocking call with the scheduler locked");
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
    switch_to(cur, pick_next());
    return cur->wait_status;
}

void switch_away() {
    Thread* cur = current();
    switch_to(cur, pick_next());
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
        make_unready(t);
        t->prio = prio;
        // The running thread keeps the CPU among its new equals.
        if (t == current() && was_front) ready_lists[prio].push_front(t);
        else ready_lists[prio].push_back(t);
        ready_bitmap.set(prio);
    } else {
        t->prio = prio;
        if (t->waiting_on) t->waiting_on->reposition(t);
    }
}

void defer_switches_begin() { ++sched_lock_depth; }
void defer_switches_end() {
    --sched_lock_depth;  // block_current() follows and picks the best thread anyway
    switch_deferred = false;
}

void scheduler_lock() {
    IrqLock lock;
    ++sched_lock_depth;
}

void scheduler_unlock() {
    IrqLock lock;
    RTOS_ASSERT(sched_lock_depth > 0);
    if (--sched_lock_depth == 0) {
        // Not only switches requested by threads (switch_deferred): an
        // interrupt may have readied a higher thread while the lock held the
        // trap exit back, and nothing else would switch before the next tick.
        switch_deferred = false;
        reschedule();
    }
}

bool scheduler_locked() { return is_started && sched_lock_depth > 0; }

void register_thread(Thread* t) {
    IrqLock lock;
    // init() may run again on a thread that is still listed (set up twice
    // before start, or ended without join): linking it twice would corrupt
    // the list.
    t->all_node.unlink();
    thread_list.push_back(t);
}

void unregister_thread(Thread* t) {
    IrqLock lock;
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
// and whatever lies below it, is no place to run the panic path on.
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

void stack_overflow(Thread* t, const void* sp, const void* frame, bool frame_readable) {
    arch::irq_save();
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
    ++sched_lock_depth;
    auto& cpu = arch::this_cpu();
    cpu.current = &r;
    cpu.stack_limit = stack_limit_of(&r);
    cpu.trap_depth = 0;
    void* dead_sp;
    arch::switch_context(&dead_sp,
                         arch::init_stack(overflow_report_stack + sizeof(overflow_report_stack),
                                          report_overflow, nullptr, report_returned));
    for (;;) arch::fail_exit();
}

namespace {
[[gnu::noinline]] void wake_timed_out(Tick now) {
    while (Thread* t = timeout_list.front()) {
        if (t->wake_tick > now) break;
        wake(t, Status::timeout);
    }
}
}  // namespace

void announce_ticks(uint64_t n) {
    Tick now = tick_count + n;
    tick_count = now;
    // Out of line: a tick that wakes nobody stays a short leaf-like path.
    if (Thread* t = timeout_list.front(); t && t->wake_tick <= now) wake_timed_out(now);
    Thread* cur = current();
    if (cur && cur->run_state == ThreadState::ready && cur != &idle_thread && cur->slice_left > 0) {
        if (cur->slice_left <= n) {
            cur->slice_left = 0;
            rotate_current();
            arch::this_cpu().switch_pending = 1;
        } else {
            cur->slice_left -= static_cast<unsigned>(n);
        }
    }
    timer_service_tick_from_isr(now);
}

[[noreturn]] void start(Thread* first) {
    idle_thread.init({.name = "idle", .priority = kIdlePriority, .timeslice = 0}, idle_entry,
                     nullptr);
    idle_thread.start();
    arch::irq_save();
    make_unready(first);
    first->run_state = ThreadState::ready;
    ready_lists[first->prio].push_front(first);
    ready_bitmap.set(first->prio);
    auto& cpu = arch::this_cpu();
    cpu.current = first;
    cpu.stack_limit = stack_limit_of(first);
    cpu.switch_pending = 0;
    sched_lock_depth = 0;
    switch_deferred = false;
    is_started = true;
    cpu.switch_time = arch::counter_read();
    arch::timer_start(CONFIG_RTOS_TICK_HZ);
    printk("tick: %u Hz via %s%s\n", CONFIG_RTOS_TICK_HZ, arch::timer_source(),
#if defined(CONFIG_RTOS_TICKLESS)
           ", tickless idle"
#else
           ""
#endif
    );
    arch::start_first_thread(first->sp);
}

namespace {
void reap_zombies() {
    for (;;) {
        Thread* t;
        {
            IrqLock lock;
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
    IrqLock lock;
    for_each_thread([](Thread* t) {
        if (t->run_state != ThreadState::exited && t->stack_base && stack_guard_broken(t))
            stack_overflow(t, t->sp, nullptr);
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
void (*soft_hook)(void*) = nullptr;
void* soft_hook_arg = nullptr;
}  // namespace

void set_soft_interrupt_hook(void (*hook)(void*), void* arg) {
    IrqLock lock;
    soft_hook = hook;
    soft_hook_arg = arg;
}

void soft_interrupt_from_isr() {
    if (soft_hook) soft_hook(soft_hook_arg);
}
uint64_t last_switch_time() { return arch::this_cpu().switch_time; }

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
    Thread* cur = current();
    // The lock holds the running thread; scheduler_unlock() reschedules.
    if (sched_lock_depth > 0 && cur->run_state == ThreadState::ready) return;
    Thread* next = pick_next();
    if (next != cur) switch_to(cur, next);
}

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
