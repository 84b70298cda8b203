// spec.hpp facts, config.hpp mapping, names.
#include <gtest/gtest.h>

#include "drivers/virtio/config.hpp"
#include "drivers/virtio/error.hpp"
#include "drivers/virtio/spec.hpp"
#include "drivers/virtio/transport/transport.hpp"

using namespace virtio;

TEST(Spec, FeatureBitNumbers) {
    EXPECT_EQ(VIRTIO_F_VERSION_1, 32u);
    EXPECT_EQ(VIRTIO_RING_F_EVENT_IDX, 29u);
    EXPECT_EQ(VIRTIO_RING_F_INDIRECT_DESC, 28u);
    EXPECT_EQ(VIRTIO_TRANSPORT_FEATURES_MASK, 0x3ff'ff00'0000ull);  // bits 24..41
}

TEST(Spec, LegacyUsedRingIsWhereQemuComputesIt) {
    // QEMU virtio_queue_update_rings(): used = align(desc + 16n + 4 + 2n, align).
    // The 2.7.2 formula also counts used_event; both agree for every valid size.
    for (std::size_t n = 1; n <= VIRTQ_MAX_SIZE; n *= 2) {
        const std::size_t qemu = align_up(16 * n + 4 + 2 * n, 4096);
        EXPECT_EQ(virtq_legacy_used_offset(n, 4096), qemu) << "queue size " << n;
        EXPECT_GE(virtq_legacy_size(n, 4096), qemu + virtq_used_size(n));
        EXPECT_EQ(virtq_legacy_size(n, 4096) % 4096, 0u);
    }
}

TEST(Spec, EventIndexArithmeticWraps) {
    EXPECT_TRUE(vring_need_event(5, 6, 5));   // crossed 5 -> 6
    EXPECT_FALSE(vring_need_event(5, 5, 4));  // not yet written entry 5
    EXPECT_TRUE(vring_need_event(5, 10, 0));  // batch over it
    EXPECT_FALSE(vring_need_event(20, 10, 0));
    EXPECT_TRUE(vring_need_event(65535, 2, 65530));  // across the 16-bit wrap
    EXPECT_FALSE(vring_need_event(3, 3, 3));         // nothing added
}

TEST(Spec, ConfigMirrorsTheMacros) {
#if defined(CONFIG_VIRTIO_LEGACY)
    EXPECT_TRUE(config::legacy);
#else
    EXPECT_FALSE(config::legacy);
#endif
#if defined(CONFIG_VIRTIO_MODERN)
    EXPECT_TRUE(config::modern);
#else
    EXPECT_FALSE(config::modern);
#endif
    EXPECT_TRUE(config::legacy || config::modern);
    EXPECT_EQ(config::blk_queue_size, 64);
}

TEST(Spec, ErrorNamesAreDistinct) {
    EXPECT_STREQ(error_name(Error::ok), "ok");
    EXPECT_STREQ(error_name(Error::device_error), "device_error");
    EXPECT_STREQ(error_name(Error::config_unstable), "config_unstable");
}

TEST(Spec, DeviceTypeNames) {
    EXPECT_STREQ(device_type_name(VIRTIO_ID_BLOCK), "virtio-blk");
    EXPECT_STREQ(device_type_name(VIRTIO_ID_NET), "virtio-net");
    EXPECT_STREQ(device_type_name(VIRTIO_ID_ENTROPY), "virtio-rng");
    EXPECT_EQ(device_type_name(26), nullptr);
}
