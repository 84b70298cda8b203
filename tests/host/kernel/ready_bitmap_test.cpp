#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "kernel/ready_bitmap.hpp"

namespace {

template <unsigned N>
void check_against_model(unsigned seed) {
    rtos::kernel::ReadyBitmap<N> bm;
    std::set<unsigned> model;
    std::mt19937 rng(seed);
    EXPECT_EQ(bm.highest(), N);
    for (int i = 0; i < 20000; ++i) {
        unsigned p = rng() % N;
        if (rng() % 2) {
            bm.set(p);
            model.insert(p);
        } else {
            bm.clear(p);
            model.erase(p);
        }
        ASSERT_EQ(bm.highest(), model.empty() ? N : *model.begin()) << "step " << i;
        ASSERT_EQ(bm.test(p), model.count(p) == 1);
        if (i % 97 == 0) {  // next(): every set priority in order (the SMP pick walks them)
            std::vector<unsigned> walked;
            for (unsigned q = bm.highest(); q < N; q = bm.next(q)) walked.push_back(q);
            ASSERT_EQ(walked, std::vector<unsigned>(model.begin(), model.end())) << "step " << i;
        }
    }
}

TEST(ReadyBitmap, Levels8) { check_against_model<8>(1); }
TEST(ReadyBitmap, Levels32) { check_against_model<32>(2); }
TEST(ReadyBitmap, Levels64OneWord) { check_against_model<64>(4); }
TEST(ReadyBitmap, Levels65TwoLevels) { check_against_model<65>(5); }
TEST(ReadyBitmap, Levels256) { check_against_model<256>(3); }

TEST(ReadyBitmap, WordBoundaries) {
    rtos::kernel::ReadyBitmap<256> bm;
    for (unsigned p : {255u, 192u, 191u, 128u, 127u, 64u, 63u, 0u}) {
        bm.set(p);
        EXPECT_EQ(bm.highest(), p);
    }
    for (unsigned p : {0u, 63u, 64u, 127u, 128u, 191u, 192u}) {
        bm.clear(p);
        EXPECT_GT(bm.highest(), p);
    }
    EXPECT_EQ(bm.highest(), 255u);
    bm.clear(255);
    EXPECT_EQ(bm.highest(), 256u);
}

}  // namespace
