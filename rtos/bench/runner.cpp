// `bench [-l | filter]` (rtos/selftest.hpp; the shell command of the same
// name): runs every benchmark, the kernel's and then those added with
// BENCHMARKS() (or those whose name contains `filter`, the ones run only on
// request among them; -l lists them), each in a fresh thread, and prints
// after each one
//
//   bench: <name> <median> insn/op (min <min>, <runs> runs[, <bytes> B/op])
//   bench: <name> skipped (<why>)
//   bench: <name> failed (<why>)
//
// then "bench: N results, S skipped, F failed". tools/bench.py parses these
// lines; keep them stable. Ctrl-C (the caller's `stop`) stops the run after
// the benchmark that is running (each takes well under a second).
#include <rtos/clock.hpp>
#include <rtos/format.hpp>
#include <rtos/printk.hpp>
#include <rtos/selftest.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

#include "bench/bench.hpp"
#include "kernel/scheduler.hpp"

extern "C" const rtos::bench::Benchmark __benchmarks_start[];
extern "C" const rtos::bench::Benchmark __benchmarks_end[];

namespace rtos::bench {

static_assert(kIdlePriority == kernel::kIdlePriority);

uint64_t milli_insn(uint64_t counter_ticks, uint64_t ops) {
    if (ops == 0) return 0;
    constexpr uint64_t kNsPerS = 1000000000ull;
    uint64_t f = arch::counter_frequency();
    uint64_t ns = counter_ticks / f * kNsPerS + counter_ticks % f * kNsPerS / f;
    return ns * 1000 / ops;
}

void Result::add_milli(uint64_t v) {
    if (runs < kMaxRuns) milli[runs++] = v;
}

void Result::add_run(uint64_t counter_ticks, uint64_t ops) {
    add_milli(milli_insn(counter_ticks, ops));
}

namespace {

constexpr Benchmark kBenchmarks[] = {
    {"ctx_switch_yield", "Thread::yield between two equal-priority threads, per switch",
     ctx_switch_yield},
    {"sem_pingpong", "give wakes a higher-priority taker, which gives back; per round trip",
     sem_pingpong},
    {"sem_pingpong_equal",
     "two equal-priority threads hand a token through two semaphores; per round trip",
     sem_pingpong_equal},
    {"sem_give_take", "uncontended Semaphore give + take, one thread", sem_give_take},
    {"mutex_lock_unlock", "uncontended Mutex lock + unlock", mutex_lock_unlock},
    {"msgq_send_recv", "16-byte message: send + receive, one thread, no waiting", msgq_send_recv},
    {"heap_alloc_free_64", "heap::alloc(64) + heap::free", heap_alloc_free_64},
    {"tick", "kernel tick interrupt that wakes nothing, per tick", tick},
    {"tick_timer_fire", "tick that fires a periodic software timer (timer thread, callback)",
     tick_timer_fire},
};

// Run only when a filter names them (`bench smp_`): across CPUs, they
// skip or mean little on one CPU, and smp_parallel_work takes a while.
// tools/bench.py --smp N and --speedup run them.
constexpr Benchmark kOnRequest[] = {
    {"smp_wake_pingpong",
     "CPU 0 gives a thread pinned to CPU 1, which gives back; per round trip (2 cross-CPU "
     "wake-ups)",
     smp_wake_pingpong},
    {"smp_ipi_roundtrip",
     "CPU 0 interrupts idle CPU 1, whose handler interrupts CPU 0 back; per round trip",
     smp_ipi_roundtrip},
    {"smp_parallel_work",
     "fixed integer work split over a thread pinned to each CPU; per 1000 iterations",
     smp_parallel_work},
};

/// Calls fn(b) for every benchmark in order: the kernel's, then the added
/// ones, then (with `on_request`) those run on request.
template <typename Fn>
void for_each_benchmark(bool on_request, Fn fn) {
    for (const Benchmark& b : kBenchmarks) fn(b);
    for (const Benchmark* b = __benchmarks_start; b < __benchmarks_end; ++b) fn(*b);
    if (on_request)
        for (const Benchmark& b : kOnRequest) fn(b);
}

/// Generous: the slowest benchmark takes well under a second of virtual time.
Tick run_limit() { return 60 * clock::tick_hz(); }

bool contains(const char* s, const char* part) {
    std::size_t n = strlen(part);
    for (; *s; ++s)
        if (strncmp(s, part, n) == 0) return true;
    return !*part;
}

struct Job {
    const Benchmark* bench;
    Result result;
};
Job job;  // one at a time; static, the shell stack stays small

void job_entry(void* arg) {
    auto* j = static_cast<Job*>(arg);
    j->bench->fn(j->result);
}

void sort(uint64_t* v, unsigned n) {
    for (unsigned i = 1; i < n; ++i)
        for (unsigned k = i; k > 0 && v[k - 1] > v[k]; --k) {
            uint64_t t = v[k];
            v[k] = v[k - 1];
            v[k - 1] = t;
        }
}

// "412.3": milli-instructions to one decimal, rounded.
void format_insn(char* buf, std::size_t size, uint64_t milli) {
    uint64_t tenths = (milli + 50) / 100;
    snprintf(buf, size, "%llu.%llu", static_cast<unsigned long long>(tenths / 10),
             static_cast<unsigned long long>(tenths % 10));
}

enum class Outcome { measured, skipped, failed, hung };

Outcome run_one(const Benchmark& b) {
    job.bench = &b;
    job.result = Result{};
    Thread* t =
        Thread::create({.name = "bench", .priority = kRunPriority}, job_entry, &job, kStackSize);
    if (!t) {
        printk("bench: %s failed (no memory for its thread)\n", b.name);
        return Outcome::failed;
    }
    if (t->join(Timeout::ticks(run_limit())) != Status::ok) {
        t->suspend();
        printk("bench: %s failed (did not finish within %llu ticks)\n", b.name,
               static_cast<unsigned long long>(run_limit()));
        return Outcome::hung;
    }
    Result& r = job.result;
    if (r.skipped) {
        printk("bench: %s skipped (%s)\n", b.name, r.skipped);
        return Outcome::skipped;
    }
    if (!r.failed && r.runs == 0) r.fail("no runs");
    if (r.failed) {
        printk("bench: %s failed (%s)\n", b.name, r.failed);
        return Outcome::failed;
    }
    sort(r.milli, r.runs);
    uint64_t median =
        r.runs % 2 ? r.milli[r.runs / 2] : (r.milli[r.runs / 2 - 1] + r.milli[r.runs / 2]) / 2;
    char med[24], min[24];
    format_insn(med, sizeof(med), median);
    format_insn(min, sizeof(min), r.milli[0]);
    printk("bench: %s %s insn/op (min %s, %u runs", b.name, med, min, r.runs);
    if (r.bytes_per_op) printk(", %u B/op", r.bytes_per_op);
    printk(")\n");
    return Outcome::measured;
}

}  // namespace

int run(int argc, char** argv, bool (*stop)()) {
    if (argc > 2) return selftest::kUsage;
    if (argc == 2 && strcmp(argv[1], "-l") == 0) {
        for_each_benchmark(false,
                           [](const Benchmark& b) { printk("  %-20s %s\n", b.name, b.what); });
        printk("on request (bench <filter>):\n");
        for (const Benchmark& b : kOnRequest) printk("  %-20s %s\n", b.name, b.what);
        return 0;
    }
    const char* filter = argc == 2 ? argv[1] : "";
    unsigned selected = 0;
    const bool named = *filter != '\0';
    for_each_benchmark(named, [&](const Benchmark& b) { selected += contains(b.name, filter); });
    if (selected == 0) {  // a typo must not look like a clean run
        printk("bench: no benchmark matches '%s' (bench -l lists them)\n", filter);
        return 1;
    }
    uint64_t f = arch::counter_frequency();
    printk("bench: counter %llu Hz (%llu ns/count); insn = ns under -icount shift=0\n",
           static_cast<unsigned long long>(f), static_cast<unsigned long long>(1000000000ull / f));
    unsigned measured = 0, skipped = 0, failed = 0;
    bool done = false;
    for_each_benchmark(named, [&](const Benchmark& b) {
        if (done || !contains(b.name, filter)) return;
        if (stop()) {
            done = true;
            return;
        }
        Outcome o = run_one(b);
        if (o == Outcome::measured) ++measured;
        else if (o == Outcome::skipped) ++skipped;
        else ++failed;
        if (o == Outcome::hung) {
            printk("bench: stopping (a benchmark thread hung; reboot before the next run)\n");
            done = true;
        }
    });
    if (stop()) {  // Ctrl-C came during the run: the summary says it is partial
        printk("bench: interrupted after %u of %u benchmarks: %u results, %u skipped, %u failed\n",
               measured + skipped + failed, selected, measured, skipped, failed);
        return selftest::kInterrupted;
    }
    printk("bench: %u results, %u skipped, %u failed\n", measured, skipped, failed);
    return failed ? 1 : 0;
}

}  // namespace rtos::bench

int rtos::selftest::bench(int argc, char** argv, bool (*stop)()) {
    return rtos::bench::run(argc, argv, stop);
}
