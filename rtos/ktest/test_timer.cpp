// Software timers: period accuracy over a second of ticks, one-shots,
// stop, restart, and callbacks running in the timer thread.
#include <rtos/timer.hpp>

#include "ktest/ktest.hpp"

using namespace rtos;

namespace {

struct Probe {
    volatile unsigned calls = 0;
    volatile Tick last_tick = 0;
    volatile bool wrong_context = false;
};

void probe_callback(Timer&, void* arg) {
    auto* p = static_cast<Probe*>(arg);
    p->calls = p->calls + 1;
    p->last_tick = clock::ticks();
    Thread* t = Thread::current();
    if (in_isr() || !t || !kt::streq(t->name(), "timer") ||
        t->priority() != CONFIG_RTOS_TIMER_THREAD_PRIORITY)
        p->wrong_context = true;
}

}  // namespace

// A 10 ms periodic timer fires 100 (+-1) times in one second of ticks.
KTEST(timer_periodic_10ms_over_one_second) {
    Probe p;
    Timer t(probe_callback, &p);
    const Tick period = kt::ms(10);
    const Tick second = clock::tick_hz();
    Tick start = kt::now();
    KT_ASSERT_EQ(t.start_periodic(period), Status::ok);
    KT_EXPECT(t.active());
    Thread::sleep_until(start + second);
    unsigned long expected = second / period;
    kt::settle([&] { return t.fired() >= expected - 1; });
    unsigned long fired = t.fired();
    t.stop();
    KT_EXPECT(!t.active());
    KT_EXPECT_IN(fired, expected - 1, expected + 1 + kt::lateness() / period);
    KT_EXPECT_EQ(p.calls, fired);
    KT_EXPECT(!p.wrong_context);
    // Stopped means stopped.
    Thread::sleep(3 * period);
    KT_EXPECT_EQ(t.fired(), fired);
    KT_EXPECT_EQ(p.calls, fired);
}

KTEST(timer_one_shot_stop_and_restart) {
    Probe p;
    Timer t(probe_callback, &p);
    KT_EXPECT_EQ(t.start_once(0), Status::invalid);
    KT_EXPECT_EQ(t.start_periodic(0), Status::invalid);

    // A one-shot fires once, `delay` ticks after it was armed.
    Tick armed = kt::now();
    KT_ASSERT_EQ(t.start_once(5), Status::ok);
    Thread::sleep(20);
    kt::settle([&] { return p.calls == 1; });
    KT_EXPECT_EQ(t.fired(), 1u);
    KT_EXPECT_EQ(p.calls, 1u);
    KT_EXPECT_IN(p.last_tick, armed + 5, armed + 6 + kt::lateness());
    KT_EXPECT(!t.active());
    KT_EXPECT(!p.wrong_context);

    // Stopped before it expires: never fires. (On the host's clock the
    // sleep may end past the expiry; then the stop came too late to tell.)
    p.calls = 0;
    armed = kt::now();
    KT_ASSERT_EQ(t.start_once(10), Status::ok);
    KT_EXPECT_EQ(t.fired(), 0u);  // restarting resets the count
    Thread::sleep(2);
    t.stop();
    bool stopped_in_time = kt::now() < armed + 10;
    Thread::sleep(15);
    if (stopped_in_time || !kt::host_clock()) KT_EXPECT_EQ(p.calls, 0u);
    p.calls = 0;

    // A periodic timer stopped after three periods fires three times (on
    // the host's clock: at least three, no more than periods passed).
    Tick start = kt::now();
    KT_ASSERT_EQ(t.start_periodic(4), Status::ok);
    Thread::sleep_until(start + 3 * 4 + 2);
    kt::settle([&] { return p.calls >= 3; });
    t.stop();
    Tick stopped = kt::now();
    unsigned fired = p.calls;
    if (kt::host_clock()) KT_EXPECT_IN(fired, 3u, (stopped - start) / 4);
    else KT_EXPECT_EQ(fired, 3u);
    Thread::sleep(10);
    KT_EXPECT_EQ(p.calls, fired);

    // Re-arming a pending timer replaces its schedule.
    p.calls = 0;
    armed = kt::now();
    KT_ASSERT_EQ(t.start_once(3), Status::ok);
    KT_ASSERT_EQ(t.start_once(8), Status::ok);
    Thread::sleep(5);
    if (kt::now() < armed + 8 || !kt::host_clock()) KT_EXPECT_EQ(p.calls, 0u);
    Thread::sleep(6);
    kt::settle([&] { return p.calls == 1; });
    KT_EXPECT_EQ(p.calls, 1u);
}

// A callback may re-arm its own timer (a chain of one-shots), and several
// timers due on the same tick all fire.
KTEST(timer_rearm_from_callback_and_same_tick) {
    struct Chain {
        volatile unsigned n = 0;
    } chain;
    Timer t(
        [](Timer& self, void* arg) {
            auto* c = static_cast<Chain*>(arg);
            c->n = c->n + 1;
            if (c->n < 3) self.start_once(2);
        },
        &chain);
    KT_ASSERT_EQ(t.start_once(2), Status::ok);
    Thread::sleep(20);
    kt::settle([&] { return chain.n == 3; });
    KT_EXPECT_EQ(chain.n, 3u);
    KT_EXPECT(!t.active());

    Probe p;
    Timer a(probe_callback, &p), b(probe_callback, &p), c(probe_callback, &p);
    a.start_once(3);
    b.start_once(3);
    c.start_once(3);
    Thread::sleep(6);
    kt::settle([&] { return p.calls == 3; });
    KT_EXPECT_EQ(p.calls, 3u);
}
