#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <vector>

#include <rtos/heap.hpp>

namespace {

class HeapTest : public ::testing::Test {
protected:
    void SetUp() override {
        arena_.assign(kArena + 64, 0);
        // Deliberately misaligned start: init must align it.
        rtos::heap::init(arena_.data() + 3, kArena);
        start_ = rtos::heap::stats();
    }
    static constexpr std::size_t kArena = 1 << 20;
    std::vector<uint8_t> arena_;
    rtos::heap::Stats start_{};
};

TEST_F(HeapTest, FreshHeapIsOneFragment) {
    EXPECT_EQ(start_.used, 0u);
    EXPECT_EQ(start_.free_fragments, 1u);
    EXPECT_GT(start_.largest_free, kArena - 128);
}

TEST_F(HeapTest, AllocationsAreAlignedDisjointAndCoalesceBack) {
    std::vector<std::pair<uint8_t*, std::size_t>> blocks;
    for (std::size_t i = 1; i < 200; ++i) {
        auto* p = static_cast<uint8_t*>(rtos::heap::alloc(i * 7));
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 16, 0u);
        std::memset(p, static_cast<int>(i), i * 7);
        blocks.push_back({p, i * 7});
    }
    for (std::size_t i = 0; i < blocks.size(); ++i)
        for (std::size_t j = 0; j < blocks[i].second; ++j)
            ASSERT_EQ(blocks[i].first[j], static_cast<uint8_t>(i + 1)) << "overlap at block " << i;
    // Free in an interleaved order to exercise both-side coalescing.
    for (std::size_t i = 0; i < blocks.size(); i += 2) rtos::heap::free(blocks[i].first);
    for (std::size_t i = 1; i < blocks.size(); i += 2) rtos::heap::free(blocks[i].first);
    auto s = rtos::heap::stats();
    EXPECT_EQ(s.used, 0u);
    EXPECT_EQ(s.allocations, 0u);
    EXPECT_EQ(s.free_fragments, 1u);
    EXPECT_EQ(s.largest_free, start_.largest_free);
    EXPECT_GT(s.max_used, 0u);
}

TEST_F(HeapTest, AlignedAllocationHonoursLargeAlignmentAndZeroes) {
    for (std::size_t align : {16u, 64u, 4096u, 65536u}) {
        auto* p = static_cast<uint8_t*>(rtos::heap::alloc_aligned(1000, align));
        ASSERT_NE(p, nullptr) << align;
        EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u);
        for (int i = 0; i < 1000; ++i) ASSERT_EQ(p[i], 0);
        std::memset(p, 0xff, 1000);
        rtos::heap::free(p);
    }
    EXPECT_EQ(rtos::heap::stats().free_fragments, 1u);
    EXPECT_EQ(rtos::heap::alloc_aligned(16, 3), nullptr);  // not a power of two
}

TEST_F(HeapTest, ExhaustionReturnsNull) {
    EXPECT_EQ(rtos::heap::alloc(kArena * 2), nullptr);
    EXPECT_EQ(rtos::heap::alloc(0), nullptr);
    std::vector<void*> all;
    while (void* p = rtos::heap::alloc(4096)) all.push_back(p);
    EXPECT_GT(all.size(), 200u);
    for (void* p : all) rtos::heap::free(p);
    EXPECT_EQ(rtos::heap::stats().used, 0u);
}

TEST_F(HeapTest, RandomStressAgainstModel) {
    std::mt19937 rng(7);
    std::map<uint8_t*, std::pair<std::size_t, uint8_t>> live;
    for (int step = 0; step < 20000; ++step) {
        if (live.empty() || rng() % 3) {
            std::size_t size = 1 + rng() % 3000;
            std::size_t align = std::size_t{16} << (rng() % 6);
            auto* p = static_cast<uint8_t*>(rtos::heap::alloc_aligned(size, align, false));
            if (!p) continue;
            ASSERT_EQ(reinterpret_cast<uintptr_t>(p) % align, 0u);
            uint8_t tag = static_cast<uint8_t>(rng());
            std::memset(p, tag, size);
            live[p] = {size, tag};
        } else {
            auto it = live.begin();
            std::advance(it, rng() % live.size());
            for (std::size_t i = 0; i < it->second.first; ++i)
                ASSERT_EQ(it->first[i], it->second.second) << "corruption at step " << step;
            rtos::heap::free(it->first);
            live.erase(it);
        }
    }
    for (auto& [p, info] : live) rtos::heap::free(p);
    EXPECT_EQ(rtos::heap::stats().free_fragments, 1u);
    EXPECT_EQ(rtos::heap::stats().used, 0u);
}

using HeapDeathTest = HeapTest;

TEST_F(HeapDeathTest, DoubleFreePanics) {
    void* p = rtos::heap::alloc(64);
    void* q = rtos::heap::alloc(64);  // keeps p from merging away
    rtos::heap::free(p);
    EXPECT_DEATH(rtos::heap::free(p), "PANIC: heap: double free");
    rtos::heap::free(q);
}

TEST_F(HeapDeathTest, ForeignPointerPanics) {
    int local = 0;
    EXPECT_DEATH(rtos::heap::free(&local), "PANIC: heap: free of foreign pointer");
    auto* p = static_cast<uint8_t*>(rtos::heap::alloc(256));
    EXPECT_DEATH(rtos::heap::free(p + 32), "PANIC: heap: free of foreign");
    rtos::heap::free(p);
}

}  // namespace
