// virtio-mmio transport: probing, both register layouts, ring placement,
// config access, and the versions a Kconfig variant refuses.
#include <gtest/gtest.h>

#include <cstring>

#include "drivers/virtio/hal.hpp"
#include "rig.hpp"

using namespace virtio;
using namespace rig;

TEST(MmioProbe, BadMagicIsNotVirtio) {
    fake::FakeMmioDevice dev(options(enabled_versions().front()));
    dev.magic = 0x12345678;
    MmioTransport t(dev);
    host_hal::reset();
    EXPECT_EQ(t.probe(), Error::not_virtio);
    EXPECT_TRUE(host_hal::log_contains("virtio-mmio@0x10008000: bad magic 0x12345678"))
        << host_hal::log();
    EXPECT_TRUE(dev.status_writes().empty());
}

TEST(MmioProbe, EmptySlotIsSilent) {
    auto o = options(enabled_versions().front());
    o.device_id = 0;
    fake::FakeMmioDevice dev(o);
    MmioTransport t(dev);
    host_hal::reset();
    EXPECT_EQ(t.probe(), Error::no_device);
    EXPECT_EQ(host_hal::log(), "");  // 4.2.3.1: MUST NOT report an error
    EXPECT_TRUE(dev.status_writes().empty());
}

TEST(MmioProbe, UnknownVersionIsRefused) {
    auto o = options(3);
    fake::FakeMmioDevice dev(o);
    MmioTransport t(dev);
    host_hal::reset();
    EXPECT_EQ(t.probe(), Error::unsupported);
    EXPECT_TRUE(host_hal::log_contains("unknown virtio-mmio version 3")) << host_hal::log();
}

TEST(MmioProbe, NamesTheDevice) {
    auto o = options(enabled_versions().front());
    o.device_id = 26;  // virtio-fs: no name in our table
    o.base = 0xa003e00;
    fake::FakeMmioDevice dev(o);
    MmioTransport t(dev);
    ASSERT_EQ(t.probe(), Error::ok);
    EXPECT_STREQ(t.name(), "virtio-26@0xa003e00");
    EXPECT_EQ(t.device_id(), 26u);
    EXPECT_EQ(t.vendor_id(), 0x554d4551u);
}

// Each version is driven when compiled in, else refused with one clear line
// and the device left untouched (run in every Kconfig variant).
TEST(MmioProbe, VersionsFollowKconfig) {
    struct Case {
        std::uint32_t version;
        bool compiled;
        const char* refusal;
    };
    const Case cases[] = {
        {kLegacy, config::legacy,
         "virtio-blk@0x10008000: legacy device, but CONFIG_VIRTIO_LEGACY is off\n"},
        {kModern, config::modern,
         "virtio-blk@0x10008000: modern device, but CONFIG_VIRTIO_MODERN is off\n"},
    };
    for (const Case& c : cases) {
        Rig r(options(c.version));
        const Error e = r.start();
        if (c.compiled) {
            EXPECT_EQ(e, Error::ok) << host_hal::log();
            EXPECT_EQ(r.transport.is_legacy(), c.version == kLegacy);
        } else {
            EXPECT_EQ(e, Error::unsupported);
            EXPECT_EQ(host_hal::log(), c.refusal);
            EXPECT_TRUE(r.fake.status_writes().empty());
        }
        EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
    }
}

class MmioTransportTest : public testing::TestWithParam<std::uint32_t> {};
INSTANTIATE_TEST_SUITE_P(Versions, MmioTransportTest, testing::ValuesIn(enabled_versions()),
                         version_name);

TEST_P(MmioTransportTest, FeatureWordsGoThroughTheSelectors) {
    const std::uint64_t offered = 0x0000'0123'0000'0a5aull;  // high word only matters for modern
    fake::FakeMmioDevice dev(options(GetParam(), offered));
    MmioTransport t(dev);
    ASSERT_EQ(t.probe(), Error::ok);
    if (GetParam() == kLegacy) {
        EXPECT_EQ(t.device_features(), offered & 0xffffffffu);  // 4.2.4: 32 bits
    } else {
        EXPECT_EQ(t.device_features(), offered | feature_bit(VIRTIO_F_VERSION_1));
    }
    dev.write32(mmio::reg::Status, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    t.set_driver_features(0x0000'0101'0000'0a00ull);
    EXPECT_EQ(dev.driver_features(), GetParam() == kLegacy ? 0x0a00ull : 0x0000'0101'0000'0a00ull);
    EXPECT_TRUE(dev.violations().empty()) << dev.violations_text();
}

TEST_P(MmioTransportTest, RingAddressesReachTheDeviceAsItExpectsThem) {
    Rig r(options(GetParam()));
    ASSERT_EQ(r.start(16), Error::ok);
    const auto view = r.fake.queue(0);
    ASSERT_TRUE(view.live);
    EXPECT_EQ(view.num, 16);
    // The device's idea of the rings (computed from PFN for legacy) is the
    // driver's layout: one block, the available ring right after the
    // descriptors, the used ring at its aligned offset (2.7, 2.7.2).
    const std::uint64_t used_off =
        GetParam() == kLegacy
            ? virtq_legacy_used_offset(16, VIRTIO_LEGACY_QUEUE_ALIGN)
            : align_up(virtq_desc_size(16) + virtq_avail_size(16), VIRTQ_USED_ALIGN);
    EXPECT_EQ(view.avail, view.desc + virtq_desc_size(16));
    EXPECT_EQ(view.used, view.desc + used_off);
    EXPECT_EQ(view.desc % VIRTQ_DESC_ALIGN, 0u);
    EXPECT_EQ(view.avail % VIRTQ_AVAIL_ALIGN, 0u);
    EXPECT_EQ(view.used % VIRTQ_USED_ALIGN, 0u);
    if (GetParam() == kLegacy) {
        EXPECT_EQ(r.fake.guest_page_size(), 4096u);
        EXPECT_EQ(view.align, 4096u);
        EXPECT_EQ(view.desc % 4096, 0u);
        EXPECT_EQ(view.used % 4096, 0u);  // seed 000: used ring on the QueueAlign boundary
    }
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

TEST_P(MmioTransportTest, QueueAlreadyLiveIsInUse) {
    Rig r(options(GetParam()));
    ASSERT_EQ(r.start(8), Error::ok);
    const auto v = r.fake.queue(0);
    EXPECT_EQ(r.transport.setup_queue(0, 8, v.desc, v.avail, v.used), Error::queue_in_use);
}

TEST_P(MmioTransportTest, ConfigSpaceWidthsAndLittleEndian) {
    fake::FakeMmioDevice dev(options(GetParam()));
    MmioTransport t(dev);
    ASSERT_EQ(t.probe(), Error::ok);
    // The fake's config byte i is 0x10 + i.
    EXPECT_EQ(t.config_read8(3), 0x13);
    EXPECT_EQ(t.config_read16(4), 0x1514);
    EXPECT_EQ(t.config_read32(8), 0x1b1a1918u);
    EXPECT_EQ(t.config_read64(16), 0x2726252423222120ull);
    t.config_write32(0, 0xdeadbeef);
    t.config_write16(4, 0xcafe);
    t.config_write8(6, 0x42);
    t.config_write32(8, 0x05060708u);
    t.config_write32(12, 0x01020304u);
    EXPECT_EQ(t.config_read32(0), 0xdeadbeefu);
    EXPECT_EQ(t.config_read16(4), 0xcafe);
    EXPECT_EQ(t.config_read8(6), 0x42);
    EXPECT_EQ(t.config_read64(8), 0x0102030405060708ull);
    // Legacy has no generation register, and we must not touch it.
    if (GetParam() == kLegacy) {
        EXPECT_EQ(t.config_generation(), 0u);
    }
    EXPECT_EQ(dev.generation_reads(), 0u);
    EXPECT_TRUE(dev.violations().empty()) << dev.violations_text();
}

TEST_P(MmioTransportTest, InterruptStatusAndAck) {
    Rig r(options(GetParam()));
    ASSERT_EQ(r.start(), Error::ok);
    r.fake.raise_config_change();
    EXPECT_EQ(r.transport.interrupt_status(), VIRTIO_INT_CONFIG_CHANGE);
    r.transport.interrupt_ack(VIRTIO_INT_CONFIG_CHANGE);
    EXPECT_EQ(r.transport.interrupt_status(), 0u);
}

#if defined(CONFIG_VIRTIO_LEGACY)
// A legacy ring handed over in any other shape is refused by the transport
// rather than left to never complete.
TEST(MmioLegacy, SetupRefusesAnotherLayout) {
    fake::FakeMmioDevice dev(options(kLegacy));
    MmioTransport t(dev);
    ASSERT_EQ(t.probe(), Error::ok);
    void* block = hal::dma_alloc(virtq_legacy_size(8, 4096), 4096);
    const std::uint64_t desc = hal::virt_to_phys(block);
    const std::uint64_t avail = desc + virtq_desc_size(8);
    const std::uint64_t packed_used = align_up(avail + virtq_avail_size(8), 4);
    host_hal::reset();
    EXPECT_EQ(t.setup_queue(0, 8, desc, avail, packed_used), Error::bad_layout);
    EXPECT_TRUE(host_hal::log_contains("does not fit the legacy layout")) << host_hal::log();
    EXPECT_EQ(t.setup_queue(0, 8, desc + 64, avail + 64, desc + 64 + 4096), Error::bad_layout);
    EXPECT_FALSE(dev.queue(0).live);
    hal::dma_free(block);
}

// The model itself is strict: a driver that puts the legacy used ring right
// after the avail ring (modern-style) never sees a completion, exactly the
// "used.idx stays 0" symptom of seed 000.
TEST(MmioLegacy, FakeDeviceUsesQemuPlacementNotTheDrivers) {
    fake::FakeMmioDevice dev(options(kLegacy));
    constexpr std::uint16_t n = 8;
    auto* block = static_cast<unsigned char*>(hal::dma_alloc(virtq_legacy_size(n, 4096), 4096));
    auto* desc = reinterpret_cast<VirtqDesc*>(block);
    auto* avail = reinterpret_cast<VirtqAvail*>(block + virtq_desc_size(n));
    auto* avail_ring = reinterpret_cast<std::uint16_t*>(avail + 1);
    auto* wrong_used =
        reinterpret_cast<VirtqUsed*>(block + align_up(virtq_desc_size(n) + virtq_avail_size(n), 4));
    auto* qemu_used = reinterpret_cast<VirtqUsed*>(block + virtq_legacy_used_offset(n, 4096));

    dev.write32(mmio::reg::Status, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    dev.write32(mmio::reg::GuestPageSize, 4096);
    dev.write32(mmio::reg::QueueSel, 0);
    dev.write32(mmio::reg::QueueNum, n);
    dev.write32(mmio::reg::QueueAlign, 4096);
    dev.write32(mmio::reg::QueuePFN, static_cast<std::uint32_t>(hal::virt_to_phys(block) / 4096));
    dev.write32(mmio::reg::Status,
                VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_DRIVER_OK);

    char in[4] = {};
    const char out[4] = {'a', 'b', 'c', 'd'};
    desc[0] = {hal::virt_to_phys(out), 4, VIRTQ_DESC_F_NEXT, 1};
    desc[1] = {hal::virt_to_phys(in), 4, VIRTQ_DESC_F_WRITE, 0};
    avail_ring[0] = 0;
    avail->idx = 1;
    dev.write32(mmio::reg::QueueNotify, 0);

    EXPECT_EQ(std::memcmp(in, out, 4), 0);  // the device did the work...
    EXPECT_EQ(wrong_used->idx, 0);          // ...but not where that driver looks
    EXPECT_EQ(qemu_used->idx, 1);
    hal::dma_free(block);
}
#endif
