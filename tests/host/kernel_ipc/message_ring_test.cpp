// MessageRing (rtos/message_ring.hpp) against a std::deque model: random
// push_back / push_front / pop_front over many capacities and message sizes,
// comparing every popped message, the count and full/empty after each step.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <random>
#include <vector>

#include <rtos/message_ring.hpp>

namespace {

using Message = std::vector<uint8_t>;

Message make_message(std::size_t size, uint32_t serial) {
    Message m(size);
    for (std::size_t i = 0; i < size; ++i) m[i] = static_cast<uint8_t>(serial * 131 + i * 7);
    return m;
}

struct Case {
    std::size_t msg_size;
    std::size_t capacity;
};

class MessageRingModel : public ::testing::TestWithParam<Case> {};

TEST_P(MessageRingModel, MatchesDequeUnderRandomOperations) {
    const auto [msg_size, capacity] = GetParam();
    // Guard bytes around the storage catch writes outside the ring.
    std::vector<uint8_t> storage(msg_size * capacity + 32, 0xee);
    rtos::MessageRing ring(storage.data() + 16, msg_size, capacity);
    std::deque<Message> model;
    std::mt19937 rng(static_cast<uint32_t>(msg_size * 1000 + capacity));
    uint32_t serial = 0;

    ASSERT_EQ(ring.capacity(), capacity);
    ASSERT_EQ(ring.message_size(), msg_size);
    for (int step = 0; step < 20000; ++step) {
        int op = static_cast<int>(rng() % 3);
        if (op == 0 || op == 1) {
            Message m = make_message(msg_size, serial++);
            bool ok = op == 0 ? ring.push_back(m.data()) : ring.push_front(m.data());
            ASSERT_EQ(ok, model.size() < capacity) << "step " << step;
            if (ok) op == 0 ? model.push_back(m) : model.push_front(m);
        } else {
            Message out(msg_size, 0);
            bool ok = ring.pop_front(out.data());
            ASSERT_EQ(ok, !model.empty()) << "step " << step;
            if (ok) {
                ASSERT_EQ(out, model.front()) << "step " << step;
                model.pop_front();
            }
        }
        ASSERT_EQ(ring.count(), model.size());
        ASSERT_EQ(ring.empty(), model.empty());
        ASSERT_EQ(ring.full(), model.size() == capacity);
    }
    for (std::size_t i = 0; i < 16; ++i) {
        ASSERT_EQ(storage[i], 0xee) << "write before the ring";
        ASSERT_EQ(storage[16 + msg_size * capacity + i], 0xee) << "write after the ring";
    }
}

INSTANTIATE_TEST_SUITE_P(Shapes, MessageRingModel,
                         ::testing::Values(Case{1, 1}, Case{1, 7}, Case{3, 2}, Case{4, 5},
                                           Case{8, 8}, Case{24, 3}, Case{13, 16}));

TEST(MessageRing, PushFrontComesOutFirstAndWrapsBelowZero) {
    uint32_t storage[3];
    rtos::MessageRing ring(reinterpret_cast<uint8_t*>(storage), sizeof(uint32_t), 3);
    uint32_t v = 1;
    ASSERT_TRUE(ring.push_front(&v));  // head moves from 0 to the last slot
    v = 2;
    ASSERT_TRUE(ring.push_back(&v));
    v = 0;
    ASSERT_TRUE(ring.push_front(&v));
    ASSERT_TRUE(ring.full());
    ASSERT_FALSE(ring.push_front(&v));
    ASSERT_FALSE(ring.push_back(&v));
    for (uint32_t want = 0; want < 3; ++want) {
        uint32_t got = 99;
        ASSERT_TRUE(ring.pop_front(&got));
        EXPECT_EQ(got, want);
    }
    uint32_t got;
    EXPECT_FALSE(ring.pop_front(&got));
}

}  // namespace
