// Interrupt-to-thread wake-ups with a real interrupt: the test raises the
// architecture's software interrupt (rtos::arch::raise_soft_interrupt); its
// handler runs the hook installed with kt::SoftIrqHook, which uses the
// _from_isr calls. A woken thread that outranks the interrupted one must
// run as the interrupt returns, before the interrupted thread goes on.
#include <rtos/critical.hpp>
#include <rtos/event_flags.hpp>
#include <rtos/memory_pool.hpp>
#include <rtos/message_queue.hpp>
#include <rtos/mutex.hpp>
#include <rtos/semaphore.hpp>

#include "ktest/ktest.hpp"

using namespace rtos;

KTEST(isr_give_runs_higher_thread_on_interrupt_exit) {
    Semaphore sem;
    kt::EventLog log;
    volatile bool hook_ran = false, hook_in_isr = false;
    Thread* interrupted = nullptr;
    auto hook = [&] {
        hook_in_isr = in_isr();
        interrupted = Thread::current();
        log.add('i');
        KT_EXPECT_EQ(sem.give_from_isr(), Status::ok);
        hook_ran = true;
    };
    kt::SoftIrqHook h(hook);
    kt::Worker w({"w", kt::prio(-1)}, [&] {
        KT_EXPECT_EQ(sem.take(), Status::ok);
        log.add('W');
    });
    KT_EXPECT_EQ(w->state(), ThreadState::blocked);
    log.add('a');
    KT_EXPECT(kt::raise_and_wait(hook_ran));
    log.add('b');
    KT_EXPECT(hook_in_isr);
    KT_EXPECT_EQ(interrupted, Thread::current());
    KT_EXPECT_STREQ(log.str(), "aiWb");
    if (!hook_ran) sem.give();  // let w end anyway
}

KTEST(isr_give_readies_lower_thread_for_later) {
    Semaphore sem;
    kt::EventLog log;
    volatile bool hook_ran = false;
    auto hook = [&] {
        log.add('i');
        sem.give_from_isr();
        hook_ran = true;
    };
    kt::SoftIrqHook h(hook);
    kt::Worker w({"w", kt::prio(+1)}, [&] {
        sem.take();
        log.add('W');
    });
    KT_ASSERT(kt::wait_for([&] { return w->state() == ThreadState::blocked; }));
    KT_EXPECT(kt::raise_and_wait(hook_ran));
    log.add('b');
    KT_EXPECT_EQ(w->state(), ThreadState::ready);
    w.join();
    KT_EXPECT_STREQ(log.str(), "ibW");
    if (!hook_ran) sem.give();
}

KTEST(isr_queue_send_hands_message_to_receiver) {
    MessageQueueOf<uint32_t, 2> q;
    kt::EventLog log;
    volatile bool hook_ran = false;
    Status sent[4] = {};
    volatile int round = 0;
    auto hook = [&] {
        log.add('i');
        if (round == 0) {
            sent[0] = q.send_from_isr(0xabcd1234u);
        } else {  // no receiver: two fit, the third overflows
            sent[1] = q.send_from_isr(1u);
            sent[2] = q.send_from_isr(2u);
            sent[3] = q.send_from_isr(3u);
        }
        hook_ran = true;
    };
    kt::SoftIrqHook h(hook);
    uint32_t got = 0;
    kt::Worker w({"rx", kt::prio(-1)}, [&] {
        KT_EXPECT_EQ(q.receive(got), Status::ok);
        log.add('W');
    });
    KT_EXPECT(kt::raise_and_wait(hook_ran));
    log.add('b');
    KT_EXPECT_STREQ(log.str(), "iWb");
    KT_EXPECT_EQ(got, 0xabcd1234u);
    w.join();

    round = 1;
    hook_ran = false;
    KT_EXPECT(kt::raise_and_wait(hook_ran));
    KT_EXPECT_EQ(sent[0], Status::ok);
    KT_EXPECT_EQ(sent[1], Status::ok);
    KT_EXPECT_EQ(sent[2], Status::ok);
    KT_EXPECT_EQ(sent[3], Status::overflow);
    uint32_t v = 0;
    KT_EXPECT_EQ(q.receive(v, Timeout::none()), Status::ok);
    KT_EXPECT_EQ(v, 1u);
    KT_EXPECT_EQ(q.receive(v, Timeout::none()), Status::ok);
    KT_EXPECT_EQ(v, 2u);
}

KTEST(isr_event_set_wakes_waiters) {
    EventFlags e;
    kt::EventLog log;
    volatile bool hook_ran = false;
    auto hook = [&] {
        e.set_from_isr(0x5);
        hook_ran = true;
    };
    kt::SoftIrqHook h(hook);
    uint32_t out1 = 0, out2 = 0;
    kt::Worker w1({"w1", kt::prio(-1)}, [&] {
        KT_EXPECT_EQ(e.wait(0x1, EventFlags::any, Timeout::forever(), &out1), Status::ok);
        log.add('1');
    });
    kt::Worker w2({"w2", kt::prio(-2)}, [&] {
        KT_EXPECT_EQ(
            e.wait(0x5, EventFlags::all | EventFlags::clear_on_exit, Timeout::forever(), &out2),
            Status::ok);
        log.add('2');
    });
    log.add('a');
    KT_EXPECT(kt::raise_and_wait(hook_ran));
    log.add('b');
    KT_EXPECT_STREQ(log.str(), "a21b");
    KT_EXPECT_EQ(out1, 0x5u);
    KT_EXPECT_EQ(out2, 0x5u);
    KT_EXPECT_EQ(e.get(), 0u);
    if (!hook_ran) e.set(0x5);
}

// Under the scheduler lock, a thread woken by an interrupt waits for the
// unlock, and runs right then (not at some later tick).
KTEST(isr_wake_under_scheduler_lock_runs_at_unlock) {
    Semaphore sem;
    kt::EventLog log;
    volatile bool hook_ran = false;
    auto hook = [&] {
        log.add('i');
        sem.give_from_isr();
        hook_ran = true;
    };
    kt::SoftIrqHook h(hook);
    kt::Worker w({"w", kt::prio(-1)}, [&] {
        sem.take();
        log.add('W');
    });
    {
        SchedulerLock lock;
        KT_EXPECT(kt::raise_and_wait(hook_ran));
        log.add('a');
        kt::spin_until(kt::now() + 2);  // ticks under the lock do not switch either
        log.add('b');
    }
    log.add('c');
    KT_EXPECT_STREQ(log.str(), "iabWc");
    if (!hook_ran) sem.give();
}

// In an interrupt handler nothing may wait: calls without a timeout answer
// at once, calls that would block refuse.
KTEST(isr_calls_never_block) {
    Semaphore s(0);
    EventFlags e;
    MessageQueueOf<uint32_t, 1> q;
    StaticMemoryPool<16, 1> pool;
    void* only = pool.alloc();
    Mutex m;
    volatile bool hook_ran = false;
    Status st[7] = {};
    void* block = &pool;
    auto hook = [&] {
        uint32_t v;
        st[0] = s.take(Timeout::none());
        st[1] = s.take(Timeout::forever());
        st[2] = e.wait(1, EventFlags::any, Timeout::none());
        st[3] = e.wait(1, EventFlags::any, Timeout::ticks(5));
        st[4] = q.receive_from_isr(v);
        st[5] = m.lock(Timeout::none());
        st[6] = m.unlock();
        block = pool.alloc(Timeout::ticks(5));
        hook_ran = true;
    };
    kt::SoftIrqHook h(hook);
    KT_ASSERT(kt::raise_and_wait(hook_ran));
    KT_EXPECT_EQ(st[0], Status::timeout);
    KT_EXPECT_EQ(st[1], Status::invalid);
    KT_EXPECT_EQ(st[2], Status::timeout);
    KT_EXPECT_EQ(st[3], Status::invalid);
    KT_EXPECT_EQ(st[4], Status::timeout);
    KT_EXPECT_EQ(st[5], Status::invalid);
    KT_EXPECT_EQ(st[6], Status::invalid);
    KT_EXPECT_EQ(block, nullptr);
    pool.free(only);
}
