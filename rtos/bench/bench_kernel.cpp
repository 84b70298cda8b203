// Kernel primitives: context switch, semaphore wake-up, mutex, message
// queue, heap; across CPUs, a wake-up, an IPI and parallel work. Each run
// times `n` operations between two counter reads; the first run of each
// benchmark is a warm-up and is not recorded. A run is about a third of a
// tick's worth of instructions (fewer operations at tick rates above 1000
// Hz), and a run a tick fell into is repeated (up to kTries times), so the
// numbers are the operation alone.
#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/heap.hpp>
#include <rtos/message_queue.hpp>
#include <rtos/mutex.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/smp.hpp>
#include <rtos/thread.hpp>

#include "bench/bench.hpp"
#include "kernel/scheduler.hpp"

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

// ---- Across CPUs (on request: `bench smp_`, tools/bench.py --smp / --speedup)
// Run under -icount with several vCPUs, QEMU runs them one at a time and
// virtual time is the instructions of all of them together: a figure is
// what every CPU retired per operation (a CPU waiting in its idle thread's
// wait-for-interrupt retires nothing). docs/benchmarks.md.

namespace rtos::bench {
namespace {

/// Pins the calling thread to `cpu` for the benchmark's length.
class PinnedTo {
public:
    explicit PinnedTo(unsigned cpu) : was_(Thread::current()->affinity()) {
        ok_ = Thread::current()->set_affinity(cpu_mask(cpu)) == Status::ok;
    }
    ~PinnedTo() { Thread::current()->set_affinity(was_); }
    PinnedTo(const PinnedTo&) = delete;
    PinnedTo& operator=(const PinnedTo&) = delete;
    bool ok() const { return ok_; }

private:
    CpuMask was_;
    bool ok_;
};

const char* needs_two_cpus() {
#if defined(CONFIG_RTOS_SMP)
    if (smp::cpu_count() >= 2) return nullptr;
    return "needs 2 CPUs online: tools/bench.py --smp N";
#else
    return "CONFIG_RTOS_SMP is off";
#endif
}

#if defined(CONFIG_RTOS_SMP)
// ---- smp_ipi_roundtrip ---------------------------------------------------------
// CPU 0 asks CPU 1 (idle, in wait-for-interrupt) to run ipi_answer in its
// software interrupt (kernel::ipi_call), which asks CPU 0 to run ipi_seen
// the same way; CPU 0 waits in wait-for-interrupt. One round trip: two
// IPIs, each a trap on its CPU. CPU 0 does not spin: under -icount a
// spinning vCPU keeps its turn (riscv64's `pause` does not end it), so the
// figure would be QEMU's time slice.

void ipi_seen(void* arg) { __atomic_fetch_add(static_cast<uint64_t*>(arg), 1, __ATOMIC_RELEASE); }
void ipi_answer(void* arg) { kernel::ipi_call(0, ipi_seen, arg); }
#endif

// ---- smp_parallel_work ----------------------------------------------------------
// kWork iterations of an integer mix, split evenly over one thread pinned to
// each CPU online; a run is from the first thread's creation to the last
// join. Without -icount (tools/bench.py --speedup) the figure is wall-clock
// nanoseconds per 1000 iterations for the machine as a whole: the ratio of
// -smp 1 to -smp 2 is the parallel speed-up.

constexpr uint64_t kWork = 1u << 22;
constexpr unsigned kWorkRuns = 8;

struct Share {
    uint64_t iterations;
    uint64_t seed;
    volatile uint64_t result;
};

void work_entry(void* arg) {
    auto* s = static_cast<Share*>(arg);
    uint64_t x = s->seed;
    for (uint64_t i = 0; i < s->iterations; ++i) {  // xorshift64: registers only
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    s->result = x;
}

}  // namespace

void smp_wake_pingpong(Result& r) {
    if (const char* why = needs_two_cpus()) {
        r.skipped = why;
        return;
    }
    PinnedTo here(0);
    if (!here.ok()) return r.fail("cannot pin to CPU 0");
    constexpr unsigned kRounds = ops(100);
    PingPong p;
    Thread* far =
        Thread::create({.name = "bench-far", .priority = kRunPriority, .affinity = cpu_mask(1)},
                       pong_entry, &p, kStackSize);
    if (!far) return r.fail("no memory for the thread");
    bool ok = true;
    time_loop(r, kRounds, [&] {
        p.ping.give();
        if (p.pong.take() != Status::ok) ok = false;
    });
    p.stop = true;
    p.ping.give();
    far->join();
    if (!ok) r.fail("take failed");
}

void smp_ipi_roundtrip(Result& r) {
    if (const char* why = needs_two_cpus()) {
        r.skipped = why;
        return;
    }
#if defined(CONFIG_RTOS_SMP)
    PinnedTo here(0);
    if (!here.ok()) return r.fail("cannot pin to CPU 0");
    uint64_t answers = 0;
    time_loop(r, ops(100), [&] {
        const uint64_t want = __atomic_load_n(&answers, __ATOMIC_RELAXED) + 1;
        kernel::ipi_call(1, ipi_answer, &answers);
        // Masked, the wait still ends when the IPI is pending; it is taken
        // at irq_restore (no answer lost between the check and the wait).
        for (;;) {
            const auto s = arch::irq_save();
            const bool seen = __atomic_load_n(&answers, __ATOMIC_ACQUIRE) == want;
            if (!seen) arch::wait_for_interrupt();
            arch::irq_restore(s);
            if (seen) break;
        }
    });
#endif
}

void smp_parallel_work(Result& r) {
    unsigned n = 0;
    Share shares[kMaxCpus];
    Thread* threads[kMaxCpus] = {};
    for (unsigned run = 0; run <= kWorkRuns; ++run) {
        const CpuMask online = smp::online_mask();
        n = 0;
        for (unsigned c = 0; c < kMaxCpus; ++c) n += (online >> c) & 1;
        const uint64_t t0 = arch::counter_read();
        // CPU 0's thread last: created first, it would take CPU 0 before the
        // others exist (equal priority: it does not preempt us, but we join).
        for (unsigned c = kMaxCpus; c-- > 0;) {
            if (!(online & cpu_mask(c))) continue;
            shares[c] = {kWork / n, 0x9e3779b97f4a7c15ull + c, 0};
            threads[c] = Thread::create(
                {.name = "bench-work", .priority = kRunPriority, .affinity = cpu_mask(c)},
                work_entry, &shares[c], kStackSize);
        }
        bool ok = true;
        for (unsigned c = 0; c < kMaxCpus; ++c) {
            if (!(online & cpu_mask(c))) continue;
            if (threads[c]) threads[c]->join();
            else ok = false;
            threads[c] = nullptr;
        }
        const uint64_t t1 = arch::counter_read();
        if (!ok) return r.fail("no memory for the threads");
        if (run > 0) r.add_run(t1 - t0, kWork / 1000);
    }
}

}  // namespace rtos::bench
