// The cost of the kernel tick, isolated: the benchmark thread times short
// windows of identical busy work back to back. A window the tick fell into
// is longer than one it did not by exactly what the tick cost (the trap,
// announce_ticks, re-arming the timer, and for tick_timer_fire the timer
// thread's wake-up, callback and the switches there and back). Per run:
// mean of the windows with a tick minus mean of those without, over
// kTicksPerRun ticks. Windows are many times shorter than a tick even at
// 10000 Hz, and their start points spread over the counter's resolution,
// so the means are finer than one count.
#include <rtos/config.hpp>
#include <rtos/clock.hpp>
#include <rtos/timer.hpp>

#include "bench/bench.hpp"

namespace rtos::bench {
namespace {

constexpr unsigned kRuns = 8;
/// Ticks per run: a tick window's length is only known to one counter
/// count (100 instructions on riscv64), so each run averages a few dozen;
/// fewer at low tick rates, where a tick is many more instructions away.
constexpr unsigned kTicksPerRun = CONFIG_RTOS_TICK_HZ >= 1000  ? 32
                                  : CONFIG_RTOS_TICK_HZ >= 300 ? 16
                                                               : 8;
constexpr unsigned kWindowLoops = 500;  // a few thousand instructions

volatile uint32_t sink;

[[gnu::noinline]] void busy_work() {
    for (uint32_t i = 0; i < kWindowLoops; ++i) sink = sink + i;
}

// One run; false if the ticks did not come (the tick is broken).
bool tick_run(uint64_t& milli) {
    uint64_t quiet_sum = 0, quiet_n = 0, tick_sum = 0, tick_n = 0;
    const Tick start = clock::ticks();
    while (tick_n < kTicksPerRun) {
        if (clock::ticks() - start > 4 * kTicksPerRun + 10) return false;
        Tick k0 = clock::ticks();
        uint64_t c0 = arch::counter_read();
        Tick k1 = clock::ticks();
        busy_work();
        Tick k2 = clock::ticks();
        uint64_t c1 = arch::counter_read();
        Tick k3 = clock::ticks();
        // A tick between a counter read and the tick read next to it cannot
        // be placed inside or outside the window: drop the window.
        if (k0 != k1 || k2 != k3) continue;
        if (k2 == k1) {
            quiet_sum += c1 - c0;
            ++quiet_n;
        } else if (k2 == k1 + 1) {
            tick_sum += c1 - c0;
            ++tick_n;
        }
    }
    uint64_t with = milli_insn(tick_sum, tick_n), without = milli_insn(quiet_sum, quiet_n);
    if (quiet_n == 0 || with <= without) return false;
    milli = with - without;
    return true;
}

void measure(Result& r) {
    uint64_t warm;
    if (!tick_run(warm)) return r.fail("the tick did not advance");
    for (unsigned run = 0; run < kRuns; ++run) {
        uint64_t m;
        if (!tick_run(m)) return r.fail("the tick did not advance");
        r.add_milli(m);
    }
}

void on_timer(Timer&, void*) {}

}  // namespace

void tick(Result& r) { measure(r); }

void tick_timer_fire(Result& r) {
    Timer t(on_timer, nullptr);
    t.start_periodic(1);  // fires at every tick
    measure(r);
    unsigned long fired = t.fired();
    t.stop();
    if (!r.failed && fired < kRuns * kTicksPerRun) r.fail("the timer did not fire at every tick");
}

}  // namespace rtos::bench
