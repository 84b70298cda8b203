// Semaphores, message queues (raw, typed, mailboxes), event flags and
// condition variables: ordering, hand-offs and wake-up rules.
#include <rtos/condition_variable.hpp>
#include <rtos/event_flags.hpp>
#include <rtos/message_queue.hpp>
#include <rtos/mutex.hpp>
#include <rtos/semaphore.hpp>

#include "ktest/ktest.hpp"

using namespace rtos;

KTEST(semaphore_counts_and_wakes_by_priority) {
    Semaphore s(2, 3);
    KT_EXPECT_EQ(s.take(Timeout::none()), Status::ok);
    KT_EXPECT_EQ(s.take(Timeout::none()), Status::ok);
    KT_EXPECT_EQ(s.take(Timeout::none()), Status::timeout);
    for (int i = 0; i < 3; ++i) KT_EXPECT_EQ(s.give(), Status::ok);
    KT_EXPECT_EQ(s.give(), Status::overflow);
    KT_EXPECT_EQ(s.count(), 3u);
    BinarySemaphore b;
    KT_EXPECT_EQ(b.give(), Status::ok);
    KT_EXPECT_EQ(b.give(), Status::overflow);
    KT_EXPECT_EQ(b.count(), 1u);

    Semaphore w(0);
    kt::EventLog log;
    auto body = [&](char c) {
        return [&w, &log, c] {
            KT_EXPECT_EQ(w.take(), Status::ok);
            log.add(c);
        };
    };
    kt::Worker w1({"w1", kt::prio(+1)}, body('1'));
    kt::Worker w2({"w2", kt::prio(+2)}, body('2'));
    kt::Worker w3({"w3", kt::prio(+1)}, body('3'));
    KT_ASSERT(kt::wait_for([&] { return w2->state() == ThreadState::blocked; }));
    // A give with waiters hands the unit over: the count stays 0.
    for (int i = 0; i < 3; ++i) {
        w.give();
        KT_EXPECT_EQ(w.count(), 0u);
    }
    w1.join();
    w2.join();
    w3.join();
    KT_EXPECT_STREQ(log.str(), "132");
}

KTEST(queue_fifo_with_urgent_at_front) {
    MessageQueueOf<uint32_t, 4> q;
    // Several rounds so the ring wraps at both ends.
    for (uint32_t r = 0; r < 7; ++r) {
        KT_EXPECT_EQ(q.send(r * 10 + 1), Status::ok);
        KT_EXPECT_EQ(q.send(r * 10 + 2), Status::ok);
        KT_EXPECT_EQ(q.send(r * 10 + 3), Status::ok);
        KT_EXPECT_EQ(q.send_urgent(r * 10 + 0), Status::ok);
        KT_EXPECT_EQ(q.count(), 4u);
        KT_EXPECT_EQ(q.send(99u, Timeout::none()), Status::overflow);
        for (uint32_t i = 0; i < 4; ++i) {
            uint32_t v = 0;
            KT_EXPECT_EQ(q.receive(v, Timeout::none()), Status::ok);
            KT_EXPECT_EQ(v, r * 10 + i);
        }
        uint32_t v;
        KT_EXPECT_EQ(q.receive(v, Timeout::none()), Status::timeout);
    }
}

// A sender blocked on a full queue: when a receive makes room, its message
// moves into the queue (urgent ones to the front), highest priority first,
// and it returns ok.
KTEST(queue_blocked_sender_gets_room) {
    MessageQueueOf<uint32_t, 2> q;
    KT_ASSERT_EQ(q.send(1u), Status::ok);
    KT_ASSERT_EQ(q.send(2u), Status::ok);
    Status s1 = Status::invalid, s2 = Status::invalid;
    kt::Worker tx1({"tx1", kt::prio(-1)}, [&] { s1 = q.send(3u); });
    kt::Worker tx2({"tx2", kt::prio(-2)}, [&] { s2 = q.send_urgent(0u); });
    KT_EXPECT_EQ(tx1->state(), ThreadState::blocked);
    KT_EXPECT_EQ(tx2->state(), ThreadState::blocked);
    uint32_t order[4];
    for (auto& v : order) KT_EXPECT_EQ(q.receive(v, Timeout::none()), Status::ok);
    KT_EXPECT_EQ(order[0], 1u);
    KT_EXPECT_EQ(order[1], 0u);  // tx2 (higher) got the first room, at the front
    KT_EXPECT_EQ(order[2], 2u);
    KT_EXPECT_EQ(order[3], 3u);
    KT_EXPECT_EQ(s1, Status::ok);
    KT_EXPECT_EQ(s2, Status::ok);
    KT_EXPECT_EQ(q.count(), 0u);
}

// Waiting receivers get messages directly, highest priority first.
KTEST(queue_hands_messages_to_waiting_receivers) {
    MessageQueueOf<uint32_t, 2> q;
    uint32_t got1 = 0, got2 = 0;
    kt::Worker rx1({"rx1", kt::prio(+1)}, [&] { q.receive(got1); });
    kt::Worker rx2({"rx2", kt::prio(+2)}, [&] { q.receive(got2); });
    KT_ASSERT(kt::wait_for([&] {
        return rx1->state() == ThreadState::blocked && rx2->state() == ThreadState::blocked;
    }));
    KT_EXPECT_EQ(q.send(7u), Status::ok);
    KT_EXPECT_EQ(q.count(), 0u);  // went straight to rx1
    KT_EXPECT_EQ(q.send(8u), Status::ok);
    KT_EXPECT_EQ(q.count(), 0u);
    rx1.join();
    rx2.join();
    KT_EXPECT_EQ(got1, 7u);
    KT_EXPECT_EQ(got2, 8u);
}

KTEST(typed_queue_and_mailbox) {
    struct Msg {
        uint16_t kind;
        uint64_t value;
        char tag[5];
    };
    MessageQueueOf<Msg, 3> q;
    Msg m{7, 0x1122334455667788ull, "abcd"};
    KT_EXPECT_EQ(q.send(m), Status::ok);
    m.value = 0;  // the queue holds a copy
    m.tag[0] = 'z';
    Msg out{};
    KT_EXPECT_EQ(q.receive(out, Timeout::none()), Status::ok);
    KT_EXPECT_EQ(out.kind, 7u);
    KT_EXPECT_EQ(out.value, 0x1122334455667788ull);
    KT_EXPECT_STREQ(out.tag, "abcd");

    Mailbox<4> mb;
    static int objects[3];
    KT_EXPECT_EQ(mb.post(reinterpret_cast<uintptr_t>(&objects[1])), Status::ok);
    KT_EXPECT_EQ(mb.post(reinterpret_cast<uintptr_t>(&objects[2])), Status::ok);
    KT_EXPECT_EQ(mb.post_urgent(reinterpret_cast<uintptr_t>(&objects[0])), Status::ok);
    KT_EXPECT_EQ(mb.count(), 3u);
    for (int i = 0; i < 3; ++i) {
        uintptr_t w = 0;
        KT_EXPECT_EQ(mb.fetch(w, Timeout::none()), Status::ok);
        KT_EXPECT_EQ(reinterpret_cast<int*>(w), &objects[i]);
    }
    // Across threads: 200 words through a 4-slot mailbox, in order.
    uintptr_t expect_next = 1;
    bool in_order = true;
    kt::Worker rx({"rx", kt::prio(+1)}, [&] {
        for (uintptr_t i = 1; i <= 200; ++i) {
            uintptr_t w = 0;
            if (mb.fetch(w, Timeout::ticks(kt::join_limit())) != Status::ok || w != expect_next)
                in_order = false;
            ++expect_next;
        }
    });
    for (uintptr_t i = 1; i <= 200; ++i) KT_EXPECT_EQ(mb.post(i), Status::ok);
    rx.join();
    KT_EXPECT(in_order);
    KT_EXPECT_EQ(expect_next, 201u);
}

KTEST(event_flags_any_all_and_clear) {
    EventFlags e;
    uint32_t out = 0;
    e.set(0x1);
    KT_EXPECT_EQ(e.wait(0x3, EventFlags::all, Timeout::none()), Status::timeout);
    KT_EXPECT_EQ(e.wait(0x3, EventFlags::any, Timeout::none(), &out), Status::ok);
    KT_EXPECT_EQ(out, 0x1u);
    KT_EXPECT_EQ(e.get(), 0x1u);  // not cleared
    e.set(0x2);
    KT_EXPECT_EQ(e.wait(0x3, EventFlags::all | EventFlags::clear_on_exit, Timeout::none(), &out),
                 Status::ok);
    KT_EXPECT_EQ(out, 0x3u);
    KT_EXPECT_EQ(e.get(), 0u);
    e.set(0x5);
    KT_EXPECT_EQ(e.wait(0x4, EventFlags::any | EventFlags::clear_on_exit, Timeout::none(), &out),
                 Status::ok);
    KT_EXPECT_EQ(out, 0x5u);
    KT_EXPECT_EQ(e.get(), 0x1u);  // only the matched bit went
    e.clear(0x1);
    KT_EXPECT_EQ(e.get(), 0u);
    KT_EXPECT_EQ(e.wait(0, EventFlags::any, Timeout::none()), Status::invalid);

    // A blocked "all" waiter wakes only when the last bit arrives.
    uint32_t got = 0;
    kt::Worker w({"w", kt::prio(-1)}, [&] {
        KT_EXPECT_EQ(
            e.wait(0x30, EventFlags::all | EventFlags::clear_on_exit, Timeout::forever(), &got),
            Status::ok);
    });
    e.set(0x10);
    KT_EXPECT_EQ(w->state(), ThreadState::blocked);
    e.set(0x21);
    w.join();
    KT_EXPECT_EQ(got, 0x31u);
    KT_EXPECT_EQ(e.get(), 0x1u);
}

// One set() wakes every waiter it satisfies; a clear_on_exit waiter's
// clearing does not hide the bits from the others woken by the same set.
KTEST(event_set_wakes_several_waiters) {
    EventFlags e;
    kt::EventLog log;
    uint32_t out[4] = {};
    auto waiter = [&](int i, uint32_t mask, unsigned mode) {
        return [&e, &log, &out, i, mask, mode] {
            KT_EXPECT_EQ(e.wait(mask, mode, Timeout::forever(), &out[i]), Status::ok);
            log.add(static_cast<char>('0' + i));
        };
    };
    kt::Worker w0({"w0", kt::prio(-1)},
                  waiter(0, 0x1, EventFlags::any | EventFlags::clear_on_exit));
    kt::Worker w1({"w1", kt::prio(-1)}, waiter(1, 0x3, EventFlags::all));
    kt::Worker w2({"w2", kt::prio(-1)}, waiter(2, 0x4, EventFlags::any));
    kt::Worker w3({"w3", kt::prio(-1)}, waiter(3, 0x1, EventFlags::any));
    e.set(0x3);
    KT_EXPECT_STREQ(log.str(), "013");
    KT_EXPECT_EQ(w2->state(), ThreadState::blocked);
    KT_EXPECT_EQ(out[0], 0x3u);
    KT_EXPECT_EQ(out[1], 0x3u);
    KT_EXPECT_EQ(out[3], 0x3u);
    KT_EXPECT_EQ(e.get(), 0x2u);  // w0 consumed bit 0
    e.set(0x4);
    KT_EXPECT_STREQ(log.str(), "0132");
    KT_EXPECT_EQ(out[2], 0x6u);
}

// Consumers wait with the predicate loop. signal() wakes one (the
// highest-priority waiter), broadcast() wakes all; each returns holding the
// mutex.
KTEST(condition_variable_signal_and_broadcast) {
    Mutex m;
    ConditionVariable cv;
    int items = 0;
    bool done = false;
    int consumed[3] = {};
    bool held = true;
    auto consumer = [&](int i) {
        return [&, i] {
            m.lock();
            for (;;) {
                while (items == 0 && !done) cv.wait(m);
                held = held && m.owner() == Thread::current();
                if (items == 0) break;
                --items;
                ++consumed[i];
            }
            m.unlock();
        };
    };
    kt::Worker c0({"c0", kt::prio(-1)}, consumer(0));
    kt::Worker c1({"c1", kt::prio(-3)}, consumer(1));
    kt::Worker c2({"c2", kt::prio(-2)}, consumer(2));

    m.lock();
    items = 1;
    cv.signal();
    m.unlock();  // c1 (highest) takes the item and waits again
    KT_EXPECT_EQ(consumed[0], 0);
    KT_EXPECT_EQ(consumed[1], 1);
    KT_EXPECT_EQ(consumed[2], 0);
    KT_EXPECT_EQ(c0->state(), ThreadState::blocked);

    m.lock();
    items = 3;
    cv.signal();  // one waiter only: it empties the queue of items alone
    m.unlock();
    KT_EXPECT_EQ(consumed[1], 4);
    KT_EXPECT_EQ(consumed[0] + consumed[2], 0);

    m.lock();
    done = true;
    cv.broadcast();
    m.unlock();
    c0.join();
    c1.join();
    c2.join();
    KT_EXPECT(held);
    KT_EXPECT_EQ(m.owner(), nullptr);

    // Not holding the mutex, or holding it twice: refused.
    KT_EXPECT_EQ(cv.wait(m, Timeout::ticks(1)), Status::invalid);
    m.lock();
    m.lock();
    KT_EXPECT_EQ(cv.wait(m, Timeout::ticks(1)), Status::invalid);
    m.unlock();
    m.unlock();
}

// broadcast() wakes every waiter: all three see the change.
KTEST(condition_variable_broadcast_wakes_all) {
    Mutex m;
    ConditionVariable cv;
    unsigned generation = 0;
    unsigned woken = 0;
    auto waiter = [&] {
        m.lock();
        unsigned g = generation;
        while (generation == g) cv.wait(m);
        ++woken;
        m.unlock();
    };
    kt::Worker a({"a", kt::prio(-1)}, waiter);
    kt::Worker b({"b", kt::prio(-1)}, waiter);
    kt::Worker c({"c", kt::prio(+1)}, waiter);
    KT_ASSERT(kt::wait_for([&] { return c->state() == ThreadState::blocked; }));
    m.lock();
    ++generation;
    cv.broadcast();
    m.unlock();
    a.join();
    b.join();
    c.join();
    KT_EXPECT_EQ(woken, 3u);
}
