// Scheduler behaviour on the simulated port (sim.hpp): round-robin slices
// tick by tick, wake-ups from an interrupt under the scheduler lock, waits
// without a timeout, and threads set up more than once.
#include <gtest/gtest.h>

#include <string>

#include <rtos/critical.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/thread.hpp>

#include "kernel/scheduler.hpp"
#include "sim.hpp"

using namespace rtos;

namespace {

std::string log;
Semaphore sem;
StaticThread<4096> ta, tb, tc;

// Three equal threads whose work is one tick per step: slices of two ticks
// give AABBCC..., and each thread's own slice (B: 1 tick) is honoured.
void round_robin_slices() {
    auto work = [](void* c) {
        for (int i = 0; i < 4; ++i) {
            log += *static_cast<const char*>(c);
            sim::tick();
        }
    };
    static const char a = 'A', b = 'B', c = 'C';
    ta.start({.name = "A", .priority = 12, .timeslice = 2}, work, const_cast<char*>(&a));
    tb.start({.name = "B", .priority = 12, .timeslice = 1}, work, const_cast<char*>(&b));
    tc.start({.name = "C", .priority = 12, .timeslice = 2}, work, const_cast<char*>(&c));
    ta.join();
    tb.join();
    tc.join();
    SIM_CHECK_EQ(log, std::string("AABCCAABCCBB"));
}

// A thread woken by an interrupt while the scheduler is locked runs when the
// lock is released, not at some later tick.
void isr_wake_under_lock() {
    kernel::set_soft_interrupt_hook([](void*) { sem.give_from_isr(); }, nullptr);
    ta.start(
        {.name = "w", .priority = 5},
        [](void*) {
            sem.take();
            log += 'W';
        },
        nullptr);
    {
        SchedulerLock lock;
        sim::soft_interrupt();
        log += 'a';
        sim::tick(2);
        log += 'b';
    }
    log += 'c';
    SIM_CHECK_EQ(log, std::string("abWc"));
    ta.join();
}

// No-wait calls answer at once wherever they are made.
void no_wait_anywhere() {
    Status in_isr = Status::ok;
    kernel::set_soft_interrupt_hook(
        [](void* out) { *static_cast<Status*>(out) = sem.take(Timeout::none()); }, &in_isr);
    sim::soft_interrupt();
    SIM_CHECK_STATUS(in_isr, Status::timeout);
    SchedulerLock lock;
    SIM_CHECK_STATUS(sem.take(Timeout::none()), Status::timeout);
}

// Setting a thread up twice (before it starts, or after it ended without a
// join) keeps it in the kernel's thread list once.
void init_twice() {
    auto count = [] {
        unsigned n = 0;
        kernel::for_each_thread([&](Thread* t) { n += t == &ta; });
        return n;
    };
    ta.init(
        {.name = "x", .priority = 20}, [](void*) {}, nullptr);
    ta.init(
        {.name = "x", .priority = 20}, [](void*) {}, nullptr);
    SIM_CHECK_EQ(count(), 1u);
    ta.start();
    Thread::sleep(1);
    SIM_CHECK_EQ(ta.state(), ThreadState::exited);
    ta.init(
        {.name = "x", .priority = 20}, [](void*) {}, nullptr);
    SIM_CHECK_EQ(count(), 1u);
    ta.start();
    SIM_CHECK_STATUS(ta.join(), Status::ok);
    SIM_CHECK_EQ(count(), 0u);
}

// Waiters of one semaphore wake by priority, then in arrival order.
void wake_order() {
    auto body = [](void* c) {
        sem.take();
        log += *static_cast<const char*>(c);
    };
    static const char n1 = '1', n2 = '2', n3 = '3';
    ta.start({.name = "1", .priority = 14}, body, const_cast<char*>(&n1));
    tb.start({.name = "2", .priority = 13}, body, const_cast<char*>(&n2));
    tc.start({.name = "3", .priority = 14}, body, const_cast<char*>(&n3));
    Thread::sleep(1);  // all three wait now
    for (int i = 0; i < 3; ++i) sem.give();
    ta.join();
    tb.join();
    tc.join();
    SIM_CHECK_EQ(log, std::string("213"));
}

TEST(Scheduler, RoundRobinSlicesTickByTick) { EXPECT_EQ(sim::run_isolated(round_robin_slices), 0); }
TEST(Scheduler, InterruptWakeUnderLockRunsAtUnlock) {
    EXPECT_EQ(sim::run_isolated(isr_wake_under_lock), 0);
}
TEST(Scheduler, NoWaitAnswersEverywhere) { EXPECT_EQ(sim::run_isolated(no_wait_anywhere), 0); }
TEST(Scheduler, ThreadSetUpTwiceIsListedOnce) { EXPECT_EQ(sim::run_isolated(init_twice), 0); }
TEST(Scheduler, WaitersWakeByPriorityThenArrival) { EXPECT_EQ(sim::run_isolated(wake_order), 0); }

}  // namespace
