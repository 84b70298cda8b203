// Time is never lost: the tick count is derived from the hardware counter,
// so it keeps pace with the counter across sleeps (tickless idle included)
// and across a stretch with interrupts masked, where the timer interrupt
// comes late and must announce every tick period that elapsed.
#include <rtos/clock.hpp>
#include <rtos/critical.hpp>

#include "arch/port.hpp"
#include "kernel/scheduler.hpp"
#include "ktest/ktest.hpp"

using namespace rtos;

namespace {

uint64_t counts_per_tick() { return arch::counter_frequency() / clock::tick_hz(); }

// Ticks the counter says passed between c0 and c1 (rounded down).
Tick counter_ticks(uint64_t c0, uint64_t c1) { return (c1 - c0) / counts_per_tick(); }

}  // namespace

// Sleeping (the idle thread stops the tick meanwhile) loses no ticks: the
// tick count and the counter advance alike, within the tick the readings
// straddle.
KTEST(ticks_follow_the_counter_across_sleeps) {
    const Tick waits[] = {1, 5, kt::ms(50), kt::ms(300)};
    for (Tick n : waits) {
        Tick k0 = kt::now();
        uint64_t c0 = arch::counter_read();
        Thread::sleep(n);
        uint64_t c1 = arch::counter_read();
        Tick by_counter = counter_ticks(c0, c1);
        // On the host's clock the tick interrupt for the time the counter
        // shows may not have come yet; a lost tick never comes.
        kt::settle([&] { return kt::now() - k0 + 1 >= by_counter; });
        Tick k1 = kt::now();
        KT_EXPECT_GE(k1 - k0, n);
        KT_EXPECT_LE(k1 - k0, by_counter + 1 + kt::lateness());
        KT_EXPECT_GE(k1 - k0 + 1, by_counter);
    }
}

// Interrupts masked for several tick periods: the one timer interrupt taken
// afterwards counts every period that elapsed. (With several CPUs another
// one may count them meanwhile: the tick count is the system's.)
KTEST(no_ticks_lost_with_interrupts_masked) {
    constexpr Tick kPeriods = 7;
    Tick k0, k1, mine0, mine1;
    uint64_t c0, c1;
    {
        IrqLock lock;
        mine0 = kernel::cpu_ticks();
        k0 = kt::now();
        c0 = arch::counter_read();
        while (counter_ticks(c0, arch::counter_read()) < kPeriods) {
        }
        k1 = kt::now();
        mine1 = kernel::cpu_ticks();
    }
    // The pending timer interrupt was taken when the lock ended (on the
    // host's clock QEMU may raise it late: its timer runs on a host thread).
    kt::settle([&] { return kt::now() - k0 >= kPeriods; });
    Tick k2 = kt::now();
    c1 = arch::counter_read();
    KT_EXPECT_EQ(mine1, mine0);                       // this CPU took no tick while masked
    if (smp::cpu_count() == 1) KT_EXPECT_EQ(k1, k0);  // nor did anyone else
    KT_EXPECT_GE(k2 - k0, kPeriods);
    KT_EXPECT_LE(k2 - k0, counter_ticks(c0, c1) + 1 + kt::lateness());
}
