// An untrusted device: every bad used entry is reported (error code + one log
// line), breaks the queue so later calls fail fast, and never makes the
// driver touch memory it should not (ASan/UBSan would say so) or spin.
#include <gtest/gtest.h>

#include "rig.hpp"

using namespace virtio;
using namespace rig;

namespace {

struct Case {
    fake::UsedFault fault;
    std::uint16_t jump;
    const char* log;
};

// One request through a queue whose device applies `c.fault`; checks the
// report and the broken state, then recovers by reset + reclaim.
void expect_broken_by(std::uint32_t version, const Case& c, std::uint64_t features) {
    Rig r(options(version, features));
    ASSERT_EQ(r.start(8), Error::ok);
    // One good round first, so "not in flight" has a finished id to reuse.
    std::uint8_t out[16] = {1, 2, 3}, in[16] = {};
    const OutSegment o[] = {{out, sizeof(out)}};
    const InSegment i[] = {{in, 8}, {in + 8, 8}};
    ASSERT_TRUE(r.q().add_buffer(o, i, out).ok());
    r.q().kick();
    r.service_irq();
    ASSERT_EQ(r.completions.size(), 1u);

    r.fake.inject(c.fault, c.jump);
    ASSERT_TRUE(r.q().add_buffer(o, i, in).ok());
    r.q().kick();
    r.service_irq();
    ASSERT_EQ(r.pop_errors.size(), 1u);
    EXPECT_EQ(r.pop_errors[0], Error::device_error);
    EXPECT_EQ(r.completions.size(), 1u);  // nothing bogus was handed out
    EXPECT_TRUE(host_hal::log_contains("virtio-blk@0x10008000: queue 0 broken: "))
        << host_hal::log();
    EXPECT_TRUE(host_hal::log_contains(c.log)) << host_hal::log();

    // Fail fast from now on.
    EXPECT_TRUE(r.q().broken());
    EXPECT_EQ(r.q().pop_used().error, Error::broken);
    EXPECT_EQ(r.q().add_buffer(o, i, in).error, Error::broken);
    EXPECT_FALSE(r.q().kick());
    EXPECT_TRUE(r.q().has_used());  // so a poll loop gets to see the error

    // Recovery: reset, then the request the device mangled comes back.
    r.device.reset();
    auto t = r.q().reclaim();
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.value, in);
    EXPECT_EQ(r.q().reclaim().error, Error::empty);
}

}  // namespace

class MisbehaviourTest : public testing::TestWithParam<std::uint32_t> {};
INSTANTIATE_TEST_SUITE_P(Versions, MisbehaviourTest, testing::ValuesIn(enabled_layouts()),
                         version_name);

TEST_P(MisbehaviourTest, UsedIdOutOfRange) {
    expect_broken_by(GetParam(),
                     {fake::UsedFault::id_out_of_range, 0, "used id 11 out of range (size 8)"},
                     core_ring_features());
}

TEST_P(MisbehaviourTest, UsedIdNotInFlight) {
    expect_broken_by(GetParam(), {fake::UsedFault::id_not_in_flight, 0, "is not in flight"},
                     core_ring_features());
    // Without indirect tables the chain's second descriptor is a tempting non-head id.
    expect_broken_by(GetParam(), {fake::UsedFault::id_not_in_flight, 0, "is not in flight"}, 0);
}

TEST_P(MisbehaviourTest, UsedLengthAboveWritableBytes) {
    expect_broken_by(GetParam(),
                     {fake::UsedFault::len_too_big, 0, "used len 17 above the 16 writable bytes"},
                     core_ring_features());
}

TEST_P(MisbehaviourTest, UsedIdxJumpsPastTheQueueSize) {
    if (GetParam() == kPacked) GTEST_SKIP() << "no used idx: PackedUsedPositionRunsAhead";
    expect_broken_by(GetParam(), {fake::UsedFault::idx_jump, 9, "used idx jumped from 1 to 11"},
                     core_ring_features());
}

TEST_P(MisbehaviourTest, UsedIdxAheadOfWhatIsInFlight) {
    if (GetParam() == kPacked) GTEST_SKIP() << "no used idx: PackedUsedPositionRunsAhead";
    // Smaller than the queue size, still more than the one request we gave it.
    expect_broken_by(GetParam(), {fake::UsedFault::idx_jump, 1, "with 1 in flight"}, 0);
}

TEST_P(MisbehaviourTest, PackedWrongWrapCounter) {
    if (GetParam() != kPacked) GTEST_SKIP() << "a packed ring's fault";
    // The second request's descriptor (1) marked used as in the previous lap.
    expect_broken_by(
        GetParam(),
        {fake::UsedFault::wrong_wrap, 0, "descriptor 1 has AVAIL 0 USED 0, ring wrap counter 1"},
        core_ring_features());
}

// Packed: a device whose used position runs ahead of what it completed
// writes used descriptors over requests still in flight; the next one names
// a buffer that is no longer in flight.
TEST_P(MisbehaviourTest, PackedUsedPositionRunsAhead) {
    if (GetParam() != kPacked) GTEST_SKIP() << "a packed ring's fault";
    Rig r(options(GetParam(), core_ring_features()));
    ASSERT_EQ(r.start(8), Error::ok);
    r.fake.process_on_notify = false;
    std::uint8_t a[8] = {1}, b[8] = {2};
    const OutSegment oa[] = {{a, 4}}, ob[] = {{b, 4}};
    const InSegment ia[] = {{a + 4, 4}}, ib[] = {{b + 4, 4}};
    ASSERT_TRUE(r.q().add_buffer(oa, ia, a).ok());
    ASSERT_TRUE(r.q().add_buffer(ob, ib, b).ok());
    r.q().kick();
    r.fake.inject(fake::UsedFault::idx_jump, 1);
    int budget = 1;  // the device completes a alone, and marks one more used
    r.fake.has_work = [&](std::uint16_t) { return budget-- > 0; };
    r.fake.process(0);
    r.service_irq();
    ASSERT_EQ(r.completions.size(), 1u);
    EXPECT_EQ(r.completions[0].token, a);
    ASSERT_EQ(r.pop_errors.size(), 1u);
    EXPECT_EQ(r.pop_errors[0], Error::device_error);
    EXPECT_TRUE(host_hal::log_contains("is not in flight")) << host_hal::log();
    r.device.reset();
    auto t = r.q().reclaim();
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t.value, b);
    EXPECT_EQ(r.q().reclaim().error, Error::empty);
}

TEST_P(MisbehaviourTest, UsedIdxMovesWithNothingInFlight) {
    Rig r(options(GetParam()));
    ASSERT_EQ(r.start(8), Error::ok);
    r.fake.bump_used_idx(0, 1);
    if (GetParam() == kPacked) {
        // A used descriptor with nothing in flight is never read (it is what
        // a skipped descriptor of the last lap looks like), and the next
        // request overwrites it.
        EXPECT_EQ(r.q().pop_used().error, Error::empty);
        std::uint8_t buf[4] = {};
        const InSegment i[] = {{buf, 4}};
        ASSERT_TRUE(r.q().add_buffer({}, i, buf).ok());
        EXPECT_EQ(r.q().pop_used().error, Error::empty);
        r.q().kick();
        r.service_irq();
        ASSERT_EQ(r.completions.size(), 1u);
        EXPECT_TRUE(r.pop_errors.empty());
        return;
    }
    const auto res = r.q().pop_used();
    EXPECT_EQ(res.error, Error::device_error);
    EXPECT_EQ(res.value.token, nullptr);
    EXPECT_TRUE(host_hal::log_contains("used idx jumped from 0 to 1 with 0 in flight"))
        << host_hal::log();
    EXPECT_EQ(r.q().reclaim().error, Error::empty);
}

TEST_P(MisbehaviourTest, AGarbageUsedRingNeverHangsOrOverruns) {
    // A device scribbling over the whole used ring: every pop attempt is
    // bounded and the first bad entry stops the queue.
    Rig r(options(GetParam()));
    ASSERT_EQ(r.start(8), Error::ok);
    std::uint8_t buf[4] = {};
    const InSegment i[] = {{buf, 4}};
    r.fake.process_on_notify = false;
    ASSERT_TRUE(r.q().add_buffer({}, i, buf).ok());
    r.q().kick();
    // Packed: the descriptor ring, where the device writes used descriptors.
    const bool packed = GetParam() == kPacked;
    const auto view = r.fake.queue(0);
    auto* used = reinterpret_cast<std::uint8_t*>(
        static_cast<std::uintptr_t>(packed ? view.desc : view.used));
    const std::size_t bytes = packed ? sizeof(PvirtqDesc) * 8 : virtq_used_size(8);
    for (std::size_t k = 0; k < bytes; ++k) used[k] = 0xa5;
    int pops = 0;
    while (pops < 100 && r.q().pop_used().error != Error::broken) ++pops;
    EXPECT_LE(pops, 1);
    EXPECT_TRUE(r.q().broken());
}
