// Priority-inheritance bookkeeping of rtos/kernel/mutex.cpp, driven through
// the real scheduler on the simulated port (sim.hpp). The scenario's main
// thread runs at priority 10; other threads are placed around it, and the
// checks read effective and base priorities at every step.
#include <gtest/gtest.h>

#include <string>

#include <rtos/mutex.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/thread.hpp>

#include "sim.hpp"

using namespace rtos;

namespace {

std::string log;  // each scenario runs in a fresh process
Mutex m1, m2;
Semaphore go1, go2;
StaticThread<4096> ta, tb, tc;

// ---- One level: low holds, high waits, low runs at high's priority. -------
void one_level() {
    ta.start(
        {.name = "low", .priority = 20},
        [](void*) {
            SIM_CHECK_STATUS(m1.lock(), Status::ok);
            go1.take();
            log += 'u';
            m1.unlock();  // high takes over here
            log += 'U';
        },
        nullptr);
    Thread::sleep(1);  // low runs: locks m1, waits for go1
    SIM_CHECK_EQ(m1.owner(), static_cast<Thread*>(&ta));
    tb.start(
        {.name = "high", .priority = 5},
        [](void*) {
            log += 'h';
            SIM_CHECK_STATUS(m1.lock(), Status::ok);
            log += 'H';
            m1.unlock();
        },
        nullptr);
    SIM_CHECK_EQ(tb.state(), ThreadState::blocked);
    SIM_CHECK_EQ(ta.priority(), 5u);
    SIM_CHECK_EQ(ta.base_priority(), 20u);
    go1.give();  // low (at 5) preempts us, unlocks; high runs
    SIM_CHECK_EQ(log, std::string("huH"));
    SIM_CHECK_EQ(ta.priority(), 20u);
    SIM_CHECK_STATUS(ta.join(), Status::ok);
    SIM_CHECK_STATUS(tb.join(), Status::ok);
    SIM_CHECK_EQ(log, std::string("huHU"));
}

// ---- A chain: A waits on B's mutex, B waits on C's; timeout and unlock. ----
void chain() {
    tc.start(
        {.name = "C", .priority = 22},
        [](void*) {
            m2.lock();
            go2.take();
            m2.unlock();
            SIM_CHECK_EQ(Thread::current()->priority(), 22u);
            log += 'c';
        },
        nullptr);
    Thread::sleep(1);
    tb.start(
        {.name = "B", .priority = 21},
        [](void*) {
            m1.lock();
            SIM_CHECK_STATUS(m2.lock(), Status::ok);
            SIM_CHECK_EQ(Thread::current()->priority(), 4u);  // A still waits on m1
            m2.unlock();
            m1.unlock();
            SIM_CHECK_EQ(Thread::current()->priority(), 21u);
            log += 'b';
        },
        nullptr);
    Thread::sleep(1);
    SIM_CHECK_EQ(tb.state(), ThreadState::blocked);
    SIM_CHECK_EQ(tc.priority(), 21u);
    ta.start(
        {.name = "A", .priority = 4},
        [](void*) {
            SIM_CHECK_STATUS(m1.lock(Timeout::ticks(5)), Status::timeout);
            go1.take();
            SIM_CHECK_STATUS(m1.lock(), Status::ok);
            log += 'a';
            m1.unlock();
        },
        nullptr);
    SIM_CHECK_EQ(tb.priority(), 4u);
    SIM_CHECK_EQ(tc.priority(), 4u);
    Thread::sleep(10);  // A's wait times out: B and C fall back
    SIM_CHECK_EQ(tb.priority(), 21u);
    SIM_CHECK_EQ(tc.priority(), 21u);
    go1.give();  // A waits again
    SIM_CHECK_EQ(tb.priority(), 4u);
    SIM_CHECK_EQ(tc.priority(), 4u);
    go2.give();  // C unlocks, B unlocks, A gets m1
    SIM_CHECK_EQ(log, std::string("a"));
    ta.join();
    tb.join();
    tc.join();
    SIM_CHECK_EQ(log, std::string("abc"));
    SIM_CHECK_EQ(m1.owner(), nullptr);
    SIM_CHECK_EQ(m2.owner(), nullptr);
}

// ---- Two mutexes held: the owner runs at the best waiter of either. -------
void several_mutexes() {
    ta.start(
        {.name = "owner", .priority = 20},
        [](void*) {
            m1.lock();
            m2.lock();
            go1.take();
            m2.unlock();
            SIM_CHECK_EQ(Thread::current()->priority(), 6u);  // m1's waiter remains
            go2.take();
            m1.unlock();
            SIM_CHECK_EQ(Thread::current()->priority(), 20u);
        },
        nullptr);
    Thread::sleep(1);
    tb.start(
        {.name = "w1", .priority = 6},
        [](void*) {
            m1.lock();
            m1.unlock();
        },
        nullptr);
    SIM_CHECK_EQ(ta.priority(), 6u);
    tc.start(
        {.name = "w2", .priority = 3},
        [](void*) {
            m2.lock();
            m2.unlock();
        },
        nullptr);
    SIM_CHECK_EQ(ta.priority(), 3u);
    go1.give();  // owner gives up m2 (w2 takes it), stays at 6 for m1
    SIM_CHECK_EQ(tc.state(), ThreadState::exited);
    SIM_CHECK_EQ(ta.priority(), 6u);
    go2.give();
    SIM_CHECK_EQ(tb.state(), ThreadState::exited);
    ta.join();
    tb.join();
    tc.join();
}

// ---- set_priority of a waiter or an owner keeps inheritance right. --------
void set_priority_follows() {
    ta.start(
        {.name = "owner", .priority = 20},
        [](void*) {
            m1.lock();
            go1.take();
            m1.unlock();
        },
        nullptr);
    Thread::sleep(1);
    tb.start(
        {.name = "waiter", .priority = 15},
        [](void*) {
            m1.lock();
            m1.unlock();
        },
        nullptr);
    Thread::sleep(1);
    SIM_CHECK_EQ(ta.priority(), 15u);
    tb.set_priority(3);
    SIM_CHECK_EQ(ta.priority(), 3u);
    tb.set_priority(15);
    SIM_CHECK_EQ(ta.priority(), 15u);
    ta.set_priority(25);  // inherited 15 still wins
    SIM_CHECK_EQ(ta.priority(), 15u);
    SIM_CHECK_EQ(ta.base_priority(), 25u);
    ta.set_priority(12);  // own priority wins
    SIM_CHECK_EQ(ta.priority(), 12u);
    ta.set_priority(20);
    SIM_CHECK_EQ(ta.priority(), 15u);
    go1.give();
    ta.join();
    tb.join();
    SIM_CHECK_EQ(ta.priority(), 20u);
}

// ---- destroy() wakes waiters with deleted and ends the inheritance. --------
void destroy_ends_inheritance() {
    SIM_CHECK_STATUS(m1.lock(), Status::ok);
    ta.start(
        {.name = "w", .priority = 4}, [](void*) { SIM_CHECK_STATUS(m1.lock(), Status::deleted); },
        nullptr);
    SIM_CHECK_EQ(Thread::current()->priority(), 4u);
    m1.destroy();
    SIM_CHECK_EQ(Thread::current()->priority(), 10u);
    SIM_CHECK_EQ(ta.state(), ThreadState::exited);
    ta.join();
}

// ---- A thread that ends holding mutexes hands them over. -------------------
void exit_hands_over() {
    ta.start(
        {.name = "owner", .priority = 20},
        [](void*) {
            m1.lock();
            m1.lock();
            m2.lock();
            go1.take();
        },
        nullptr);
    Thread::sleep(1);
    tb.start(
        {.name = "w", .priority = 5},
        [](void*) {
            SIM_CHECK_STATUS(m1.lock(), Status::ok);
            SIM_CHECK_EQ(m1.recursion(), 1u);
            m1.unlock();
        },
        nullptr);
    SIM_CHECK_EQ(ta.priority(), 5u);
    go1.give();
    SIM_CHECK_EQ(tb.state(), ThreadState::exited);
    SIM_CHECK_EQ(m1.owner(), nullptr);
    SIM_CHECK_EQ(m2.owner(), nullptr);
    ta.join();
    tb.join();
}

TEST(MutexInheritance, OneLevel) { EXPECT_EQ(sim::run_isolated(one_level), 0); }
TEST(MutexInheritance, ChainWithTimeoutAndUnlock) { EXPECT_EQ(sim::run_isolated(chain), 0); }
TEST(MutexInheritance, SeveralMutexesHeld) { EXPECT_EQ(sim::run_isolated(several_mutexes), 0); }
TEST(MutexInheritance, FollowsSetPriority) {
    EXPECT_EQ(sim::run_isolated(set_priority_follows), 0);
}
TEST(MutexInheritance, DestroyEndsIt) { EXPECT_EQ(sim::run_isolated(destroy_ends_inheritance), 0); }
TEST(MutexInheritance, ExitHandsOver) { EXPECT_EQ(sim::run_isolated(exit_hands_over), 0); }

}  // namespace
