// Stress: 16 threads at mixed priorities for 5 s of ticks over a message
// queue (with heap-allocated payloads), semaphore ping-pong pairs and a pair
// of nested mutexes. Afterwards: every item produced was consumed exactly
// once (no lost or duplicated message), no ping-pong stalled (no lost
// wake-up), the mutex-protected counter equals the sum of the increments
// (mutual exclusion), every thread ended before the deadline (no deadlock),
// and the heap is back to where it started (no leak).
//
// Every thread sleeps a tick every few operations, so the load stays well
// below what the CPU can do in a tick and the lowest-priority threads make
// progress too (a priority scheduler owes them nothing otherwise).
#include <new>

#include <rtos/critical.hpp>
#include <rtos/heap.hpp>
#include <rtos/message_queue.hpp>
#include <rtos/mutex.hpp>
#include <rtos/semaphore.hpp>

#include "ktest/ktest.hpp"

using namespace rtos;

namespace {

constexpr int kProducers = 4, kConsumers = 4, kPairs = 2, kLockers = 4;
constexpr int kThreads = kProducers + kConsumers + 2 * kPairs + kLockers;
static_assert(kThreads == 16);
constexpr uint32_t kMaxPerProducer = 32768;
constexpr uint32_t kMagic = 0x5a17c0deu;

struct Item {
    uint32_t id;
    uint32_t* payload;
};

struct Stress {
    volatile Tick end;  // brought forward on Ctrl-C
    MessageQueueOf<Item, 8> queue;
    uint8_t* seen;  // kProducers * kMaxPerProducer counters
    volatile uint32_t produced[kProducers];
    volatile unsigned long consumed[kConsumers];
    volatile bool producers_done;
    volatile bool queue_stalled, bad_payload, out_of_memory;

    struct Pair {
        Semaphore ping, pong;
        volatile bool stop;
        volatile bool lost;
        volatile unsigned long rounds;
    } pairs[kPairs];

    Mutex outer, inner;
    volatile unsigned long shared;
    volatile unsigned long local[kLockers];
    volatile bool lock_failed;
};

struct Arg {
    Stress* s;
    int i;
};

Tick second() { return clock::tick_hz(); }

void producer(void* a) {
    auto [s, p] = *static_cast<Arg*>(a);
    uint32_t n = 0;
    while (kt::now() < s->end && n < kMaxPerProducer) {
        auto* payload = static_cast<uint32_t*>(heap::alloc(2 * sizeof(uint32_t)));
        if (!payload) {
            s->out_of_memory = true;
            break;
        }
        Item item{static_cast<uint32_t>(p) * kMaxPerProducer + n, payload};
        payload[0] = item.id ^ kMagic;
        payload[1] = ~item.id;
        bool urgent = (n % 5) == 4;
        Status st = urgent ? s->queue.send_urgent(item, Timeout::ticks(second()))
                           : s->queue.send(item, Timeout::ticks(second()));
        if (st != Status::ok) {
            heap::free(payload);
            s->queue_stalled = true;
            break;
        }
        s->produced[p] = ++n;
        if (n % 2 == 0) Thread::sleep(1);
    }
}

void consumer(void* a) {
    auto [s, c] = *static_cast<Arg*>(a);
    unsigned long n = 0;
    for (;;) {
        Item item;
        Status st = s->queue.receive(item, Timeout::ticks(kt::ms(20)));
        if (st == Status::timeout) {
            if (s->producers_done) break;
            continue;
        }
        if (st != Status::ok || item.id >= kProducers * kMaxPerProducer) {
            s->bad_payload = true;
            break;
        }
        if (item.payload[0] != (item.id ^ kMagic) || item.payload[1] != ~item.id)
            s->bad_payload = true;
        heap::free(item.payload);
        {
            IrqLock lock;
            s->seen[item.id] = static_cast<uint8_t>(s->seen[item.id] + 1);
        }
        s->consumed[c] = ++n;
        if (c == 2 && n % 8 == 0) Thread::sleep(1);  // a slow one: the queue fills up
    }
}

void pinger(void* a) {
    auto [s, i] = *static_cast<Arg*>(a);
    Stress::Pair& p = s->pairs[i];
    while (kt::now() < s->end) {
        p.ping.give();
        if (p.pong.take(Timeout::ticks(second())) != Status::ok) {
            p.lost = true;
            break;
        }
        p.rounds = p.rounds + 1;
        if (p.rounds % 8 == 0) Thread::sleep(1);  // a busy pair would starve lower threads
    }
    p.stop = true;
    p.ping.give();
}

void ponger(void* a) {
    auto [s, i] = *static_cast<Arg*>(a);
    Stress::Pair& p = s->pairs[i];
    for (;;) {
        if (p.ping.take(Timeout::ticks(2 * second())) != Status::ok) {
            p.lost = true;
            break;
        }
        if (p.stop) break;
        p.pong.give();
    }
}

void locker(void* a) {
    auto [s, i] = *static_cast<Arg*>(a);
    unsigned long n = 0;
    while (kt::now() < s->end) {
        if (s->outer.lock(Timeout::ticks(second())) != Status::ok) {
            s->lock_failed = true;
            break;
        }
        if (s->inner.lock(Timeout::ticks(second())) != Status::ok) {
            s->outer.unlock();
            s->lock_failed = true;
            break;
        }
        bool twice = (n % 3) == 0;
        if (twice) s->inner.lock();  // recursively
        unsigned long v = s->shared;
        if (n % 8 == 0) Thread::yield();  // let an equal in while we hold both
        s->shared = v + 1;
        if (twice) s->inner.unlock();
        s->inner.unlock();
        s->outer.unlock();
        s->local[i] = ++n;
        if (n % 4 == 0) Thread::sleep(1);  // lower threads get their turn
    }
}

struct Role {
    const char* name;
    Thread::Entry entry;
    int index;
    int prio_offset;
};

const Role kRoles[kThreads] = {
    {"prod0", producer, 0, +1}, {"prod1", producer, 1, +2}, {"prod2", producer, 2, -1},
    {"prod3", producer, 3, +3}, {"cons0", consumer, 0, +2}, {"cons1", consumer, 1, +1},
    {"cons2", consumer, 2, +3}, {"cons3", consumer, 3, -2}, {"ping0", pinger, 0, +1},
    {"pong0", ponger, 0, +2},   {"ping1", pinger, 1, +3},   {"pong1", ponger, 1, -1},
    {"lock0", locker, 0, -1},   {"lock1", locker, 1, +1},   {"lock2", locker, 2, +2},
    {"lock3", locker, 3, +3},
};

}  // namespace

KTEST(stress_16_threads_for_5_seconds) {
    kt::HeapMark mark;
    // Too big for the test stack; built afresh in static storage each run.
    alignas(Stress) static uint8_t storage[sizeof(Stress)];
    Stress& s = *new (storage) Stress();
    s.seen = static_cast<uint8_t*>(heap::alloc_aligned(kProducers * kMaxPerProducer, 16, true));
    KT_ASSERT(s.seen != nullptr);
    s.end = kt::now() + 5 * second();
    const Tick deadline = s.end + 2 * second();

    Arg args[kThreads];
    Thread* threads[kThreads] = {};
    for (int i = 0; i < kThreads; ++i) {
        args[i] = {&s, kRoles[i].index};
        threads[i] =
            Thread::create({.name = kRoles[i].name, .priority = kt::prio(kRoles[i].prio_offset)},
                           kRoles[i].entry, &args[i], 8192);
        if (!threads[i]) KT_FAIL("could not create %s", kRoles[i].name);
    }
    // Ctrl-C ends the run early; then only the amounts of work are not checked.
    while (kt::now() < s.end && !kt::stop_requested()) Thread::sleep(kt::ms(10));
    const bool cut_short = kt::now() < s.end;
    if (cut_short) s.end = kt::now();

    bool all_ended = true;
    auto join = [&](int i) {
        if (!threads[i]) return;
        Tick now = kt::now();
        Tick left = deadline > now ? deadline - now : 1;
        if (threads[i]->join(Timeout::ticks(left)) != Status::ok) {
            KT_FAIL("%s did not end by the deadline (state %s)", kRoles[i].name,
                    thread_state_name(threads[i]->state()));
            threads[i]->suspend();
            all_ended = false;
        }
    };
    for (int i = 0; i < kProducers; ++i) join(i);
    s.producers_done = true;
    for (int i = kProducers; i < kThreads; ++i) join(i);
    if (!all_ended) {
        kt::abort_suite("stress threads could not be stopped");
        return;  // they may still use s and the heap
    }

    // Every item produced was consumed exactly once.
    unsigned long produced = 0, consumed = 0, missing = 0, duplicated = 0, phantom = 0;
    for (int p = 0; p < kProducers; ++p) {
        produced += s.produced[p];
        for (uint32_t n = 0; n < kMaxPerProducer; ++n) {
            uint8_t seen = s.seen[p * kMaxPerProducer + n];
            if (n < s.produced[p]) {
                missing += seen == 0;
                duplicated += seen > 1;
            } else {
                phantom += seen != 0;
            }
        }
    }
    for (int c = 0; c < kConsumers; ++c) consumed += s.consumed[c];
    KT_EXPECT_EQ(produced, consumed);
    KT_EXPECT_EQ(missing, 0u);
    KT_EXPECT_EQ(duplicated, 0u);
    KT_EXPECT_EQ(phantom, 0u);
    if (!cut_short) KT_EXPECT_GT(produced, 1000u);
    KT_EXPECT(!s.queue_stalled);
    KT_EXPECT(!s.bad_payload);
    KT_EXPECT(!s.out_of_memory);
    KT_EXPECT_EQ(s.queue.count(), 0u);

    for (auto& p : s.pairs) {
        KT_EXPECT(!p.lost);
        if (!cut_short) KT_EXPECT_GT(p.rounds, 100u);
    }

    unsigned long increments = 0;
    for (auto n : s.local) {
        if (!cut_short) KT_EXPECT_GT(n, 10u);
        increments += n;
    }
    KT_EXPECT(!s.lock_failed);
    KT_EXPECT_EQ(s.shared, increments);
    KT_EXPECT_EQ(s.outer.owner(), nullptr);
    KT_EXPECT_EQ(s.inner.owner(), nullptr);

    heap::free(s.seen);
    s.~Stress();
    KT_EXPECT(mark.same());
}
