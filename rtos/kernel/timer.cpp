// Software timers: an active list sorted by expiry; the tick wakes the timer
// thread when the head is due, and callbacks run there, not in the ISR.
#include <rtos/config.hpp>
#include <rtos/clock.hpp>
#include <rtos/critical.hpp>
#include <rtos/panic.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/thread.hpp>
#include <rtos/timer.hpp>

#include "scheduler.hpp"
#include "timer_service.hpp"

namespace rtos {
namespace {

// Under the kernel lock: the active list, due_signalled, running.
List<Timer, &Timer::node> active;  // ascending expiry
BinarySemaphore due;
volatile bool due_signalled = false;
StaticThread<CONFIG_RTOS_TIMER_STACK_SIZE> timer_thread;
#if defined(CONFIG_RTOS_SMP)
// The timer whose callback runs now: stop() on another CPU waits for it,
// so a timer is never freed under its running callback.
Timer* volatile running = nullptr;
#endif

void insert_sorted(Timer* t) {
    active.insert_sorted(t, [](const Timer* a, const Timer* b) { return a->expiry < b->expiry; });
}

void timer_thread_main(void*) {
    for (;;) {
        due.take();
        for (;;) {
            Timer* t;
            {
                kernel::KernelLock lock;
                due_signalled = false;
                t = active.front();
                if (!t || t->expiry > clock::ticks()) break;
                List<Timer, &Timer::node>::remove(t);
                t->fired_ = t->fired_ + 1;
                if (t->period) {
                    t->expiry += t->period;  // drift-free
                    insert_sorted(t);
                }
#if defined(CONFIG_RTOS_SMP)
                running = t;
#endif
            }
            t->callback_(*t, t->arg_);
#if defined(CONFIG_RTOS_SMP)
            running = nullptr;
#endif
        }
    }
}

}  // namespace

Timer::~Timer() { stop(); }

Status Timer::arm(Tick delay, Tick per) {
    if (delay == 0) return Status::invalid;
    kernel::KernelLock lock;
    node.unlink();
    period = per;
    fired_ = 0;
    expiry = clock::ticks() + delay;
    insert_sorted(this);
    return Status::ok;
}

Status Timer::start_once(Tick delay) { return arm(delay, 0); }
Status Timer::start_periodic(Tick per) { return arm(per, per); }

void Timer::stop() {
#if defined(CONFIG_RTOS_SMP)
    {
        kernel::KernelLock lock;
        node.unlink();
    }
    // Its callback running in the timer thread (on another CPU, or
    // preempted): wait for it to end, unless this is the timer thread (the
    // callback stops its own timer) or an interrupt handler.
    if (in_isr() || Thread::current() == &timer_thread) return;
    while (running == this) Thread::sleep(1);
#else
    kernel::KernelLock lock;
    node.unlink();
#endif
}

bool Timer::active() const { return node.linked(); }

void kernel::timer_service_tick_from_isr(Tick now) {
    Timer* head = active.front();
    if (head && head->expiry <= now && !due_signalled) {
        due_signalled = true;
        due.give_locked();  // the tick holds the kernel lock (SMP) or runs masked
    }
}

Tick kernel::timer_service_next_due() {
    Timer* head = active.front();
    return head ? head->expiry : ~Tick{0};
}

void kernel::timer_service_start() {
    if (timer_thread.start({.name = "timer", .priority = CONFIG_RTOS_TIMER_THREAD_PRIORITY},
                           timer_thread_main, nullptr) != Status::ok)
        panic("cannot start the timer thread (check CONFIG_RTOS_TIMER_THREAD_PRIORITY)");
}

}  // namespace rtos
