// Interrupt nesting (model in rtos/arch/port.hpp): the kernel tick preempts
// any other interrupt handler; device and software interrupts do not nest
// in each other; only the outermost trap exit switches threads. The tests
// run in the handler of the architecture's software interrupt
// (rtos::arch::raise_soft_interrupt, hook from kt::SoftIrqHook) and spin
// there until ticks arrive: that only ends if the tick nests into it. Every
// spin is bounded, so a kernel without nesting fails instead of hanging.
// The ticks counted are this CPU's (kernel::cpu_ticks): with SMP the other
// CPUs' timers advance the tick count too.
#include <rtos/clock.hpp>
#include <rtos/critical.hpp>
#include <rtos/semaphore.hpp>

#include "arch/port.hpp"
#include "kernel/scheduler.hpp"
#include "ktest/ktest.hpp"

using namespace rtos;

namespace {

/// A spin gives up after this many tick periods (counter time) without a
/// tick (plus kt::lateness(): on the host's clock QEMU may raise the tick
/// late), or after this many ticks.
constexpr uint64_t kSpinLimitTicks = 20;
/// And after this many iterations, should the counter misbehave as well.
constexpr unsigned long kMaxSpins = 1ul << 28;

uint64_t deadline_ns(uint64_t periods) {
    return clock::now_ns() + periods * 1000000000ull / clock::tick_hz();
}

// Spins until done() (or the bounds run out); returns done(). The time bound
// restarts at every tick, so a host that stalls QEMU for a while (the counter
// jumps, the tick comes once) does not end the wait early.
template <typename P>
bool spin_until(P done) {
    const Tick first = kernel::cpu_ticks();
    Tick seen = first;
    uint64_t quiet_until = deadline_ns(kSpinLimitTicks + kt::lateness());
    for (unsigned long i = 0; i < kMaxSpins; ++i) {
        if (done()) return true;
        Tick t = kernel::cpu_ticks();
        if (t != seen) {
            if (t - first > kSpinLimitTicks) break;
            seen = t;
            quiet_until = deadline_ns(kSpinLimitTicks + kt::lateness());
        } else if (i % 256 == 0 && clock::now_ns() > quiet_until) {
            break;  // no tick for kSpinLimitTicks periods: it does not nest
        }
    }
    return done();
}

// Spins until the tick count has advanced by `n` (bounded); returns by how
// much it advanced.
Tick spin_ticks(Tick n) {
    Tick t0 = kernel::cpu_ticks();
    spin_until([&] { return kernel::cpu_ticks() - t0 >= n; });
    return kernel::cpu_ticks() - t0;
}

// Burns `periods` tick periods of counter time (the counter runs whether or
// not tick interrupts are taken).
void spin_periods(uint64_t periods) {
    uint64_t end = deadline_ns(periods);
    for (unsigned long i = 0; i < kMaxSpins && clock::now_ns() < end; ++i) {
    }
}

// Raises the software interrupt and waits (bounded) until its hook has run
// `runs` times. The hook runs inside the interrupt, which is taken within a
// few instructions, so the bound only has to cover delivery; the result is
// read after it, so a hook that ran long still counts.
bool raise_and_wait_runs(volatile unsigned& hook_runs, unsigned runs) {
    arch::raise_soft_interrupt();
    uint64_t limit = deadline_ns(4 * kSpinLimitTicks);
    for (unsigned long i = 0; i < kMaxSpins && hook_runs < runs; ++i) {
        if (i % 256 == 0 && clock::now_ns() > limit) break;
    }
    return hook_runs >= runs;
}

}  // namespace

// The tick preempts a long interrupt handler (depth 2 inside the tick), ticks
// keep counting, the nested exits do not switch threads, and a thread the
// handler woke runs at the outermost exit, before the interrupted thread.
KTEST(nesting_tick_preempts_interrupt_handler) {
    Semaphore sem;
    kt::EventLog log;
    volatile unsigned hook_runs = 0, depth = 0, tick_depth = 0;
    volatile bool hook_in_isr = false;
    volatile Tick advanced = 0;
    Thread* volatile at_entry = nullptr;
    Thread* volatile at_exit = nullptr;
    auto hook = [&] {
        hook_in_isr = in_isr();
        depth = arch::isr_nesting();
        at_entry = Thread::current();
        // The woken thread outranks the interrupted one, yet must wait for
        // the outermost exit: the nested ticks below return here.
        KT_EXPECT_EQ(sem.give_from_isr(), Status::ok);
        advanced = spin_ticks(2);
        tick_depth = arch::last_tick_nesting();
        at_exit = Thread::current();
        log.add('i');
        hook_runs = hook_runs + 1;
    };
    kt::SoftIrqHook h(hook);
    kt::Worker w({"w", kt::prio(-1)}, [&] {
        KT_EXPECT_EQ(sem.take(), Status::ok);
        log.add('W');
    });
    KT_EXPECT_EQ(w->state(), ThreadState::blocked);
    Thread* self = Thread::current();
    log.add('a');
    bool ran = raise_and_wait_runs(hook_runs, 1);
    log.add('b');
    KT_EXPECT(ran);
    KT_EXPECT(hook_in_isr);
    KT_EXPECT_EQ(depth, 1u);
    KT_EXPECT_GE(advanced, 2u);    // ticks arrived while the handler ran
    KT_EXPECT_EQ(tick_depth, 2u);  // ... nested into it
    KT_EXPECT_EQ(at_entry, self);
    KT_EXPECT_EQ(at_exit, self);
    KT_EXPECT_EQ(Thread::current(), self);
    KT_EXPECT_STREQ(log.str(), "aiWb");
    if (!ran) sem.give();  // let w end anyway
    w.join();
    // A tick that interrupts a thread (here the idle thread) runs at depth 1.
    Thread::sleep(2);
    KT_EXPECT_EQ(arch::last_tick_nesting(), 1u);
}

// A thread whose timeout expires while a handler runs is woken by the
// nested tick and, outranking the interrupted thread, runs at the outermost
// exit.
KTEST(nesting_timeout_during_handler_wakes_at_exit) {
    kt::EventLog log;
    volatile unsigned hook_runs = 0;
    volatile bool asleep_at_entry = false, woken_in_handler = false;
    Thread* volatile sleeper = nullptr;
    auto hook = [&] {
        Thread* t = sleeper;
        asleep_at_entry = t && t->state() == ThreadState::sleeping;
        // Only a tick nested into this handler can end the sleep.
        woken_in_handler = t && spin_until([&] { return t->state() == ThreadState::ready; });
        log.add('i');
        hook_runs = hook_runs + 1;
    };
    kt::SoftIrqHook h(hook);
    Thread::sleep(1);  // start right after a tick: the sleep below outlasts the raise
    kt::Worker w({"sleeper", kt::prio(-1)}, [&] {
        Thread::sleep(3);
        log.add('S');
    });
    sleeper = w.thread();
    KT_EXPECT_EQ(w->state(), ThreadState::sleeping);
    log.add('a');
    KT_EXPECT(raise_and_wait_runs(hook_runs, 1));
    log.add('b');
    KT_EXPECT(asleep_at_entry);
    KT_EXPECT(woken_in_handler);
    KT_EXPECT_STREQ(log.str(), "aiSb");
}

// Device and software interrupts do not nest in each other: the software
// interrupt raised inside its own handler waits until that handler is done.
KTEST(nesting_interrupts_do_not_nest_in_each_other) {
    volatile unsigned hook_runs = 0, max_depth = 0;
    volatile bool inside = false, overlapped = false;
    volatile Tick advanced = 0;
    auto hook = [&] {
        if (inside) overlapped = true;
        inside = true;
        unsigned d = arch::isr_nesting();
        if (d > max_depth) max_depth = d;
        if (hook_runs == 0) {
            arch::raise_soft_interrupt();  // pending until this handler ends
            advanced = spin_ticks(2);      // ticks still nest meanwhile
        }
        hook_runs = hook_runs + 1;
        inside = false;
    };
    kt::SoftIrqHook h(hook);
    KT_EXPECT(raise_and_wait_runs(hook_runs, 2));
    KT_EXPECT_EQ(hook_runs, 2u);
    KT_EXPECT(!overlapped);
    KT_EXPECT_EQ(max_depth, 1u);
    KT_EXPECT_GE(advanced, 2u);
}

// An IrqLock inside a handler holds the tick off as it does in a thread; the
// tick comes in once the lock is released.
KTEST(nesting_irq_lock_in_handler_masks_the_tick) {
    volatile unsigned hook_runs = 0;
    volatile Tick during_lock = 0, after_lock = 0;
    auto hook = [&] {
        {
            IrqLock lock;
            Tick t0 = kernel::cpu_ticks();
            spin_periods(3);
            during_lock = kernel::cpu_ticks() - t0;
        }
        after_lock = spin_ticks(1);
        hook_runs = hook_runs + 1;
    };
    kt::SoftIrqHook h(hook);
    KT_EXPECT(raise_and_wait_runs(hook_runs, 1));
    KT_EXPECT_EQ(during_lock, 0u);
    KT_EXPECT_GE(after_lock, 1u);
}
