// The ports' tick arithmetic (rtos/arch/tick_timer.hpp): every tick period
// the counter says elapsed is announced exactly once, whenever the interrupt
// comes, and the compare values follow the boundaries without drift.
#include <gtest/gtest.h>

#include <random>

#include "arch/tick_timer.hpp"

using rtos::arch::TickTimer;

TEST(TickTimer, OnTimeInterruptsAnnounceOneTickEach) {
    TickTimer t;
    uint64_t cmp = t.start(1000, 100);
    EXPECT_EQ(cmp, 1100u);
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(t.advance(cmp + 3), 1u);  // a few counts late, as interrupts are
        EXPECT_EQ(t.next(), cmp + 100);     // no drift: boundaries, not "now"
        cmp = t.next();
    }
}

TEST(TickTimer, ALateInterruptCountsEveryElapsedPeriod) {
    TickTimer t;
    t.start(0, 100);
    EXPECT_EQ(t.advance(750), 7u);
    EXPECT_EQ(t.next(), 800u);
    EXPECT_EQ(t.advance(799), 0u);  // early / spurious: nothing
    EXPECT_EQ(t.advance(800), 1u);
}

TEST(TickTimer, TotalMatchesTheCounterWhateverTheJitter) {
    TickTimer t;
    const uint64_t start = 123456, period = 625;
    t.start(start, period);
    std::mt19937_64 rng(7);
    uint64_t now = start, total = 0;
    for (int i = 0; i < 100000; ++i) {
        now += rng() % (5 * period);
        total += t.advance(now);
        ASSERT_EQ(total, (now - start) / period) << "step " << i;
        ASSERT_GT(t.next(), now);
    }
}

TEST(TickTimer, IdleCompareSaturates) {
    TickTimer t;
    t.start(0, 100);
    EXPECT_EQ(t.after(5), 500u);
    EXPECT_EQ(t.after(~uint64_t{0}), ~uint64_t{0});
}

namespace {
// The tick of a CPU started later falls on the boot CPU's boundaries (SMP).
TEST(TickTimer, StartAlignedSharesTheBootCpusBoundaries) {
    TickTimer boot, other;
    EXPECT_EQ(boot.start(1000, 100), 1100u);
    EXPECT_EQ(other.start_aligned(1000, 1234, 100), 1300u);
    EXPECT_EQ(other.advance(1299), 0u);
    EXPECT_EQ(other.advance(1300), 1u);
    EXPECT_EQ(other.next(), 1400u);
    EXPECT_EQ(other.start_aligned(1000, 1000, 100), 1100u);  // started on a boundary
}
}  // namespace
