// SMP (docs/smp.md): the rules of several CPUs. Each test spreads its
// threads over every CPU online; booted on one CPU they all share it and
// every expectation still holds. The results checked are exact (counts,
// states, which CPU) or one-sided bounds no host load can break (never
// early): these tests also run without -icount, where the guest's clock is
// the host's and a loaded host stalls vCPUs at will (tests/system/
// test_smp.py repeats them; tools/smp_torture.py runs them N times).
#include <rtos/clock.hpp>
#include <rtos/critical.hpp>
#include <rtos/irq.hpp>
#include <rtos/mutex.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/smp.hpp>
#include <rtos/spinlock.hpp>
#include <rtos/timer.hpp>

#include "arch/port.hpp"
#include "kernel/scheduler.hpp"
#include "ktest/ktest.hpp"

extern "C" unsigned long rtos_ktest_register_torture(unsigned long seed, unsigned long spins);

using namespace rtos;

namespace {

unsigned cpus() { return smp::cpu_count(); }

/// The n-th CPU online, counting round.
unsigned nth_cpu(unsigned n) {
    CpuMask m = smp::online_mask();
    n %= cpus();
    for (unsigned c = 0; c < kMaxCpus; ++c)
        if ((m & cpu_mask(c)) && n-- == 0) return c;
    return 0;
}

/// A team of `count` threads running fn(i) for i = 0..count-1, thread i at
/// `priority` + i * `step`, with affinity mask(i) (null: every CPU); joined
/// (bounded) when it ends.
template <typename F>
class Team {
public:
    static constexpr unsigned kMax = 4 * kMaxCpus + 4;
    Team(unsigned count, unsigned priority, CpuMask (*mask)(unsigned), F fn, unsigned step = 0)
        : fn_(fn) {
        static const char* const names[] = {"t0",  "t1",  "t2",  "t3",  "t4",  "t5",  "t6",  "t7",
                                            "t8",  "t9",  "t10", "t11", "t12", "t13", "t14", "t15",
                                            "t16", "t17", "t18", "t19", "t20", "t21", "t22", "t23",
                                            "t24", "t25", "t26", "t27", "t28", "t29", "t30", "t31",
                                            "t32", "t33", "t34", "t35", "t36"};
        static_assert(sizeof(names) / sizeof(names[0]) >= kMax);
        n_ = count < kMax ? count : kMax;
        for (unsigned i = 0; i < n_; ++i) {
            members_[i] = {this, i};
            CpuMask m = mask ? mask(i) : kAllCpus;
            threads_[i] =
                Thread::create({.name = names[i], .priority = priority + i * step, .affinity = m},
                               entry, &members_[i], 8192);
            if (!threads_[i]) KT_FAIL("could not create thread %u", i);
        }
    }
    ~Team() { join(); }
    void join() {
        for (unsigned i = 0; i < n_; ++i) kt::join_thread(threads_[i]);
    }
    Thread* thread(unsigned i) const { return threads_[i]; }
    unsigned size() const { return n_; }

private:
    struct Member {
        Team* team;
        unsigned index;
    };
    static void entry(void* arg) {
        auto* m = static_cast<Member*>(arg);
        m->team->fn_(m->index);
    }
    F fn_;
    unsigned n_ = 0;
    Member members_[kMax];
    Thread* threads_[kMax] = {};
};

/// Thread i pinned to the i-th CPU online.
CpuMask pin_round(unsigned i) { return cpu_mask(nth_cpu(i)); }

}  // namespace

// Every CPU runs a thread pinned to it, and only there: smp::cpu_id() and
// Thread::cpu() of a pinned thread are its CPU, before and after it sleeps
// and yields.
KTEST(smp_pinned_threads_run_on_their_cpu) {
    constexpr unsigned kRounds = 50;
    volatile unsigned wrong = 0, rounds = 0;
    SpinLock lock;
    {
        Team t(cpus(), kt::prio(-1), pin_round, [&](unsigned i) {
            const unsigned cpu = nth_cpu(i);
            for (unsigned k = 0; k < kRounds; ++k) {
                bool bad = smp::cpu_id() != cpu || Thread::current()->cpu() != cpu;
                if (k % 3 == 0) Thread::sleep(1);
                else Thread::yield();
                bad = bad || smp::cpu_id() != cpu;
                SpinLockGuard g(lock);
                wrong = wrong + bad;
                rounds = rounds + 1;
            }
        });
    }
    KT_EXPECT_EQ(wrong, 0u);
    KT_EXPECT_EQ(rounds, cpus() * kRounds);
}

// A thread whose affinity changes moves: pinned to each CPU in turn (by
// itself, then by another thread while it spins), it finds itself there.
KTEST(smp_set_affinity_moves_a_thread) {
    Thread* self = Thread::current();
    const CpuMask home = self->affinity();
    for (unsigned i = 0; i < cpus(); ++i) {
        const unsigned cpu = nth_cpu(i);
        KT_EXPECT_EQ(self->set_affinity(cpu_mask(cpu)), Status::ok);
        KT_EXPECT_EQ(smp::cpu_id(), cpu);  // moved before set_affinity returned
        KT_EXPECT_EQ(self->cpu(), cpu);
    }
    KT_EXPECT_EQ(self->set_affinity(0), Status::invalid);
    KT_EXPECT_EQ(self->set_affinity(home), Status::ok);

    volatile bool stop = false;
    volatile unsigned where = kMaxCpus;
    kt::Worker w({"spinner", kt::prio(+1), 0, 8192, cpu_mask(nth_cpu(0))}, [&] {
        while (!stop) where = smp::cpu_id();
    });
    for (unsigned i = 0; i < 2 * cpus(); ++i) {
        const unsigned cpu = nth_cpu(i + 1);
        KT_EXPECT_EQ(w->set_affinity(cpu_mask(cpu)), Status::ok);
        KT_EXPECT_EQ(w->affinity(), cpu_mask(cpu));
        // It runs where the mask allows as soon as a CPU there is free: we
        // sleep, so ours is.
        KT_EXPECT(kt::wait_for([&] { return where == cpu && w->cpu() == cpu; }));
    }
    stop = true;
}

// Concurrent increments from a thread on every CPU (and their interrupt
// handlers) under a SpinLock: the total is exact.
KTEST(smp_spinlock_counts_exactly) {
    constexpr unsigned kIncrements = 5000, kRaises = 50;
    static SpinLock lock;
    static volatile unsigned long shared;
    static volatile unsigned long hooks;
    shared = 0;
    hooks = 0;
    auto hook = [] {
        SpinLockGuard g(lock);
        shared = shared + 1;
        hooks = hooks + 1;
    };
    kt::SoftIrqHook h(hook);
    {
        Team t(cpus(), kt::prio(-1), pin_round, [&](unsigned) {
            for (unsigned k = 0; k < kIncrements; ++k) {
                {
                    SpinLockGuard g(lock);
                    shared = shared + 1;
                }
                // Now and then from this CPU's software interrupt (taken
                // when interrupts are on again: here, at once).
                if (k % (kIncrements / kRaises) == 0) arch::raise_soft_interrupt();
            }
        });
    }
    KT_EXPECT_EQ(hooks, cpus() * kRaises);
    KT_EXPECT_EQ(shared, cpus() * kIncrements + hooks);
}

// The same with a semaphore as the lock (its waiters on other CPUs are
// woken by IPIs), and with a mutex (recursive, priority inheritance):
// exact totals.
KTEST(smp_semaphore_and_mutex_count_exactly) {
    constexpr unsigned kIncrements = 1000;
    static volatile unsigned long by_sem, by_mutex;
    by_sem = by_mutex = 0;
    Semaphore sem(1, 1);
    Mutex mutex;
    {
        // Two threads per CPU, so some wait on the lock while it is held.
        Team t(2 * cpus(), kt::prio(-1), pin_round, [&](unsigned i) {
            for (unsigned k = 0; k < kIncrements; ++k) {
                KT_ASSERT_EQ(sem.take(), Status::ok);
                by_sem = by_sem + 1;
                sem.give();
                KT_ASSERT_EQ(mutex.lock(), Status::ok);
                if ((k + i) % 7 == 0) {
                    KT_ASSERT_EQ(mutex.lock(), Status::ok);  // recursion
                    by_mutex = by_mutex + 1;
                    mutex.unlock();
                } else {
                    by_mutex = by_mutex + 1;
                }
                mutex.unlock();
                if (k % 64 == 0) Thread::yield();
            }
        });
    }
    KT_EXPECT_EQ(by_sem, 2 * cpus() * kIncrements);
    KT_EXPECT_EQ(by_mutex, 2 * cpus() * kIncrements);
    KT_EXPECT_EQ(sem.count(), 1u);
    KT_EXPECT(mutex.owner() == nullptr);
}

// Global priority: with N CPUs and N+1 busy threads of distinct priorities,
// the N highest run and the lowest never does while they are ready; when
// one of them ends, the lowest runs.
KTEST(smp_global_priority_n_plus_one) {
    const unsigned n = cpus();
    static volatile bool ran[kMaxCpus + 1];
    static volatile bool stop[kMaxCpus + 1];
    for (unsigned i = 0; i <= n; ++i) ran[i] = stop[i] = false;
    // Thread i at priority prio(+1+i): 0 is the highest, n the lowest.
    Team t(
        n + 1, kt::prio(+1), nullptr,
        [&](unsigned i) {
            ran[i] = true;
            while (!stop[i]) {
            }
        },
        1);
    Thread::sleep(kt::ms(50));  // our CPU is free meanwhile
    for (unsigned i = 0; i < n; ++i) KT_EXPECT(kt::wait_for([&] { return ran[i]; }));
    Thread::sleep(kt::ms(20));
    KT_EXPECT(!ran[n]);  // never ran: the others were ready all along
    KT_EXPECT_EQ(t.thread(n)->state(), ThreadState::ready);
    stop[0] = true;  // the highest ends: the lowest gets its CPU
    KT_EXPECT(kt::wait_for([&] { return ran[n]; }));
    for (unsigned i = 0; i <= n; ++i) stop[i] = true;
}

// Priority inheritance across CPUs: a low thread on one CPU holds a mutex a
// high thread on another CPU waits for, while a medium thread keeps the
// low one's CPU busy. The low thread inherits the high priority, so it
// runs and releases (without inheritance the medium one starves it).
KTEST(smp_priority_inheritance_across_cpus) {
    const unsigned a = nth_cpu(1), b = nth_cpu(0);  // one CPU booted: both 0
    Mutex m;
    volatile bool locked = false, medium_go = false, stop_medium = false;
    volatile unsigned seen_prio = 0, after_prio = 0;
    volatile bool high_got = false;
    const unsigned low_prio = kt::prio(+3), high_prio = kt::prio(-2);
    kt::Worker low({"low", low_prio, 0, 8192, cpu_mask(a)}, [&] {
        KT_ASSERT_EQ(m.lock(), Status::ok);
        locked = true;
        // Runs on only once the high thread waits (the medium one keeps
        // this CPU otherwise): by then our priority is the high one's.
        while (Thread::current()->priority() != high_prio && !stop_medium) {
        }
        seen_prio = Thread::current()->priority();
        m.unlock();
        after_prio = Thread::current()->priority();
    });
    KT_ASSERT(kt::wait_for([&] { return locked; }));
    kt::Worker medium({"medium", kt::prio(+1), 0, 8192, cpu_mask(a)}, [&] {
        medium_go = true;
        while (!stop_medium) {
        }
    });
    kt::Worker high({"high", high_prio, 0, 8192, cpu_mask(b)}, [&] {
        KT_EXPECT_EQ(m.lock(), Status::ok);
        high_got = true;
        m.unlock();
    });
    KT_EXPECT(kt::wait_for([&] { return high_got; }));
    stop_medium = true;
    high.join();
    medium.join();
    low.join();
    KT_EXPECT_EQ(seen_prio, high_prio);
    KT_EXPECT_EQ(after_prio, low_prio);
    KT_EXPECT(high_got);
    KT_EXPECT(m.owner() == nullptr);
}

// A thread woken on a CPU that holds a SpinLock (a give in thread context
// under a driver's lock) gets that CPU once the lock is dropped, never
// inside the critical section, where the lock would stay held by a thread
// that does not run (rtos/spinlock.hpp).
KTEST(smp_woken_thread_waits_for_the_spinlock_to_drop) {
    if (!smp::active()) return;  // one CPU: no lock to hold, the switch is at once
    static SpinLock lock;
    Semaphore wake{0};
    static volatile bool holding, ran_inside, ran;
    holding = ran_inside = ran = false;
    const CpuMask there = cpu_mask(nth_cpu(1));
    // Higher and on the same CPU: it runs first and waits on `wake`.
    kt::Worker waiter({"waiter", kt::prio(-2), 0, 8192, there}, [&] {
        KT_EXPECT_EQ(wake.take(Timeout::ticks(kt::join_limit())), Status::ok);
        ran_inside = holding;
        ran = true;
    });
    static volatile bool ran_at_drop;
    ran_at_drop = false;
    kt::Worker holder({"holder", kt::prio(-1), 0, 8192, there}, [&] {
        {
            SpinLockGuard g(lock);
            holding = true;
            wake.give();  // the waiter outranks this thread on this CPU
            for (volatile unsigned i = 0; i < 1000; i = i + 1) {
            }
            holding = false;
        }
        ran_at_drop = ran;  // the switch came with the drop, not a tick later
    });
    holder.join();
    waiter.join();
    KT_EXPECT(ran);
    KT_EXPECT(!ran_inside);
    KT_EXPECT(ran_at_drop);
}

// The other reasons to switch that reach a CPU holding a SpinLock are held
// back the same way, and honoured when it drops the lock: a priority raise
// and an affinity change. (Another CPU's IPI is not here: it stays pending
// while the holder masks interrupts, and a holder spinning masked until it
// arrives starves that CPU's vCPU under -icount, docs/smp.md.)
KTEST(smp_switches_held_back_by_a_spinlock_happen_at_the_drop) {
    if (cpus() < 2) return;
    static SpinLock lock;
    static volatile bool holding, ran_inside, ran, ran_at_drop;
    const unsigned cpu = nth_cpu(1), other = nth_cpu(2);  // different (with two: 1, 0)
    const CpuMask here = cpu_mask(cpu);
    auto hold_a_while = [] {
        for (volatile unsigned i = 0; i < 1000; i = i + 1) {
        }
    };

    // Raised above the holder by the holder, under the lock.
    {
        Semaphore start{0};
        holding = ran_inside = ran = ran_at_drop = false;
        kt::Worker waiter({"waiter", kt::prio(+1), 0, 8192, here}, [&] {
            KT_EXPECT_EQ(start.take(Timeout::ticks(kt::join_limit())), Status::ok);
            ran_inside = holding;
            ran = true;
        });
        kt::Worker holder({"holder", kt::prio(-1), 0, 8192, here}, [&] {
            start.give();  // ready, below this thread: it waits
            {
                SpinLockGuard g(lock);
                holding = true;
                waiter->set_priority(kt::prio(-2));
                hold_a_while();
                holding = false;
            }
            ran_at_drop = ran;
        });
        holder.join();
        waiter.join();
        KT_EXPECT(ran);
        KT_EXPECT(!ran_inside);
        KT_EXPECT(ran_at_drop);
    }

    // Moved off this CPU by its own affinity change, under the lock: it
    // stays until the drop, and is on the other CPU right after.
    {
        static volatile unsigned inside, after;
        inside = after = kMaxCpus;
        kt::Worker mover({"mover", kt::prio(-1), 0, 8192, here}, [&] {
            {
                SpinLockGuard g(lock);
                Thread::current()->set_affinity(cpu_mask(other));
                hold_a_while();
                inside = smp::cpu_id();
            }
            after = smp::cpu_id();
        });
        mover.join();
        KT_EXPECT_EQ(inside, cpu);
        KT_EXPECT_EQ(after, other);
    }
}

// Sleeps and software timers on every CPU: a thread pinned to each sleeps
// 1..5 ticks 40 times and runs one-shot timers: no sleep returns early, no
// timer fires early, every one fires exactly once, and each thread wakes on
// its own CPU.
KTEST(smp_sleeps_and_timers_on_every_cpu) {
    constexpr unsigned kSleeps = 40, kTimers = 10;
    static volatile unsigned early, wrong_cpu, fired_early, sleeps_done;
    early = wrong_cpu = fired_early = sleeps_done = 0;
    SpinLock lock;
    {
        Team t(cpus(), kt::prio(-1), pin_round, [&](unsigned i) {
            const unsigned cpu = nth_cpu(i);
            for (unsigned k = 0; k < kSleeps; ++k) {
                Tick n = 1 + (k + i) % 5;
                Tick t0 = kt::now();
                Thread::sleep(n);
                SpinLockGuard g(lock);
                early = early + (kt::now() - t0 < n);
                wrong_cpu = wrong_cpu + (smp::cpu_id() != cpu);
                sleeps_done = sleeps_done + 1;
            }
            struct Shot {
                Semaphore done;
                volatile Tick due = 0, at = 0;
                volatile unsigned calls = 0;
            } shot;
            Timer timer(
                [](Timer&, void* p) {
                    auto* s = static_cast<Shot*>(p);
                    s->at = kt::now();
                    s->calls = s->calls + 1;
                    s->done.give();
                },
                &shot);
            for (unsigned k = 0; k < kTimers; ++k) {
                Tick delay = 1 + (k + i) % 4;
                shot.due = kt::now() + delay;
                KT_ASSERT_EQ(timer.start_once(delay), Status::ok);
                KT_ASSERT_EQ(shot.done.take(Timeout::ticks(kt::join_limit())), Status::ok);
                SpinLockGuard g(lock);
                fired_early = fired_early + (shot.at < shot.due);
            }
            KT_EXPECT_EQ(shot.calls, kTimers);
        });
    }
    KT_EXPECT_EQ(sleeps_done, cpus() * kSleeps);
    KT_EXPECT_EQ(early, 0u);
    KT_EXPECT_EQ(wrong_cpu, 0u);
    KT_EXPECT_EQ(fired_early, 0u);
}

// The switch torture: every CPU hammered with cross-CPU wake-ups (which
// preempt by IPI) and interrupt-context calls, while torture threads (more
// than there are CPUs, free to move) fill every register with a pattern
// (rtos_ktest_register_torture) and check it survives: across interrupts,
// preemption, and resumption on another CPU.
KTEST(smp_switch_torture_keeps_registers) {
    const unsigned n = cpus();
    constexpr unsigned kGives = 200;
    volatile bool stop = false;
    volatile unsigned long rounds[2 * kMaxCpus] = {}, bad_reg[2 * kMaxCpus] = {};
    volatile unsigned long takes[kMaxCpus] = {};
    static volatile unsigned long calls_run;  // the interrupt-context call has no context
    Semaphore wake[kMaxCpus];
    calls_run = 0;
    // Torture threads: 2 per CPU, any CPU, equal priority (round robin).
    Team torture(2 * n, kt::prio(+2), nullptr, [&](unsigned i) {
        unsigned long seed = 0x5a5a000000000000ul + (static_cast<unsigned long>(i) << 32);
        while (!stop) {
            unsigned long r = rtos_ktest_register_torture(seed + rounds[i] * 0x100, 500);
            if (r) bad_reg[i] = r;
            rounds[i] = rounds[i] + 1;
        }
    });
    // A waker pinned to each CPU, above the torture threads: each give from
    // another CPU preempts whatever torture thread runs there.
    Team wakers(n, kt::prio(-1), pin_round, [&](unsigned i) {
        while (wake[i].take() == Status::ok && !stop) takes[i] = takes[i] + 1;
    });
    // Drivers, one per CPU: give the wakers of the other CPUs, and call
    // into their interrupt context. They start together once all exist.
    volatile bool go = false;
    Team drivers(n, kt::prio(+1), pin_round, [&](unsigned i) {
        while (!go) Thread::sleep(1);
        for (unsigned k = 0; k < kGives; ++k) {
            unsigned target = (i + 1 + k % (n > 1 ? n - 1 : 1)) % n;
            wake[target].give();
#if defined(CONFIG_RTOS_SMP)
            if (n > 1)
                kernel::ipi_call(
                    nth_cpu(target),
                    [](void*) { __atomic_fetch_add(&calls_run, 1, __ATOMIC_RELAXED); }, nullptr);
#endif
            if (k % 16 == 0) Thread::sleep(1);
        }
    });
    go = true;
    drivers.join();
    // Every give is taken (wake-ups never lost): wait until all counted.
    KT_EXPECT(kt::wait_for([&] {
        unsigned long sum = 0;
        for (unsigned i = 0; i < n; ++i) sum += takes[i];
        return sum == n * kGives;
    }));
    if (n > 1) KT_EXPECT(kt::wait_for([&] { return calls_run == n * kGives; }));
    // Every torture thread has had its turn (round robin among equals, per
    // CPU) before they stop: on a loaded host the drivers can be done
    // within one time slice.
    KT_EXPECT(kt::wait_for([&] {
        for (unsigned i = 0; i < 2 * n; ++i)
            if (rounds[i] == 0) return false;
        return true;
    }));
    stop = true;
    for (unsigned i = 0; i < n; ++i) wake[i].give();  // the wakers see stop
    wakers.join();
    torture.join();
    unsigned long sum = 0;
    for (unsigned i = 0; i < n; ++i) sum += takes[i];
    KT_EXPECT_EQ(sum, n * kGives);
    for (unsigned i = 0; i < 2 * n; ++i) {
        KT_EXPECT_EQ(bad_reg[i], 0u);
        KT_EXPECT_GT(rounds[i], 0u);
    }
}
