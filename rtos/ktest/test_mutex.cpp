// Mutexes: ownership and recursion, hand-over order, and priority
// inheritance (one level, chains, timeouts, set_priority, exit).
#include <rtos/mutex.hpp>
#include <rtos/semaphore.hpp>

#include "ktest/ktest.hpp"

using namespace rtos;

KTEST(mutex_recursion_and_ownership) {
    Mutex m;
    Thread* self = Thread::current();
    KT_EXPECT_EQ(m.lock(), Status::ok);
    KT_EXPECT_EQ(m.lock(), Status::ok);
    KT_EXPECT_EQ(m.owner(), self);
    KT_EXPECT_EQ(m.recursion(), 2u);
    {
        kt::Worker other({"other", kt::prio(-1)}, [&] {
            KT_EXPECT_EQ(m.try_lock(), Status::timeout);
            KT_EXPECT_EQ(m.unlock(), Status::not_owner);
        });
    }
    KT_EXPECT_EQ(m.unlock(), Status::ok);
    KT_EXPECT_EQ(m.owner(), self);  // still held once
    KT_EXPECT_EQ(m.unlock(), Status::ok);
    KT_EXPECT_EQ(m.owner(), nullptr);
    KT_EXPECT_EQ(m.unlock(), Status::not_owner);
}

// Unlock hands the mutex to the highest-priority waiter, FIFO among
// equals; meanwhile the owner runs at the best waiter's priority.
KTEST(mutex_hands_over_by_priority) {
    Mutex m;
    kt::EventLog log;
    Thread* self = Thread::current();
    auto body = [&](char c) {
        return [&m, &log, c] {
            KT_EXPECT_EQ(m.lock(), Status::ok);
            log.add(c);
            m.unlock();
        };
    };
    KT_ASSERT_EQ(m.lock(), Status::ok);
    kt::Worker a({"a", kt::prio(-1)}, body('a'));
    KT_EXPECT_EQ(self->priority(), kt::prio(-1));
    kt::Worker b({"b", kt::prio(-2)}, body('b'));
    KT_EXPECT_EQ(self->priority(), kt::prio(-2));
    kt::Worker c({"c", kt::prio(-1)}, body('c'));
    KT_EXPECT_EQ(self->priority(), kt::prio(-2));
    KT_EXPECT_EQ(self->base_priority(), kt::kBase);
    KT_EXPECT_STREQ(log.str(), "");
    m.unlock();
    KT_EXPECT_STREQ(log.str(), "bac");
    KT_EXPECT_EQ(self->priority(), kt::kBase);
}

// The classic inversion: low holds the mutex, medium is busy, high blocks
// on the mutex. Low must run at high's priority, so high gets the mutex
// before medium finishes.
KTEST(priority_inheritance_resolves_inversion) {
    const unsigned kHigh = kt::prio(+1), kMedium = kt::prio(+2), kLow = kt::prio(+3);
    Mutex m;
    kt::EventLog log;
    volatile unsigned low_boosted_to = 0, low_after_unlock = 0;
    kt::Worker low({"low", kLow}, [&] {
        KT_ASSERT_EQ(m.lock(), Status::ok);
        Tick give_up = kt::now() + clock::tick_hz();
        while (Thread::current()->priority() != kHigh && kt::now() < give_up) {
        }
        low_boosted_to = Thread::current()->priority();
        log.add('l');
        kt::spin_until(kt::now() + 2);  // work done at high's priority
        m.unlock();                     // high takes over here
        low_after_unlock = Thread::current()->priority();
        log.add('u');
    });
    KT_ASSERT(kt::wait_for([&] { return m.owner() == low.thread(); }));
    kt::Worker medium({"medium", kMedium}, [&] {
        log.add('M');
        kt::spin_until(kt::now() + kt::ms(100));
        log.add('m');
    });
    Thread::sleep(2);  // medium runs, low is starved
    kt::Worker high({"high", kHigh}, [&] {
        log.add('h');
        KT_EXPECT_EQ(m.lock(), Status::ok);
        log.add('H');
        m.unlock();
    });
    high.join();
    medium.join();
    low.join();
    KT_EXPECT_STREQ(log.str(), "MhlHmu");
    KT_EXPECT_EQ(low_boosted_to, kHigh);
    KT_EXPECT_EQ(low_after_unlock, kLow);
}

// A waits on B's mutex while B waits on C's: C runs at A's priority. When
// A's wait times out, B and C drop back; when A waits again they rise; as
// C and B unlock, each drops to its own priority and A gets its mutex.
KTEST(priority_inheritance_through_a_chain) {
    const unsigned kA = kt::prio(-1), kB = kt::prio(+1), kC = kt::prio(+2);
    Mutex mb, mc;
    Semaphore go_a, go_c;
    kt::EventLog log;
    volatile unsigned c_before = 0, c_after = 0, b_with_mc = 0, b_after = 0;
    Status a_first = Status::ok, a_second = Status::timeout;

    kt::Worker c({"C", kC}, [&] {
        KT_ASSERT_EQ(mc.lock(), Status::ok);
        go_c.take();
        c_before = Thread::current()->priority();
        mc.unlock();  // B takes mc and preempts us
        c_after = Thread::current()->priority();
        log.add('c');
    });
    KT_ASSERT(kt::wait_for([&] { return c->state() == ThreadState::blocked; }));

    kt::Worker b({"B", kB}, [&] {
        KT_ASSERT_EQ(mb.lock(), Status::ok);
        KT_EXPECT_EQ(mc.lock(), Status::ok);
        b_with_mc = Thread::current()->priority();
        mc.unlock();
        mb.unlock();  // A takes mb and preempts us
        b_after = Thread::current()->priority();
        log.add('b');
    });
    KT_ASSERT(kt::wait_for([&] { return b->state() == ThreadState::blocked; }));
    KT_EXPECT_EQ(c->priority(), kB);  // one level

    const Tick wait = 5;
    kt::Worker a({"A", kA}, [&] {
        a_first = mb.lock(Timeout::ticks(wait));
        go_a.take();
        a_second = mb.lock();
        log.add('a');
        mb.unlock();
    });
    // A is above us: it ran and now waits for mb.
    KT_EXPECT_EQ(a->state(), ThreadState::blocked);
    KT_EXPECT_EQ(b->priority(), kA);
    KT_EXPECT_EQ(c->priority(), kA);  // two levels
    KT_EXPECT_EQ(b->base_priority(), kB);
    KT_EXPECT_EQ(c->base_priority(), kC);

    Thread::sleep(wait + 2);  // A's wait times out
    KT_EXPECT_EQ(a_first, Status::timeout);
    KT_EXPECT_EQ(b->priority(), kB);
    KT_EXPECT_EQ(c->priority(), kB);  // still lent by B

    go_a.give();  // A waits again, without a limit
    KT_EXPECT_EQ(b->priority(), kA);
    KT_EXPECT_EQ(c->priority(), kA);

    go_c.give();  // C (at A's priority) runs, unlocks; B runs, unlocks; A runs
    a.join();
    b.join();
    c.join();
    KT_EXPECT_EQ(a_second, Status::ok);
    KT_EXPECT_EQ(c_before, kA);
    KT_EXPECT_EQ(b_with_mc, kA);  // A still waits for mb
    KT_EXPECT_EQ(c_after, kC);
    KT_EXPECT_EQ(b_after, kB);
    KT_EXPECT_STREQ(log.str(), "abc");
}

// Inheritance follows a waiter's priority changes, and an owner's own
// base priority change keeps the inherited one when that is higher.
KTEST(priority_inheritance_follows_set_priority) {
    Mutex m;
    Semaphore go;
    kt::Worker owner({"owner", kt::prio(+2)}, [&] {
        KT_ASSERT_EQ(m.lock(), Status::ok);
        go.take();
        m.unlock();
    });
    KT_ASSERT(kt::wait_for([&] { return owner->state() == ThreadState::blocked; }));
    kt::Worker waiter({"waiter", kt::prio(+1)}, [&] {
        KT_EXPECT_EQ(m.lock(), Status::ok);
        m.unlock();
    });
    KT_ASSERT(kt::wait_for([&] { return waiter->state() == ThreadState::blocked; }));
    KT_EXPECT_EQ(owner->priority(), kt::prio(+1));

    KT_EXPECT_EQ(waiter->set_priority(kt::prio(-1)), Status::ok);
    KT_EXPECT_EQ(owner->priority(), kt::prio(-1));
    KT_EXPECT_EQ(waiter->set_priority(kt::prio(+1)), Status::ok);
    KT_EXPECT_EQ(owner->priority(), kt::prio(+1));

    KT_EXPECT_EQ(owner->set_priority(kt::prio(+3)), Status::ok);  // inherited one still wins
    KT_EXPECT_EQ(owner->priority(), kt::prio(+1));
    KT_EXPECT_EQ(owner->base_priority(), kt::prio(+3));
    KT_EXPECT_EQ(owner->set_priority(kt::prio(-2)), Status::ok);  // own one is higher now
    KT_EXPECT_EQ(owner->priority(), kt::prio(-2));
    KT_EXPECT_EQ(owner->set_priority(kt::prio(+2)), Status::ok);
    KT_EXPECT_EQ(owner->priority(), kt::prio(+1));

    go.give();
    owner.join();
    waiter.join();
}

// A thread that ends while holding a mutex releases it: the waiter gets it
// (ok) and the inheritance ends with it.
KTEST(exit_releases_held_mutexes) {
    Mutex m;
    Semaphore go;
    Status got = Status::invalid;
    kt::Worker owner({"owner", kt::prio(+1)}, [&] {
        KT_ASSERT_EQ(m.lock(), Status::ok);
        KT_ASSERT_EQ(m.lock(), Status::ok);  // recursively, too
        go.take();
    });  // returns holding m
    KT_ASSERT(kt::wait_for([&] { return owner->state() == ThreadState::blocked; }));
    kt::Worker waiter({"waiter", kt::prio(-1)}, [&] {
        got = m.lock();
        if (got == Status::ok) m.unlock();
    });
    KT_EXPECT_EQ(owner->priority(), kt::prio(-1));
    go.give();
    owner.join();
    waiter.join();
    KT_EXPECT_EQ(got, Status::ok);
    KT_EXPECT_EQ(m.owner(), nullptr);
}
