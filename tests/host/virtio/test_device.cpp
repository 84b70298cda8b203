// Device core: 3.1 initialisation as the device sees it, feature negotiation,
// queue setup failures, consistent config reads, interrupt dispatch.
#include <gtest/gtest.h>

#include <array>
#include <cstring>

#include "rig.hpp"

using namespace virtio;
using namespace rig;

namespace {
constexpr std::uint8_t ACK = VIRTIO_STATUS_ACKNOWLEDGE;
constexpr std::uint8_t DRV = VIRTIO_STATUS_DRIVER;
constexpr std::uint8_t FOK = VIRTIO_STATUS_FEATURES_OK;
constexpr std::uint8_t DOK = VIRTIO_STATUS_DRIVER_OK;
constexpr std::uint8_t FAILED = VIRTIO_STATUS_FAILED;
}  // namespace

class DeviceTest : public testing::TestWithParam<std::uint32_t> {
protected:
    bool legacy() const { return GetParam() == kLegacy; }
};
INSTANTIATE_TEST_SUITE_P(Versions, DeviceTest, testing::ValuesIn(enabled_versions()), version_name);

TEST_P(DeviceTest, StatusHandshakeAsSeenByTheDevice) {
    Rig r(options(GetParam(), core_ring_features()));
    ASSERT_EQ(r.start(), Error::ok) << host_hal::log();
    const std::vector<std::uint8_t> modern = {0, ACK, ACK | DRV, ACK | DRV | FOK,
                                              ACK | DRV | FOK | DOK};
    const std::vector<std::uint8_t> legacy_seq = {0, ACK, ACK | DRV, ACK | DRV | DOK};
    EXPECT_EQ(r.fake.status_writes(), legacy() ? legacy_seq : modern);
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

TEST_P(DeviceTest, NegotiatesTheIntersection) {
    const std::uint64_t flush = feature_bit(9), blk_size = feature_bit(6), ro = feature_bit(5);
    const std::uint64_t offered = flush | blk_size | feature_bit(VIRTIO_RING_F_EVENT_IDX) |
                                  feature_bit(VIRTIO_RING_F_INDIRECT_DESC) |
                                  feature_bit(VIRTIO_F_NOTIFY_ON_EMPTY) |
                                  feature_bit(VIRTIO_F_RING_PACKED) | feature_bit(40);
    Rig r(options(GetParam(), offered));
    // The driver may not claim transport bits (24..41): the core owns them.
    const std::uint64_t asked =
        flush | ro | feature_bit(VIRTIO_F_RING_PACKED) | feature_bit(VIRTIO_F_NOTIFY_ON_EMPTY);
    ASSERT_EQ(r.start(8, asked), Error::ok) << host_hal::log();
    std::uint64_t expected = flush | core_ring_features();
    if (!legacy()) expected |= feature_bit(VIRTIO_F_VERSION_1);
    // The packed ring: a modern device, and only when built to offer it.
    const bool packed = !legacy() && config::ring_packed;
    if (packed) expected |= feature_bit(VIRTIO_F_RING_PACKED);
    EXPECT_EQ(r.device.features(), expected);
    EXPECT_EQ(r.fake.driver_features(), expected);
    EXPECT_EQ(r.device.has_feature(VIRTIO_F_VERSION_1), !legacy());
    EXPECT_FALSE(r.device.has_feature(5));
    EXPECT_EQ(r.q().uses_event_idx(), config::event_idx);
    EXPECT_EQ(r.q().uses_indirect(), config::indirect_desc);
    EXPECT_EQ(r.q().packed(), packed);
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

// Boot lines name the accepted features: the driver's table for its device
// type, the core's names for its own bits, in bit order.
TEST_P(DeviceTest, DescribesTheAcceptedFeaturesInWords) {
    const std::uint64_t flush = feature_bit(9), blk_size = feature_bit(6);
    const FeatureName names[] = {{6, "blk_size"}, {9, "flush"}, {5, "ro"}};
    Rig r(options(GetParam(), flush | blk_size | feature_bit(3) | core_ring_features()));
    ASSERT_EQ(r.start(8, flush | blk_size | feature_bit(3)), Error::ok) << host_hal::log();
    char buf[160];
    const std::size_t n = r.device.describe_features(buf, sizeof buf, names);
    // Bit 3 has no name in the table.
    EXPECT_EQ(std::string(buf), "bit3 " + feature_words("blk_size flush", GetParam()));
    EXPECT_EQ(n, std::strlen(buf));

    // Cut at a word, never inside one, and always terminated.
    char small[16];
    r.device.describe_features(small, sizeof small, names);
    EXPECT_EQ(std::string(small), "bit3 ...");
    char tiny[4];
    r.device.describe_features(tiny, sizeof tiny, names);
    EXPECT_EQ(std::string(tiny), "...");
    EXPECT_EQ(r.device.describe_features(buf, 0, names), 0u);
}

TEST_P(DeviceTest, NoAcceptedFeaturesIsNone) {
    Rig r(options(GetParam(), 0));
    ASSERT_EQ(r.start(8, feature_bit(9)), Error::ok) << host_hal::log();
    char buf[32];
    r.device.describe_features(buf, sizeof buf, {});
    EXPECT_EQ(std::string(buf), legacy() ? "none" : "version_1");
}

TEST_P(DeviceTest, RingFeaturesOnlyWhenTheDeviceOffersThem) {
    Rig r(options(GetParam(), 0));
    ASSERT_EQ(r.start(), Error::ok);
    EXPECT_FALSE(r.q().uses_event_idx());
    EXPECT_FALSE(r.q().uses_indirect());
}

TEST_P(DeviceTest, QueueNumMaxZeroIsUnavailable) {
    Rig r(options(GetParam()));
    r.fake.set_queue_num_max(0, 0);
    EXPECT_EQ(r.start(), Error::queue_unavailable);
    EXPECT_TRUE(
        host_hal::log_contains("virtio-blk@0x10008000: queue 0 unavailable (QueueNumMax 0)"))
        << host_hal::log();
    EXPECT_NE(r.fake.status() & FAILED, 0);
    EXPECT_EQ(r.fake.status() & DOK, 0);
    EXPECT_EQ(host_hal::live_allocations(), 0u);
    EXPECT_EQ(r.device.queue_count(), 0u);
}

TEST_P(DeviceTest, QueueTheDeviceDoesNotHaveIsUnavailable) {
    auto o = options(GetParam());
    o.num_queues = 1;
    Rig r(o);
    EXPECT_EQ(r.start(8, 0, 2), Error::queue_unavailable);
    EXPECT_TRUE(host_hal::log_contains("queue 1 unavailable")) << host_hal::log();
    EXPECT_EQ(host_hal::live_allocations(), 0u);  // queue 0 was released again
}

TEST_P(DeviceTest, QueueSizeIsClampedToQueueNumMax) {
    Rig r(options(GetParam()));
    r.fake.set_queue_num_max(0, 16);
    ASSERT_EQ(r.start(64), Error::ok);
    EXPECT_EQ(r.q().size(), 16);
    EXPECT_EQ(r.fake.queue(0).num, 16);
    EXPECT_TRUE(host_hal::log_contains("queue 0: size 64 clamped to 16 (QueueNumMax 16)"))
        << host_hal::log();

    Rig odd(options(GetParam()));
    odd.fake.set_queue_num_max(0, 100);  // not a power of two: round down
    ASSERT_EQ(odd.start(128), Error::ok);
    EXPECT_EQ(odd.q().size(), 64);
}

TEST_P(DeviceTest, BadRequestsAreRefused) {
    Rig r(options(GetParam()));
    EXPECT_EQ(r.start(12), Error::invalid_argument);
    EXPECT_TRUE(host_hal::log_contains("size 12 is not a power of two")) << host_hal::log();
    EXPECT_EQ(r.start(8, 0, Device::kMaxQueues + 1), Error::invalid_argument);
    EXPECT_EQ(host_hal::live_allocations(), 0u);
}

TEST_P(DeviceTest, LentQueueTableHoldsMoreQueues) {
    fake::FakeMmioDevice::Options o = options(GetParam());
    o.num_queues = 6;
    Rig r(o);
    Device::QueueSlot table[6];
    r.device.use_queue_table(table);
    EXPECT_EQ(r.device.max_queues(), 6u);
    ASSERT_EQ(r.start(8, 0, 6), Error::ok);
    for (std::uint16_t i = 0; i < 6; ++i) {
        EXPECT_EQ(&r.q(i), &table[i].queue);
        EXPECT_TRUE(r.fake.queue(i).live) << i;
    }
    // The last queue's completions reach its callback.
    std::uint8_t buf[4] = {1, 2, 3, 4};
    const virtio::OutSegment out[] = {{buf, 4}};
    ASSERT_TRUE(r.q(5).add_buffer(out, {}, buf).ok());
    r.q(5).kick();
    r.service_irq();
    ASSERT_EQ(r.completions.size(), 1u);
    EXPECT_EQ(r.completions[0].token, buf);
    r.device.shutdown();
    EXPECT_EQ(r.start(8, 0, 7), Error::invalid_argument);
}

TEST_P(DeviceTest, AllocationFailureLeavesNothingBehind) {
    for (long n = 0; n < 2; ++n) {  // ring block, then bookkeeping
        Rig r(options(GetParam(), core_ring_features()));
        host_hal::fail_allocations_after(n);
        EXPECT_EQ(r.start(), Error::no_memory) << "after " << n;
        EXPECT_EQ(host_hal::live_allocations(), 0u);
        EXPECT_NE(r.fake.status() & FAILED, 0);
    }
    // No memory for indirect tables: the queue still works with chains.
    Rig r(options(GetParam(), core_ring_features()));
    host_hal::fail_allocations_after(2);
    ASSERT_EQ(r.start(), Error::ok);
    EXPECT_FALSE(r.q().uses_indirect());
    if (config::indirect_desc) {
        EXPECT_TRUE(host_hal::log_contains("using chains")) << host_hal::log();
    }
}

TEST_P(DeviceTest, ShutdownAndRestart) {
    Rig r(options(GetParam(), core_ring_features()));
    ASSERT_EQ(r.start(), Error::ok);
    const std::size_t per_start = host_hal::live_allocations();
    EXPECT_GT(per_start, 0u);
    ASSERT_EQ(r.start(), Error::ok);  // negotiate() resets and releases the old queues
    EXPECT_EQ(host_hal::live_allocations(), per_start);

    char out[5] = "ping", in[5] = {};
    const OutSegment o[] = {{out, 4}};
    const InSegment i[] = {{in, 4}};
    ASSERT_TRUE(r.q().add_buffer(o, i, out).ok());
    r.q().kick();
    r.service_irq();
    ASSERT_EQ(r.completions.size(), 1u);
    EXPECT_STREQ(in, "ping");

    r.device.shutdown();
    EXPECT_EQ(host_hal::live_allocations(), 0u);
    EXPECT_EQ(r.fake.status_writes().back(), 0);
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

TEST_P(DeviceTest, ConfigReadRetriesUntilTheGenerationIsStable) {
    Rig r(options(GetParam()));
    ASSERT_EQ(r.start(), Error::ok);
    // The device updates a two-field config while the driver reads it, twice.
    int reads_of_first_field = 0;
    std::uint32_t value = 0;
    r.fake.on_config_read = [&](std::uint32_t offset) {
        if (offset != 0 || ++reads_of_first_field > 2) return;
        ++value;
        std::array<std::uint8_t, 8> bytes{};
        std::memcpy(bytes.data(), &value, 4);
        std::memcpy(bytes.data() + 4, &value, 4);
        r.fake.change_config(0, bytes);
    };
    std::uint32_t a = 0, b = 0;
    int attempts = 0;
    const Error e = r.device.read_config_consistent([&](Transport& t) {
        ++attempts;
        a = t.config_read32(0);
        b = t.config_read32(4);
    });
    EXPECT_EQ(e, Error::ok);
    EXPECT_EQ(a, b);
    if (legacy()) {
        EXPECT_EQ(attempts, 1);  // no generation counter: read once
        EXPECT_EQ(r.fake.generation_reads(), 0u);
    } else {
        EXPECT_EQ(attempts, 3);
        EXPECT_EQ(a, 2u);
        EXPECT_EQ(r.fake.generation_reads(), 6u);
    }
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

TEST_P(DeviceTest, InterruptDispatch) {
    Rig r(options(GetParam()));
    ASSERT_EQ(r.start(), Error::ok);
    EXPECT_FALSE(r.device.handle_interrupt());  // nothing pending: shared line

    r.fake.raise_config_change();
    EXPECT_EQ(r.service_irq(), 1);
    EXPECT_EQ(r.config_changes, 1);
    EXPECT_FALSE(r.fake.irq_pending());

    char out[3] = "hi", in[2] = {};
    const OutSegment o[] = {{out, 2}};
    const InSegment i[] = {{in, 2}};
    ASSERT_TRUE(r.q().add_buffer(o, i, in).ok());
    EXPECT_TRUE(r.q().kick());
    EXPECT_EQ(r.fake.isr(), VIRTIO_INT_USED_BUFFER);
    EXPECT_EQ(r.service_irq(), 1);
    ASSERT_EQ(r.completions.size(), 1u);
    EXPECT_EQ(r.completions[0].token, in);
    EXPECT_EQ(r.completions[0].len, 2u);
    EXPECT_EQ(r.config_changes, 1);
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

#if defined(CONFIG_VIRTIO_MODERN)
TEST(DeviceModern, MissingVersion1IsRefused) {
    auto o = options(kModern);
    o.offer_version_1 = false;
    Rig r(o);
    EXPECT_EQ(r.start(), Error::features_refused);
    EXPECT_TRUE(host_hal::log_contains("modern device without VIRTIO_F_VERSION_1"))
        << host_hal::log();
    EXPECT_EQ(r.fake.status_writes().back(), ACK | DRV | FAILED);
    EXPECT_EQ(host_hal::live_allocations(), 0u);
}

TEST(DeviceModern, FeaturesOkRefusedMeansFailed) {
    Rig r(options(kModern, core_ring_features()));
    r.fake.refuse_features_ok = true;
    EXPECT_EQ(r.start(), Error::features_refused);
    EXPECT_TRUE(host_hal::log_contains("virtio-blk@0x10008000: device refused features 0x"))
        << host_hal::log();
    const std::vector<std::uint8_t> seq = {0, ACK, ACK | DRV, ACK | DRV | FOK, ACK | DRV | FAILED};
    EXPECT_EQ(r.fake.status_writes(), seq);
    EXPECT_FALSE(r.fake.queue(0).live);
    EXPECT_EQ(host_hal::live_allocations(), 0u);
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

TEST(DeviceModern, ConfigThatNeverSettlesGivesUp) {
    Rig r(options(kModern));
    ASSERT_EQ(r.start(), Error::ok);
    const std::uint8_t byte[1] = {0};
    r.fake.on_config_read = [&](std::uint32_t) { r.fake.change_config(0, byte); };
    int attempts = 0;
    EXPECT_EQ(r.device.read_config_consistent([&](Transport& t) {
        ++attempts;
        (void)t.config_read64(0);
    }),
              Error::config_unstable);
    EXPECT_EQ(attempts, static_cast<int>(Device::kConfigReadAttempts));
    EXPECT_TRUE(host_hal::log_contains("configuration kept changing")) << host_hal::log();
}
#endif
