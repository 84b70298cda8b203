// WaitQueue (rtos/kernel/wait_queue.cpp): highest priority first, FIFO among
// equals, kept through removals and re-sorting after a priority change.
// Checked against a model (a stable sort by priority of arrival order).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include <rtos/thread.hpp>
#include <rtos/wait_queue.hpp>

namespace {

struct Waiting {
    rtos::Thread* t;
    uint64_t arrival;
};

std::vector<rtos::Thread*> order_of(const rtos::WaitQueue& q) {
    std::vector<rtos::Thread*> v;
    q.for_each([&](rtos::Thread* t) { v.push_back(t); });
    return v;
}

std::vector<rtos::Thread*> model_order(std::vector<Waiting> w) {
    std::stable_sort(w.begin(), w.end(), [](const Waiting& a, const Waiting& b) {
        return a.t->prio != b.t->prio ? a.t->prio < b.t->prio : a.arrival < b.arrival;
    });
    std::vector<rtos::Thread*> v;
    for (auto& x : w) v.push_back(x.t);
    return v;
}

TEST(WaitQueue, PriorityThenFifo) {
    rtos::Thread t[5];
    unsigned prios[5] = {7, 3, 7, 0, 3};
    rtos::WaitQueue q;
    EXPECT_TRUE(q.empty());
    EXPECT_EQ(q.front(), nullptr);
    for (int i = 0; i < 5; ++i) {
        t[i].prio = prios[i];
        q.insert(&t[i]);
    }
    std::vector<rtos::Thread*> want = {&t[3], &t[1], &t[4], &t[0], &t[2]};
    EXPECT_EQ(order_of(q), want);
    EXPECT_EQ(q.front(), &t[3]);
    // A priority change re-sorts; the mover goes behind its new equals.
    t[0].prio = 3;
    q.reposition(&t[0]);
    want = {&t[3], &t[1], &t[4], &t[0], &t[2]};
    EXPECT_EQ(order_of(q), want);
    t[2].prio = 1;
    q.reposition(&t[2]);
    want = {&t[3], &t[2], &t[1], &t[4], &t[0]};
    EXPECT_EQ(order_of(q), want);
    for (auto* x : want) q.remove(x);
    EXPECT_TRUE(q.empty());
}

TEST(WaitQueue, RandomOperationsMatchModel) {
    constexpr int kThreads = 24;
    std::vector<std::unique_ptr<rtos::Thread>> pool;
    for (int i = 0; i < kThreads; ++i) pool.push_back(std::make_unique<rtos::Thread>());
    std::vector<Waiting> model;
    rtos::WaitQueue q;
    std::mt19937 rng(42);
    uint64_t clock = 0;
    auto waiting = [&](rtos::Thread* t) {
        return std::find_if(model.begin(), model.end(), [&](auto& w) { return w.t == t; });
    };
    for (int step = 0; step < 20000; ++step) {
        rtos::Thread* t = pool[rng() % kThreads].get();
        auto it = waiting(t);
        switch (rng() % 3) {
        case 0:  // arrive
            if (it != model.end()) break;
            t->prio = rng() % 6;
            q.insert(t);
            model.push_back({t, clock++});
            break;
        case 1:  // leave (woken or timed out)
            if (it == model.end()) break;
            q.remove(t);
            model.erase(it);
            break;
        case 2:  // priority change while waiting
            if (it == model.end()) break;
            t->prio = rng() % 6;
            q.reposition(t);
            it->arrival = clock++;
            break;
        }
        ASSERT_EQ(order_of(q), model_order(model)) << "step " << step;
        ASSERT_EQ(q.empty(), model.empty());
    }
    for (auto& w : model) q.remove(w.t);
}

}  // namespace
