// Scheduling: preemption by priority, wake-up order, round robin and
// per-thread time slices, yield, suspend/resume, set_priority, the
// scheduler lock.
#include <rtos/critical.hpp>
#include <rtos/event_flags.hpp>
#include <rtos/semaphore.hpp>

#include "kernel/scheduler.hpp"
#include "ktest/ktest.hpp"

using namespace rtos;

// A thread made ready that outranks the running one runs at once: inside
// Thread::create/start, Semaphore::give, set_priority; a lower one waits
// until the running thread blocks.
KTEST(preempt_when_higher_becomes_ready) {
    kt::EventLog log;
    Semaphore sem;
    log.add('a');
    kt::Worker low({"low", kt::prio(+1)}, [&] { log.add('L'); });
    log.add('b');
    kt::Worker high({"high", kt::prio(-1)}, [&] {
        log.add('H');
        KT_EXPECT_EQ(sem.take(), Status::ok);
        log.add('h');
    });
    log.add('c');
    sem.give();
    log.add('d');
    KT_EXPECT_STREQ(log.str(), "abHchd");
    Thread::sleep(1);  // we block: now the lower thread runs
    log.add('e');
    KT_EXPECT_STREQ(log.str(), "abHchdLe");
}

KTEST(set_priority_preempts_at_once) {
    kt::EventLog log;
    kt::Worker w({"w", kt::prio(+2)}, [&] { log.add('W'); });
    log.add('a');
    KT_EXPECT_EQ(w->set_priority(kt::prio(-1)), Status::ok);  // above us: runs inside the call
    log.add('b');
    kt::Worker x({"x", kt::prio(+1)}, [&] { log.add('X'); });
    log.add('c');
    Thread* self = Thread::current();
    KT_EXPECT_EQ(self->set_priority(kt::prio(+2)), Status::ok);  // below x: x runs inside the call
    log.add('d');
    KT_EXPECT_EQ(self->set_priority(kt::kBase), Status::ok);
    KT_EXPECT_STREQ(log.str(), "aWbcXd");
    KT_EXPECT_EQ(self->set_priority(CONFIG_RTOS_PRIORITY_LEVELS), Status::invalid);
    KT_EXPECT_EQ(self->priority(), kt::kBase);
}

// One set() readies five waiters: they run highest priority first, and in
// the order they started waiting among equals.
KTEST(wakeups_run_in_priority_then_fifo_order) {
    EventFlags ev;
    kt::EventLog log;
    auto waiter = [&](char c) {
        return [&ev, &log, c] {
            KT_EXPECT_EQ(ev.wait(1, EventFlags::any), Status::ok);
            log.add(c);
        };
    };
    // Each is above us, so it runs and blocks inside create.
    kt::Worker a({"a", kt::prio(-2)}, waiter('a'));
    kt::Worker y({"y", kt::prio(-1)}, waiter('y'));
    kt::Worker b({"b", kt::prio(-2)}, waiter('b'));
    kt::Worker x({"x", kt::prio(-3)}, waiter('x'));
    kt::Worker c({"c", kt::prio(-2)}, waiter('c'));
    KT_EXPECT_STREQ(log.str(), "");
    ev.set(1);
    KT_EXPECT_STREQ(log.str(), "xabcy");
}

namespace {

// Busy threads of one priority counting loop iterations; a "turn" starts
// whenever a thread finds that another one ran since its last iteration, and
// the ticks from one turn's start to the next are the turn's (`held`).
// run() is out of line so every thread executes the very same loop (inlined
// with a constant id, the code, and so the iteration rate, would differ).
// The threads share one CPU (the test's), so one runs at a time.
struct Spinners {
    volatile bool stop = false;
    volatile int last = -1;
    volatile Tick turn_start = 0;
    volatile unsigned long count[4] = {};
    volatile unsigned long turns[4] = {};
    volatile Tick held[4] = {};

    [[gnu::noinline]] void run(int id) {
        while (!stop) {
            count[id] = count[id] + 1;
            if (last != id) {
                Tick t = kt::now();
                if (last >= 0) held[last] = held[last] + (t - turn_start);
                turn_start = t;
                last = id;
                turns[id] = turns[id] + 1;
            }
        }
    }
    // On the host's clock: the threads take turns, each at least half as
    // many as the one with most. (Not within one of each other: a turn can
    // pass unseen when the host holds the vCPU back past a whole slice.)
    void expect_rotation(unsigned threads) {
        unsigned long lo = ~0ul, hi = 0;
        for (unsigned i = 0; i < threads; ++i) {
            lo = turns[i] < lo ? turns[i] : lo;
            hi = turns[i] > hi ? turns[i] : hi;
        }
        if (lo < 2 || 2 * lo < hi) KT_FAIL("turns from %lu to %lu: not rotating", lo, hi);
    }
};

Tick round_up(Tick v, Tick m) { return (v + m - 1) / m * m; }

}  // namespace

// Three busy threads of equal priority for ~1 s share the CPU in slices of
// CONFIG_RTOS_TIMESLICE_TICKS: each gets a third (within 10 %) in the
// expected number of turns. On the host's clock, where a slice ends when its
// late tick comes, iterations are no measure of time: the threads rotate,
// a slice is never cut short (no more turns than rounds) and none holds
// the CPU past its slice and the host's lateness.
KTEST(round_robin_is_fair) {
    constexpr unsigned kThreads = 3;
    const Tick slice = CONFIG_RTOS_TIMESLICE_TICKS;
    const Tick span = round_up(clock::tick_hz(), kThreads * slice);  // whole rounds
    Spinners s;
    {
        const auto slice_ticks = static_cast<unsigned>(slice);
        kt::Worker a({"rr0", kt::prio(+1), slice_ticks}, [&] { s.run(0); });
        kt::Worker b({"rr1", kt::prio(+1), slice_ticks}, [&] { s.run(1); });
        kt::Worker c({"rr2", kt::prio(+1), slice_ticks}, [&] { s.run(2); });
        Thread::sleep_until(kt::now() + span);  // they run while we sleep
        s.stop = true;
    }
    const unsigned long rounds = span / (kThreads * slice);
    if (kt::host_clock()) {
        s.expect_rotation(kThreads);
        for (unsigned i = 0; i < kThreads; ++i) {
            KT_EXPECT_LE(s.turns[i], rounds + 1);
            KT_EXPECT_LE(s.held[i], s.turns[i] * (slice + 1 + kt::lateness()));
        }
        return;
    }
    unsigned long total = s.count[0] + s.count[1] + s.count[2];
    unsigned long mean = total / kThreads;
    for (unsigned i = 0; i < kThreads; ++i) {
        unsigned long c = s.count[i];
        unsigned long dev = c > mean ? c - mean : mean - c;
        if (dev * 10 > mean)
            KT_FAIL("thread %u ran %lu iterations, mean %lu (more than 10%% off)", i, c, mean);
        KT_EXPECT_IN(s.turns[i], rounds - 1, rounds + 1);
    }
}

// A thread created with its own time slice keeps the CPU that long: slices
// of 6 and 3 ticks give a 2:1 share and one turn each per round. On the
// host's clock (each slice a late tick longer): they rotate, and the long
// slice holds the CPU longer than the short one.
KTEST(timeslice_per_thread) {
    const Tick long_slice = 6, short_slice = 3;
    const Tick span = round_up(clock::tick_hz(), long_slice + short_slice);
    Spinners s;
    {
        kt::Worker a({"long", kt::prio(+1), static_cast<unsigned>(long_slice)}, [&] { s.run(0); });
        kt::Worker b({"short", kt::prio(+1), static_cast<unsigned>(short_slice)},
                     [&] { s.run(1); });
        Thread::sleep_until(kt::now() + span);
        s.stop = true;
    }
    const unsigned long rounds = span / (long_slice + short_slice);
    if (kt::host_clock()) {
        s.expect_rotation(2);
        KT_EXPECT_LE(s.turns[0], rounds + 1);
        KT_EXPECT_GT(s.held[0], s.held[1]);
        return;
    }
    unsigned long a = s.count[0], b = s.count[1];
    // a / b == 2 within 10 %
    unsigned long dev = a > 2 * b ? a - 2 * b : 2 * b - a;
    if (b == 0 || dev * 10 > 2 * b)
        KT_FAIL("share %lu:%lu in %lu:%lu turns, expected 2:1 within 10%%", a, b, s.turns[0],
                s.turns[1]);
    KT_EXPECT_IN(s.turns[0], rounds - 1, rounds + 1);
    KT_EXPECT_IN(s.turns[1], rounds - 1, rounds + 1);
}

KTEST(yield_rotates_equal_priorities) {
    kt::EventLog log;
    auto body = [&](char c) {
        return [&log, c] {
            for (int i = 0; i < 3; ++i) {
                log.add(c);
                Thread::yield();
            }
        };
    };
    {
        kt::Worker a({"ya", kt::prio(+1)}, body('A'));
        kt::Worker b({"yb", kt::prio(+1)}, body('B'));
    }  // joining lets them run
    KT_EXPECT_STREQ(log.str(), "ABABAB");
    // Alone at its priority, yield returns at once.
    Tick t0 = kt::now();
    for (int i = 0; i < 100; ++i) Thread::yield();
    KT_EXPECT_LE(kt::now() - t0, 1u);
}

KTEST(suspend_and_resume) {
    kt::EventLog log;
    // A ready thread, suspended, does not run when we block.
    kt::Worker w({"w", kt::prio(+1)}, [&] { log.add('W'); });
    KT_EXPECT_EQ(w->suspend(), Status::ok);
    KT_EXPECT_EQ(w->state(), ThreadState::suspended);
    Thread::sleep(3);
    KT_EXPECT_STREQ(log.str(), "");
    KT_EXPECT_EQ(w->resume(), Status::ok);
    KT_EXPECT_EQ(w->state(), ThreadState::ready);
    KT_EXPECT_EQ(w->resume(), Status::invalid);
    w.join();
    KT_EXPECT_STREQ(log.str(), "W");

    // A blocked thread, suspended: its wait completes but it stays suspended.
    Semaphore sem;
    kt::Worker b({"b", kt::prio(-1)}, [&] { log.add(sem.take() == Status::ok ? 'T' : 'x'); });
    KT_EXPECT_EQ(b->state(), ThreadState::blocked);
    KT_EXPECT_EQ(b->suspend(), Status::ok);
    sem.give();
    KT_EXPECT_EQ(b->state(), ThreadState::suspended);
    KT_EXPECT_EQ(sem.count(), 0u);  // the unit went to b
    KT_EXPECT_STREQ(log.str(), "W");
    KT_EXPECT_EQ(b->resume(), Status::ok);  // above us: runs inside resume
    KT_EXPECT_STREQ(log.str(), "WT");

    // Suspend then resume while still blocked: nothing changes.
    kt::Worker c({"c", kt::prio(-1)}, [&] { log.add(sem.take() == Status::ok ? 'C' : 'x'); });
    KT_EXPECT_EQ(c->suspend(), Status::ok);
    KT_EXPECT_EQ(c->resume(), Status::ok);
    KT_EXPECT_EQ(c->state(), ThreadState::blocked);
    sem.give();
    KT_EXPECT_STREQ(log.str(), "WTC");

    // A thread suspending itself.
    kt::Worker s({"s", kt::prio(-1)}, [&] {
        log.add('s');
        Thread::current()->suspend();
        log.add('S');
    });
    KT_EXPECT_EQ(s->state(), ThreadState::suspended);
    KT_EXPECT_STREQ(log.str(), "WTCs");
    KT_EXPECT_EQ(s->resume(), Status::ok);
    KT_EXPECT_STREQ(log.str(), "WTCsS");
}

// A waiter whose priority changes moves in the wait queue.
KTEST(set_priority_reorders_a_wait_queue) {
    Semaphore sem;
    kt::EventLog log;
    kt::Worker a({"a", kt::prio(-1)}, [&] {
        sem.take();
        log.add('a');
    });
    kt::Worker b({"b", kt::prio(-2)}, [&] {
        sem.take();
        log.add('b');
    });
    KT_EXPECT_EQ(a->set_priority(kt::prio(-3)), Status::ok);  // now ahead of b
    sem.give();
    sem.give();
    KT_EXPECT_STREQ(log.str(), "ab");
}

// Under the scheduler lock a readied higher thread, and the tick, do not
// take the CPU; the switch happens as the lock is released.
KTEST(scheduler_lock_defers_preemption) {
    kt::EventLog log;
    Semaphore sem;
    kt::Worker h({"h", kt::prio(-1)}, [&] {
        sem.take();
        log.add('H');
    });
    {
        SchedulerLock lock;
        sem.give();
        log.add('a');
        kt::spin_until(kt::now() + 2);  // ticks come and go
        log.add('b');
    }
    log.add('c');
    KT_EXPECT_STREQ(log.str(), "abHc");
}

// Suspending yourself under the scheduler lock is refused: the thread would
// stop with the lock held and the next thread would run with it. Suspending
// another thread is fine.
KTEST(self_suspend_under_scheduler_lock_is_refused) {
    kt::Worker w({"w", kt::prio(+1)}, [] {});
    Thread* self = Thread::current();
    {
        SchedulerLock lock;
        KT_EXPECT_EQ(self->suspend(), Status::invalid);
        KT_EXPECT_EQ(self->state(), ThreadState::running);
        KT_EXPECT_EQ(w->suspend(), Status::ok);
    }
    KT_EXPECT(!kernel::scheduler_locked());
    KT_EXPECT_EQ(w->state(), ThreadState::suspended);
    KT_EXPECT_EQ(w->resume(), Status::ok);
}
