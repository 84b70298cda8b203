// Timeouts of every blocking call: a wait of n ticks returns Status::timeout
// after n ticks (n + 1 when a tick fell between our reading and the call; on
// the host's clock up to kt::lateness() later, never earlier);
// Timeout::none() returns at once; destroying an object wakes its waiters
// with Status::deleted.
#include <new>

#include <rtos/condition_variable.hpp>
#include <rtos/critical.hpp>
#include <rtos/event_flags.hpp>
#include <rtos/memory_pool.hpp>
#include <rtos/message_queue.hpp>
#include <rtos/mutex.hpp>
#include <rtos/semaphore.hpp>

#include "ktest/ktest.hpp"

using namespace rtos;

namespace {

unsigned long long ull(Tick t) { return static_cast<unsigned long long>(t); }

// The waits every call is tried with (30 ms: 30 ticks at 1000 Hz, 3 at 100 Hz).
struct Waits {
    Tick n[4] = {1, 2, 7, kt::ms(30)};
    const Tick* begin() const { return n; }
    const Tick* end() const { return n + 4; }
};

// `call(timeout)` waits on an object that stays unavailable.
template <typename F>
void check_timeouts(int line, const char* what, F call, Status none_status = Status::timeout) {
    for (Tick n : Waits()) {
        Tick t0 = kt::now();
        Status s = call(Timeout::ticks(n));
        Tick took = kt::now() - t0;
        if (s != Status::timeout)
            ktest_fail(__FILE__, line, "%s, %llu ticks: returned %s", what, ull(n), status_name(s));
        if (took < n || took > n + 1 + kt::lateness())
            ktest_fail(__FILE__, line, "%s, %llu ticks: took %llu ticks", what, ull(n), ull(took));
    }
    // No wait: returns within the tick it was called in. A call that blocked
    // even briefly would cross a tick every time; a tick may cross an
    // immediate one by chance (on the host's clock, also while the host
    // holds the vCPU back), hence a few tries.
    bool immediate = false;
    const int tries = kt::host_clock() ? 50 : 3;
    for (int i = 0; i < tries && !immediate; ++i) {
        Tick t0 = kt::now();
        Status s = call(Timeout::none());
        immediate = kt::now() == t0;
        if (s != none_status)
            ktest_fail(__FILE__, line, "%s, no wait: returned %s, expected %s", what,
                       status_name(s), status_name(none_status));
    }
    if (!immediate) ktest_fail(__FILE__, line, "%s, no wait: did not return at once", what);
}
#define CHECK_TIMEOUTS(...) check_timeouts(__LINE__, __VA_ARGS__)

}  // namespace

KTEST(timeout_semaphore_take) {
    Semaphore s(0);
    CHECK_TIMEOUTS("Semaphore::take", [&](Timeout t) { return s.take(t); });
}

KTEST(timeout_mutex_lock) {
    Mutex m;
    Semaphore go;
    kt::Worker owner({"owner", kt::prio(+1)}, [&] {
        KT_ASSERT_EQ(m.lock(), Status::ok);
        go.take();
        m.unlock();
    });
    KT_ASSERT(kt::wait_for([&] { return m.owner() == owner.thread(); }));
    CHECK_TIMEOUTS("Mutex::lock", [&](Timeout t) { return m.lock(t); });
    KT_EXPECT_EQ(owner->priority(), kt::prio(+1));  // no inheritance left behind
    go.give();
}

KTEST(timeout_queue_send_when_full) {
    MessageQueueOf<uint32_t, 2> q;
    uint32_t v = 1;
    KT_ASSERT_EQ(q.send(v), Status::ok);
    KT_ASSERT_EQ(q.send(v), Status::ok);
    // Without a wait a full queue answers overflow (as the _from_isr forms do).
    CHECK_TIMEOUTS(
        "MessageQueue::send", [&](Timeout t) { return q.send(v, t); }, Status::overflow);
    CHECK_TIMEOUTS(
        "MessageQueue::send_urgent", [&](Timeout t) { return q.send_urgent(v, t); },
        Status::overflow);
    KT_EXPECT_EQ(q.count(), 2u);
}

KTEST(timeout_queue_receive_when_empty) {
    MessageQueueOf<uint32_t, 2> q;
    uint32_t v;
    CHECK_TIMEOUTS("MessageQueue::receive", [&](Timeout t) { return q.receive(v, t); });
}

KTEST(timeout_event_wait) {
    EventFlags e(0x2);
    CHECK_TIMEOUTS("EventFlags::wait any",
                   [&](Timeout t) { return e.wait(0x1, EventFlags::any, t); });
    CHECK_TIMEOUTS("EventFlags::wait all", [&](Timeout t) {
        return e.wait(0x3, EventFlags::all | EventFlags::clear_on_exit, t);
    });
    KT_EXPECT_EQ(e.get(), 0x2u);
}

KTEST(timeout_condition_variable_wait) {
    Mutex m;
    ConditionVariable cv;
    Thread* self = Thread::current();
    KT_ASSERT_EQ(m.lock(), Status::ok);
    CHECK_TIMEOUTS("ConditionVariable::wait", [&](Timeout t) {
        Status s = cv.wait(m, t);
        if (m.owner() != self || m.recursion() != 1) KT_FAIL("mutex not held again after wait");
        return s;
    });
    m.unlock();
    KT_EXPECT_EQ(cv.wait(m, Timeout::ticks(1)), Status::invalid);  // mutex not held
}

KTEST(timeout_thread_join) {
    Semaphore go;
    kt::Worker w({"w", kt::prio(+1)}, [&] { go.take(); });
    CHECK_TIMEOUTS("Thread::join", [&](Timeout t) { return w->join(t); });
    go.give();
}

KTEST(timeout_memory_pool_alloc) {
    StaticMemoryPool<16, 1> pool;
    void* only = pool.alloc();
    KT_ASSERT(only != nullptr);
    CHECK_TIMEOUTS("MemoryPool::alloc", [&](Timeout t) {
        void* p = pool.alloc(t);
        if (p) pool.free(p);
        return p ? Status::ok : Status::timeout;
    });
    pool.free(only);
    KT_EXPECT_EQ(pool.available(), 1u);
}

KTEST(timeout_sleep_and_sleep_until) {
    for (Tick n : Waits()) {
        Tick t0 = kt::now();
        Thread::sleep(n);
        Tick took = kt::now() - t0;
        if (took < n || took > n + 1 + kt::lateness())
            KT_FAIL("sleep(%llu) took %llu ticks", ull(n), ull(took));
        Tick deadline = kt::now() + n;
        Thread::sleep_until(deadline);
        Tick woke = kt::now();
        if (woke < deadline || woke > deadline + 1 + kt::lateness())
            KT_FAIL("sleep_until(%llu) woke at %llu", ull(deadline), ull(woke));
    }
    Tick t0 = kt::now();
    Thread::sleep_until(t0 - 1);  // in the past: returns at once
    KT_EXPECT_LE(kt::now() - t0, kt::lateness());
}

// A finite timeout too long to add to the tick count is a wait without end,
// not one that has already expired.
KTEST(timeout_longer_than_the_tick_counter_waits) {
    Semaphore s(0);
    Status got = Status::invalid;
    kt::Worker w({"w", kt::prio(-1)}, [&] { got = s.take(Timeout::ticks(~Tick{0} - 1)); });
    Thread::sleep(3);
    KT_EXPECT_EQ(w->state(), ThreadState::blocked);
    s.give();
    w.join();
    KT_EXPECT_EQ(got, Status::ok);
}

// destroy() (or the destructor) wakes every waiter with Status::deleted.
KTEST(destroy_wakes_waiters_with_deleted) {
    {
        Semaphore s;
        Status a = Status::ok, b = Status::ok;
        kt::Worker wa({"wa", kt::prio(-1)}, [&] { a = s.take(); });
        kt::Worker wb({"wb", kt::prio(-2)}, [&] { b = s.take(Timeout::ticks(10000)); });
        s.destroy();
        KT_EXPECT_EQ(a, Status::deleted);
        KT_EXPECT_EQ(b, Status::deleted);
    }
    {
        Mutex m;
        Status got = Status::ok;
        KT_ASSERT_EQ(m.lock(), Status::ok);
        kt::Worker w({"w", kt::prio(-1)}, [&] { got = m.lock(); });
        KT_EXPECT_EQ(Thread::current()->priority(), kt::prio(-1));
        m.destroy();
        KT_EXPECT_EQ(got, Status::deleted);
        KT_EXPECT_EQ(Thread::current()->priority(), kt::kBase);  // nothing inherited any more
        KT_EXPECT_EQ(m.owner(), nullptr);
    }
    {
        MessageQueueOf<uint32_t, 1> q;
        Status r = Status::ok, s = Status::ok;
        kt::Worker rx({"rx", kt::prio(-1)}, [&] {
            uint32_t v;
            r = q.receive(v);
        });
        q.raw().destroy();
        KT_EXPECT_EQ(r, Status::deleted);
        KT_ASSERT_EQ(q.send(1u), Status::ok);
        kt::Worker tx({"tx", kt::prio(-1)}, [&] { s = q.send(2u); });
        q.raw().destroy();
        KT_EXPECT_EQ(s, Status::deleted);
    }
    {
        EventFlags e;
        Status got = Status::ok;
        kt::Worker w({"w", kt::prio(-1)}, [&] { got = e.wait(1, EventFlags::all); });
        e.destroy();
        KT_EXPECT_EQ(got, Status::deleted);
    }
    {
        Mutex m;
        ConditionVariable cv;
        Status got = Status::ok;
        bool held = false;
        kt::Worker w({"w", kt::prio(-1)}, [&] {
            m.lock();
            got = cv.wait(m);
            held = m.owner() == Thread::current();
            m.unlock();
        });
        cv.destroy();
        KT_EXPECT_EQ(got, Status::deleted);
        KT_EXPECT(held);
    }
    {
        // The pool's destructor is its destroy(): run it on raw storage.
        using Pool = StaticMemoryPool<16, 1>;
        alignas(Pool) uint8_t storage[sizeof(Pool)];
        auto* pool = new (storage) Pool();
        void* only = pool->alloc();
        KT_ASSERT(only != nullptr);
        void* got = &storage;
        bool woke = false;
        kt::Worker w({"w", kt::prio(-1)}, [&] {
            got = pool->alloc(Timeout::forever());
            woke = true;
        });
        KT_EXPECT(!woke);
        pool->~Pool();
        KT_EXPECT(woke);
        KT_EXPECT_EQ(got, nullptr);
    }
}

// Calls that must not wait, under the scheduler lock: they answer at once
// instead of treating the lock as a reason to fail (or panic).
KTEST(no_wait_calls_under_scheduler_lock) {
    Semaphore s(0);
    EventFlags e;
    MessageQueueOf<uint32_t, 1> q;
    Mutex m;
    Semaphore go;
    kt::Worker owner({"owner", kt::prio(+1)}, [&] {
        m.lock();
        go.take();
        m.unlock();
    });
    KT_ASSERT(kt::wait_for([&] { return m.owner() == owner.thread(); }));
    Status st[6];
    {
        SchedulerLock lock;
        uint32_t v;
        st[0] = s.take(Timeout::none());
        st[1] = e.wait(1, EventFlags::any, Timeout::none());
        st[2] = q.receive(v, Timeout::none());
        st[3] = m.try_lock();
        st[4] = owner->join(Timeout::none());
        q.send(7u, Timeout::none());
        st[5] = q.send(8u, Timeout::none());
    }
    KT_EXPECT_EQ(st[0], Status::timeout);
    KT_EXPECT_EQ(st[1], Status::timeout);
    KT_EXPECT_EQ(st[2], Status::timeout);
    KT_EXPECT_EQ(st[3], Status::timeout);
    KT_EXPECT_EQ(st[4], Status::timeout);
    KT_EXPECT_EQ(st[5], Status::overflow);
    go.give();
}
