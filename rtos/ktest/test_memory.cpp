// Memory pools (exhaustion, waiting, hand-off on free) and the heap under
// concurrent use from several threads.
#include <rtos/heap.hpp>
#include <rtos/memory_pool.hpp>

#include "ktest/ktest.hpp"

using namespace rtos;

KTEST(memory_pool_exhaust_wait_and_handoff) {
    StaticMemoryPool<20, 4> pool;  // blocks round up to 24 bytes
    KT_EXPECT_EQ(pool.block_size(), 24u);
    KT_EXPECT_EQ(pool.capacity(), 4u);
    void* b[4];
    for (auto& p : b) {
        p = pool.alloc();
        KT_ASSERT(p != nullptr);
        KT_EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % sizeof(void*), 0u);
    }
    for (int i = 0; i < 4; ++i)
        for (int j = i + 1; j < 4; ++j) KT_EXPECT_NE(b[i], b[j]);
    KT_EXPECT_EQ(pool.available(), 0u);
    KT_EXPECT_EQ(pool.alloc(), nullptr);

    // A waiter gets the very block that is freed; it never shows as available.
    void* got[2] = {};
    kt::Worker w1({"w1", kt::prio(-1)}, [&] { got[0] = pool.alloc(Timeout::forever()); });
    kt::Worker w2({"w2", kt::prio(-2)}, [&] { got[1] = pool.alloc(Timeout::ticks(10000)); });
    KT_EXPECT_EQ(w1->state(), ThreadState::blocked);
    pool.free(b[2]);
    KT_EXPECT_EQ(got[1], b[2]);  // w2 is the higher of the two
    KT_EXPECT_EQ(got[0], nullptr);
    KT_EXPECT_EQ(pool.available(), 0u);
    pool.free(b[0]);
    KT_EXPECT_EQ(got[0], b[0]);
    w1.join();
    w2.join();
    pool.free(got[0]);
    pool.free(got[1]);
    pool.free(b[1]);
    pool.free(b[3]);
    KT_EXPECT_EQ(pool.available(), 4u);
    // Blocks are reusable and distinct again.
    void* again[4];
    for (auto& p : again) KT_EXPECT_NE(p = pool.alloc(), nullptr);
    KT_EXPECT_EQ(pool.alloc(), nullptr);
    for (auto* p : again) pool.free(p);
}

namespace {

uint32_t next_random(uint32_t& s) {
    s = s * 1664525u + 1013904223u;
    return s >> 8;
}

}  // namespace

// Four threads allocate, fill, check and free blocks of random sizes and
// alignments while round robin switches between them every tick. Every
// block keeps its contents, and the heap ends exactly where it started.
KTEST(heap_concurrent_alloc_free) {
    kt::HeapMark mark;
    constexpr int kThreads = 4, kLive = 16;
    volatile bool corrupt = false, out_of_memory = false;
    volatile unsigned long ops[kThreads] = {};
    const Tick end = kt::now() + kt::ms(300);
    auto body = [&](int id) {
        return [&, id] {
            struct Slot {
                uint8_t* p;
                std::size_t n;
            } live[kLive] = {};
            uint32_t seed = 0x1234u + static_cast<uint32_t>(id) * 7919u;
            auto check_and_free = [&](Slot& s) {
                for (std::size_t i = 0; i < s.n; ++i)
                    if (s.p[i] != static_cast<uint8_t>(id * 31 + i)) corrupt = true;
                heap::free(s.p);
                s.p = nullptr;
            };
            while (kt::now() < end) {
                Slot& s = live[next_random(seed) % kLive];
                if (s.p) check_and_free(s);
                std::size_t n = 1 + next_random(seed) % 700;
                std::size_t align = std::size_t{16} << (next_random(seed) % 4);
                s.p = static_cast<uint8_t*>(next_random(seed) % 3 ? heap::alloc(n)
                                                                  : heap::alloc_aligned(n, align));
                if (!s.p) {
                    out_of_memory = true;
                    continue;
                }
                s.n = n;
                for (std::size_t i = 0; i < n; ++i) s.p[i] = static_cast<uint8_t>(id * 31 + i);
                ops[id] = ops[id] + 1;
            }
            for (auto& s : live)
                if (s.p) check_and_free(s);
        };
    };
    {
        kt::Worker a({"heap0", kt::prio(+1), 1}, body(0));
        kt::Worker b({"heap1", kt::prio(+1), 1}, body(1));
        kt::Worker c({"heap2", kt::prio(+1), 1}, body(2));
        kt::Worker d({"heap3", kt::prio(+1), 1}, body(3));
    }
    KT_EXPECT(!corrupt);
    KT_EXPECT(!out_of_memory);
    for (int i = 0; i < kThreads; ++i) KT_EXPECT_GT(ops[i], 100u);
    heap::Stats s = heap::stats();
    KT_EXPECT_EQ(s.used, mark.at.used);
    KT_EXPECT_EQ(s.allocations, mark.at.allocations);
    KT_EXPECT_GE(s.max_used, mark.at.used);
}
