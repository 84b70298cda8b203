// Software timers (rtos/kernel/timer.cpp) on the simulated port: the active
// list fires in expiry order, FIFO among equal expiries, periodic timers
// keep their phase, re-arming moves a timer, stop removes it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <rtos/clock.hpp>
#include <rtos/critical.hpp>
#include <rtos/thread.hpp>
#include <rtos/timer.hpp>

#include "sim.hpp"

using namespace rtos;

namespace {

struct Fire {
    char name;
    Tick at;
    bool operator==(const Fire&) const = default;
};
std::vector<Fire> fires;

void record(Timer&, void* name) {
    fires.push_back({*static_cast<const char*>(name), clock::ticks()});
    SIM_CHECK(!in_isr());
    SIM_CHECK_EQ(Thread::current()->priority(), 2u);  // the timer thread
}

const char kA = 'a', kB = 'b', kC = 'c', kD = 'd', kE = 'e';
void* name(const char& c) { return const_cast<char*>(&c); }

void expiry_order() {
    kernel::timer_service_start();
    Timer a(record, name(kA)), b(record, name(kB)), c(record, name(kC)), d(record, name(kD)),
        e(record, name(kE));
    Tick t0 = clock::ticks();
    a.start_once(5);
    b.start_once(3);
    c.start_once(5);
    d.start_once(1);
    e.start_once(3);
    Thread::sleep(10);
    std::vector<Fire> want = {
        {'d', t0 + 1}, {'b', t0 + 3}, {'e', t0 + 3}, {'a', t0 + 5}, {'c', t0 + 5}};
    SIM_CHECK(fires == want);
    if (!(fires == want))
        for (auto& f : fires)
            std::fprintf(stderr, "  fired %c at %llu\n", f.name, (unsigned long long)(f.at - t0));

    // Re-arming moves a pending timer; stop removes one.
    fires.clear();
    t0 = clock::ticks();
    a.start_once(4);
    b.start_once(2);
    a.start_once(1);
    c.start_once(3);
    c.stop();
    Thread::sleep(6);
    want = {{'a', t0 + 1}, {'b', t0 + 2}};
    SIM_CHECK(fires == want);
}

void periodic_phase() {
    kernel::timer_service_start();
    Timer p(record, name(kA)), q(record, name(kB));
    Tick t0 = clock::ticks();
    p.start_periodic(2);
    q.start_periodic(3);
    Thread::sleep(12);
    p.stop();
    q.stop();
    std::vector<Tick> pa, qa;
    for (auto& f : fires) (f.name == 'a' ? pa : qa).push_back(f.at - t0);
    SIM_CHECK((pa == std::vector<Tick>{2, 4, 6, 8, 10, 12}));
    SIM_CHECK((qa == std::vector<Tick>{3, 6, 9, 12}));
    SIM_CHECK_EQ(p.fired(), 6u);
    SIM_CHECK_EQ(q.fired(), 4u);
    Thread::sleep(6);
    SIM_CHECK_EQ(fires.size(), 10u);  // stopped
}

TEST(Timers, FireInExpiryThenArmingOrder) { EXPECT_EQ(sim::run_isolated(expiry_order), 0); }
TEST(Timers, PeriodicTimersKeepTheirPhase) { EXPECT_EQ(sim::run_isolated(periodic_phase), 0); }

}  // namespace
