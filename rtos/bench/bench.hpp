// The on-target benchmarks (command `bench`, runner.cpp; rtos/selftest.hpp).
//
// A benchmark measures one operation many times per run and several runs,
// and hands back the per-operation cost of each run; the runner prints the
// median and the minimum:
//
//   bench: <name> <median> insn/op (min <min>, <runs> runs[, <bytes> B/op])
//
// Costs are read from the architecture's free-running counter
// (arch::counter_read) and converted to nanoseconds. Under QEMU's
// `-icount shift=0,sleep=off` (tools/bench.py) virtual time advances exactly
// 1 ns per retired guest instruction, so the numbers are instruction counts:
// repeatable on a loaded machine, and a change in them is a change in code
// paths. Counter resolution: 100 instructions on riscv64 (10 MHz timebase),
// 16 on aarch64 (62.5 MHz CNTVCT); each run spans enough operations to make
// that small.
//
// Each benchmark runs in a fresh thread at kRunPriority; it prints nothing
// (the console is slow) and leaves no thread, timer or memory behind. Code
// outside the kernel adds its benchmarks beside the code they measure with
// BENCHMARKS() (components/drivers/block/bench_blk.cpp); this header is the
// part of the kernel's bench runner they may use.
#pragma once

#include <rtos/config.hpp>

#include <cstddef>
#include <cstdint>

#include <rtos/thread.hpp>

#include "arch/port.hpp"

namespace rtos::bench {

// ---- Priorities: every benchmark thread sits below the system threads
// ---- (shell, timer, main), above the idle thread.
static_assert(CONFIG_RTOS_PRIORITY_LEVELS >= 8, "bench needs at least 8 priority levels");
/// The idle thread's (kernel::kIdlePriority, checked in runner.cpp).
constexpr unsigned kIdlePriority = CONFIG_RTOS_PRIORITY_LEVELS - 1;
/// WaitMeter's thread: below everything the benchmarks start.
constexpr unsigned kMeterPriority = kIdlePriority - 1;
/// The benchmark thread itself (and its equal-priority partners).
constexpr unsigned kRunPriority = kIdlePriority - 2;
/// A partner that must preempt the benchmark thread when woken.
constexpr unsigned kHighPriority = kIdlePriority - 3;

constexpr std::size_t kStackSize = 8192;
constexpr unsigned kMaxRuns = 32;

/// What one benchmark hands back to the runner.
struct Result {
    unsigned runs = 0;
    uint64_t milli[kMaxRuns] = {};  ///< per-operation cost of each run, 1/1000 instruction
    uint32_t bytes_per_op = 0;      ///< data moved per operation (throughput), 0 if none
    const char* skipped = nullptr;  ///< why the benchmark did not run (not an error)
    const char* failed = nullptr;   ///< why it could not measure (an error)

    /// Records a run of `ops` operations that took `counter_ticks`.
    void add_run(uint64_t counter_ticks, uint64_t ops);
    void add_milli(uint64_t milli_insn);
    void fail(const char* why) {
        if (!failed) failed = why;
    }
};

/// Counter ticks per `ops` operations -> 1/1000 instruction per operation
/// (1 instruction = 1 ns at -icount shift=0).
uint64_t milli_insn(uint64_t counter_ticks, uint64_t ops);

/// Measures how long the CPU waits while a benchmark thread is blocked on a
/// device: a thread just above idle sleeps with interrupts masked around
/// each wait-for-interrupt (the CPU still wakes on a pending interrupt) and
/// sums the counter across the sleeps, plus any interrupt that then woke no
/// thread (a tick). Subtracting waited() from the elapsed time leaves the
/// instructions a request cost: submission, the completion interrupt, the
/// wake-up and the context switches.
class WaitMeter {
public:
    constexpr WaitMeter() = default;
    ~WaitMeter() { stop(); }
    WaitMeter(const WaitMeter&) = delete;
    WaitMeter& operator=(const WaitMeter&) = delete;

    /// Starts the meter thread; false without memory.
    bool start();
    /// Stops and joins it (harmless when not started).
    void stop();
    /// Counter ticks spent waiting so far. Call from a higher-priority thread.
    uint64_t waited() const { return waited_; }

private:
    static void entry(void* self);
    Thread* thread_ = nullptr;
    volatile bool stop_ = false;
    volatile uint64_t waited_ = 0;
};

/// One benchmark: `fn` measures, `what` is its line in `bench -l`.
struct Benchmark {
    const char* name;
    const char* what;
    void (*fn)(Result&);
};

// ---- The kernel's benchmarks (one function per result; see runner.cpp's table).
void ctx_switch_yield(Result& r);
void sem_pingpong(Result& r);
void sem_pingpong_equal(Result& r);
void sem_give_take(Result& r);
void mutex_lock_unlock(Result& r);
void msgq_send_recv(Result& r);
void heap_alloc_free_64(Result& r);
void tick(Result& r);
void tick_timer_fire(Result& r);
// On request (`bench smp_`; runner.cpp's second table): across CPUs.
void smp_wake_pingpong(Result& r);
void smp_ipi_roundtrip(Result& r);
void smp_parallel_work(Result& r);

}  // namespace rtos::bench

/// Adds a group of benchmarks from outside the kernel, in its own file:
///   BENCHMARKS(blk) = {{"blk_read_4k", "...", blk_read_4k}, ...};
/// `bench` runs the kernel's own first, then each group in link order, each
/// in the order written. One array per group keeps that order; its alignment
/// is the struct's so that groups from several files pack without gaps.
#define BENCHMARKS(group)                                                                         \
    [[gnu::used, gnu::section(".rtos_benchmarks"),                                                \
      gnu::aligned(alignof(::rtos::bench::Benchmark))]] static constexpr ::rtos::bench::Benchmark \
        benchmarks_##group[]
