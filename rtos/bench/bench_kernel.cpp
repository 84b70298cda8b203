// Kernel primitives: context switch, semaphore wake-up, mutex, message
// queue, heap. Each run times `n` operations between two counter reads; the
// first run of each benchmark is a warm-up and is not recorded. A run is
// about a third of a tick's worth of instructions (fewer operations at tick
// rates above 1000 Hz), and a run a tick fell into is repeated (up to
// kTries times), so the numbers are the operation alone.
#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/heap.hpp>
#include <rtos/message_queue.hpp>
#include <rtos/mutex.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/thread.hpp>

#include "bench/bench.hpp"

namespace rtos::bench {
namespace {

constexpr unsigned kRuns = 16;
constexpr unsigned kTries = 4;

/// Operations per run at 1000 Hz -> at the configured tick rate.
constexpr unsigned ops(unsigned at_1000hz) {
    return CONFIG_RTOS_TICK_HZ <= 1000 ? at_1000hz : at_1000hz * 1000 / CONFIG_RTOS_TICK_HZ;
}

// ---- Two equal-priority threads -----------------------------------------------
// The first reads the counter (and the tick count) before its first
// operation and after its last; the second is its partner.

struct PairTiming {
    unsigned n;
    uint64_t t0 = 0, t1 = 0;
    Tick k0 = 0, k1 = 0;
    void begin() {
        k0 = clock::ticks();
        t0 = arch::counter_read();
    }
    void end() {
        t1 = arch::counter_read();
        k1 = clock::ticks();
    }
};

// ---- ctx_switch_yield ------------------------------------------------------
// Two threads at the benchmark's priority yield to each other: in between
// the first's counter reads each thread yielded n times, 2n switches.

void yield_first(void* arg) {
    auto* p = static_cast<PairTiming*>(arg);
    p->begin();
    for (unsigned i = 0; i < p->n; ++i) Thread::yield();
    p->end();
}

void yield_second(void* arg) {
    auto* p = static_cast<PairTiming*>(arg);
    for (unsigned i = 0; i < p->n; ++i) Thread::yield();
}

// ---- sem_pingpong ------------------------------------------------------------
// A higher-priority thread waits on `ping`; the benchmark thread gives it
// (the waiter preempts at once), the waiter gives `pong` and waits again,
// and the benchmark thread takes `pong` without waiting. One round trip:
// two gives, two takes, two context switches.

struct PingPong {
    Semaphore ping{0};
    Semaphore pong{0};
    volatile bool stop = false;
};

void pong_entry(void* arg) {
    auto* p = static_cast<PingPong*>(arg);
    for (;;) {
        p->ping.take();
        if (p->stop) return;
        p->pong.give();
    }
}

// ---- sem_pingpong_equal -----------------------------------------------------
// Two threads of equal priority hand a token back and forth through two
// semaphores: each gives the other's and waits on its own, so every give
// readies a thread that does not preempt and every take blocks and
// switches. One round trip: two gives, two blocking takes, two switches.

struct EqualPingPong : PairTiming {
    Semaphore a{0};
    Semaphore b{0};
};

void equal_first(void* arg) {
    auto* p = static_cast<EqualPingPong*>(static_cast<PairTiming*>(arg));
    p->begin();
    for (unsigned i = 0; i < p->n; ++i) {
        p->b.give();
        p->a.take();
    }
    p->end();
}

void equal_second(void* arg) {
    auto* p = static_cast<EqualPingPong*>(static_cast<PairTiming*>(arg));
    for (unsigned i = 0; i < p->n; ++i) {
        p->b.take();
        p->a.give();
    }
}

// Runs measure() (which returns counter ticks and sets `ticked` when a
// tick fell into them) kRuns times after a warm-up, each time until a run
// is tick-free or kTries tries are used up; records per-op costs.
template <typename F>
void runs(Result& r, unsigned n, F measure) {
    for (unsigned run = 0; run <= kRuns; ++run) {
        uint64_t elapsed = 0;
        bool ticked = true;
        for (unsigned k = 0; ticked && k < kTries; ++k) {
            elapsed = measure(ticked);
            if (r.failed) return;
        }
        if (run > 0) r.add_run(elapsed, n);
    }
}

// Starts first(&pair) and second(&pair) at our priority (they run when we
// block in join) and returns the first's counter span.
uint64_t run_pair(Result& r, PairTiming& pair, Thread::Entry first, Thread::Entry second,
                  bool& ticked) {
    Thread* a =
        Thread::create({.name = "bench-a", .priority = kRunPriority}, first, &pair, kStackSize);
    Thread* b =
        Thread::create({.name = "bench-b", .priority = kRunPriority}, second, &pair, kStackSize);
    if (a) a->join();
    if (b) b->join();
    if (!a || !b) r.fail("no memory for the threads");
    ticked = pair.k1 != pair.k0;
    return pair.t1 - pair.t0;
}

// Times `n` calls of op() per run.
template <typename F>
void time_loop(Result& r, unsigned n, F op) {
    runs(r, n, [&](bool& ticked) {
        Tick k0 = clock::ticks();
        uint64_t t0 = arch::counter_read();
        for (unsigned i = 0; i < n; ++i) op();
        uint64_t t1 = arch::counter_read();
        ticked = clock::ticks() != k0;
        return t1 - t0;
    });
}

}  // namespace

void ctx_switch_yield(Result& r) {
    constexpr unsigned kYields = ops(200);
    runs(r, 2 * kYields, [&](bool& ticked) -> uint64_t {
        PairTiming pair{kYields};
        return run_pair(r, pair, yield_first, yield_second, ticked);
    });
}

void sem_pingpong(Result& r) {
    constexpr unsigned kRounds = ops(100);
    PingPong p;
    Thread* hi = Thread::create({.name = "bench-pong", .priority = kHighPriority}, pong_entry, &p,
                                kStackSize);
    if (!hi) return r.fail("no memory for the thread");
    // It ran at once and now waits on ping.
    bool ok = true;
    time_loop(r, kRounds, [&] {
        p.ping.give();
        if (p.pong.take(Timeout::none()) != Status::ok) ok = false;
    });
    p.stop = true;
    p.ping.give();
    hi->join();
    if (!ok) r.fail("the higher-priority thread did not answer at once");
}

void sem_pingpong_equal(Result& r) {
    constexpr unsigned kRounds = ops(100);
    runs(r, kRounds, [&](bool& ticked) -> uint64_t {
        EqualPingPong pp;
        pp.n = kRounds;
        return run_pair(r, pp, equal_first, equal_second, ticked);
    });
}

void sem_give_take(Result& r) {
    Semaphore s{0};
    bool ok = true;
    time_loop(r, ops(1000), [&] {
        s.give();
        if (s.take(Timeout::none()) != Status::ok) ok = false;
    });
    if (!ok) r.fail("take failed");
}

void mutex_lock_unlock(Result& r) {
    Mutex m;
    bool ok = true;
    time_loop(r, ops(1000), [&] {
        if (m.lock() != Status::ok) ok = false;
        m.unlock();
    });
    if (!ok) r.fail("lock failed");
}

void msgq_send_recv(Result& r) {
    struct Message {
        uint64_t a, b;
    };
    MessageQueueOf<Message, 4> q;
    Message in{1, 2}, out{};
    bool ok = true;
    time_loop(r, ops(1000), [&] {
        if (q.send(in, Timeout::none()) != Status::ok) ok = false;
        if (q.receive(out, Timeout::none()) != Status::ok) ok = false;
    });
    if (!ok || out.b != 2) r.fail("send or receive failed");
}

void heap_alloc_free_64(Result& r) {
    bool ok = true;
    time_loop(r, ops(1000), [&] {
        void* p = heap::alloc(64);
        if (!p) ok = false;
        heap::free(p);
    });
    if (!ok) r.fail("out of memory");
}

}  // namespace rtos::bench
