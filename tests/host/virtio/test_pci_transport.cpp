// virtio-pci: capability parsing against a fake configuration space and BARs
// (pci::test::FakeConfig), including malformed capabilities, the modern
// and legacy transports against register windows over host memory, and
// MSI-X: table programming, per-queue and shared vector plans, a device
// refusing a mapping (fallback to INTx), with a fake MSI controller.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <rtos/irq.hpp>

#include "drivers/pci/msix.hpp"
#include "drivers/virtio/spec.hpp"
#include "drivers/virtio/transport/pci_regs.hpp"
#include "drivers/virtio/transport/pci_transport.hpp"
#include "fake_config.hpp"
#include "hal_host.hpp"

namespace {

using namespace virtio;
using pci::test::FakeConfig;
namespace common = pci_regs::common;

constexpr std::uint64_t kBarSize = 0x4000;

// A function as the host bridge hands it over: BAR 4 (mem64) assigned, and
// the four capabilities QEMU gives a modern device.
struct Fixture {
    FakeConfig config{0x1af4, 0x1042};
    pci::Function f;
    std::vector<unsigned char> bar4 = std::vector<unsigned char>(kBarSize);

    Fixture() {
        f.address = {0, 2, 0};
        f.vendor_id = 0x1af4;
        f.device_id = 0x1042;
        f.config = &config;
        f.bar[4] = {pci::Bar::Kind::memory64, true, 0x8000000000, kBarSize,
                    reinterpret_cast<std::uintptr_t>(bar4.data())};
        add(0x40, pci_regs::CAP_COMMON_CFG, 4, 0x0000, 0x1000);
        add(0x50, pci_regs::CAP_ISR_CFG, 4, 0x1000, 0x1000);
        add(0x60, pci_regs::CAP_DEVICE_CFG, 4, 0x2000, 0x1000);
        add(0x70, pci_regs::CAP_NOTIFY_CFG, 4, 0x3000, 0x1000, 4);
    }
    void add(std::uint8_t at, std::uint8_t type, std::uint8_t bar, std::uint32_t offset,
             std::uint32_t length, std::uint32_t multiplier = 0) {
        config.add_capability(at, pci::cap::vendor);
        config.poke8(at + 2, type == pci_regs::CAP_NOTIFY_CFG ? 20 : 16);
        config.poke8(at + 3, type);
        config.poke8(at + 4, bar);
        config.poke32(at + 8, offset);
        config.poke32(at + 12, length);
        if (type == pci_regs::CAP_NOTIFY_CFG) config.poke32(at + 16, multiplier);
    }
    std::string parse(PciLayout& layout) {
        host_hal::reset();
        const char* why = parse_pci_layout(f, layout);
        return why ? why : "";
    }
};

TEST(PciLayout, QemuModernDeviceParses) {
    Fixture fx;
    PciLayout l;
    EXPECT_EQ(fx.parse(l), "");
    EXPECT_TRUE(l.common.present && l.notify.present && l.isr.present && l.device.present);
    EXPECT_EQ(l.common.bar, 4);
    EXPECT_EQ(l.notify.offset, 0x3000u);
    EXPECT_EQ(l.notify_off_multiplier, 4u);
    EXPECT_EQ(l.device.length, 0x1000u);
}

TEST(PciLayout, DeviceConfigIsOptional) {
    Fixture fx;
    fx.config.poke8(0x63, 9);  // the device cap becomes a vendor type we ignore
    PciLayout l;
    EXPECT_EQ(fx.parse(l), "");
    EXPECT_FALSE(l.device.present);
}

TEST(PciLayout, FirstUsableCapabilityOfATypeWins) {
    Fixture fx;
    fx.add(0x88, pci_regs::CAP_COMMON_CFG, 4, 0x100, 0x100);
    PciLayout l;
    EXPECT_EQ(fx.parse(l), "");
    EXPECT_EQ(l.common.offset, 0u);
}

TEST(PciLayout, LengthPastTheEndOfTheBarIsRefused) {
    Fixture fx;
    fx.config.poke32(0x40 + 12, 0x4001);  // common: 0 + 0x4001 > 0x4000
    PciLayout l;
    const std::string why = fx.parse(l);
    EXPECT_NE(why.find("no usable common configuration capability"), std::string::npos) << why;
    EXPECT_NE(why.find("past the end of BAR 4"), std::string::npos) << why;
    EXPECT_FALSE(l.common.present);
}

TEST(PciLayout, OffsetPlusLengthOverflowIsRefused) {
    Fixture fx;
    fx.config.poke32(0x50 + 8, 0xfffff000);  // isr: offset + length wraps in 32 bits
    PciLayout l;
    EXPECT_NE(fx.parse(l).find("past the end of BAR 4"), std::string::npos);
}

TEST(PciLayout, BarIndexAboveFiveIsRefused) {
    Fixture fx;
    fx.config.poke8(0x70 + 4, 7);
    PciLayout l;
    const std::string why = fx.parse(l);
    EXPECT_NE(why.find("no usable notify capability"), std::string::npos) << why;
    EXPECT_NE(why.find("BAR index 7 is not 0..5"), std::string::npos) << why;
}

TEST(PciLayout, UnassignedBarIsRefused) {
    Fixture fx;
    fx.config.poke8(0x40 + 4, 2);  // BAR 2: nothing there
    PciLayout l;
    EXPECT_NE(fx.parse(l).find("BAR 2 is not assigned"), std::string::npos);
}

TEST(PciLayout, NotifyMultiplierNonsenseIsRefused) {
    for (std::uint32_t m : {3u, 1u, 6u, 0x80000000u}) {
        Fixture fx;
        fx.config.poke32(0x70 + 16, m);
        PciLayout l;
        EXPECT_NE(fx.parse(l).find("notify_off_multiplier"), std::string::npos) << m;
        EXPECT_FALSE(l.notify.present) << m;
    }
    Fixture fx;  // 0: every queue at the same address, allowed
    fx.config.poke32(0x70 + 16, 0);
    PciLayout l;
    EXPECT_EQ(fx.parse(l), "");
}

TEST(PciLayout, ShortCapabilitiesAreRefused) {
    Fixture fx;
    fx.config.poke8(0x70 + 2, 16);  // a notify cap without its multiplier
    PciLayout l;
    EXPECT_NE(fx.parse(l).find("length 16 too short"), std::string::npos);
    Fixture fx2;
    fx2.config.poke32(0x40 + 12, 0x20);  // common cfg shorter than the structure
    EXPECT_NE(fx2.parse(l).find("too short for its structure"), std::string::npos);
}

TEST(PciLayout, CapabilityPastTheCapabilityAreaIsRefused) {
    Fixture fx;
    fx.add(0xf4, pci_regs::CAP_COMMON_CFG, 4, 0, 0x1000);
    fx.config.poke8(0x43, 9);  // the good common cap is ignored: only the one at 0xf4 counts
    PciLayout l;
    EXPECT_NE(fx.parse(l).find("runs past the capability area"), std::string::npos);
}

TEST(PciLayout, LoopingCapabilityListIsRefused) {
    Fixture fx;
    fx.config.poke8(0x70 + 1, 0x40);  // notify -> common again: a loop
    PciLayout l;
    EXPECT_EQ(fx.parse(l), "capability list is broken");
    EXPECT_TRUE(host_hal::log_contains("capability list loops"));
}

TEST(PciLayout, MissingCommonConfigIsRefused) {
    Fixture fx;
    fx.config.poke8(0x43, 8);  // shared-memory type: not a common cfg
    PciLayout l;
    EXPECT_EQ(fx.parse(l), "no usable common configuration capability");
}

TEST(PciLayout, NoCapabilitiesAtAll) {
    Fixture fx;
    fx.config.poke16(pci::reg::status, 0);
    PciLayout l;
    EXPECT_EQ(fx.parse(l), "no usable common configuration capability");
}

TEST(PciDeviceType, ModernAndTransitionalIds) {
    pci::Function f;
    f.vendor_id = 0x1af4;
    f.device_id = 0x1042;
    EXPECT_EQ(pci_device_type(f), 2u);
    f.device_id = 0x1001;
    f.subsystem_id = 2;
    EXPECT_EQ(pci_device_type(f), 2u);
    f.vendor_id = 0x8086;
    EXPECT_EQ(pci_device_type(f), 0u);
}

// Register windows over host memory, with the common configuration's
// selector semantics: what device_feature and queue_* show depends on the
// select registers.
class Window : public RegisterWindow {
public:
    explicit Window(std::size_t size) : bytes(size) {}
    std::uint8_t read8(std::uint32_t o) override { return get<std::uint8_t>(o); }
    std::uint16_t read16(std::uint32_t o) override { return get<std::uint16_t>(o); }
    std::uint32_t read32(std::uint32_t o) override { return get<std::uint32_t>(o); }
    void write8(std::uint32_t o, std::uint8_t v) override { put(o, v); }
    void write16(std::uint32_t o, std::uint16_t v) override { put(o, v); }
    void write32(std::uint32_t o, std::uint32_t v) override { put(o, v); }
    std::uint64_t base() const override { return 0; }
    std::vector<std::pair<std::uint32_t, std::uint32_t>> writes;
    std::vector<unsigned char> bytes;

protected:
    template <typename T>
    T get(std::uint32_t o) {
        EXPECT_LE(o + sizeof(T), bytes.size());
        if (o + sizeof(T) > bytes.size()) return 0;
        T v;
        std::memcpy(&v, &bytes[o], sizeof v);
        return v;
    }
    template <typename T>
    void put(std::uint32_t o, T v) {
        writes.emplace_back(o, v);
        EXPECT_LE(o + sizeof(T), bytes.size());
        if (o + sizeof(T) <= bytes.size()) std::memcpy(&bytes[o], &v, sizeof v);
        after_write(o);
    }
    virtual void after_write(std::uint32_t) {}
};

class CommonCfg final : public Window {
public:
    CommonCfg() : Window(common::size) {
        set16(common::num_queues, 3);
        select_queue(0);
    }
    std::uint64_t features = 0x1'0000'0244ull;
    std::map<std::uint16_t, std::uint16_t> notify_off{{0, 0}, {1, 1}, {2, 2}};
    bool refuse_vectors = false;  ///< vector registers read back NO_VECTOR (4.1.5.1.2)

private:
    void set16(std::uint32_t o, std::uint16_t v) { std::memcpy(&bytes[o], &v, 2); }
    void set32(std::uint32_t o, std::uint32_t v) { std::memcpy(&bytes[o], &v, 4); }
    void select_queue(std::uint16_t q) {
        set16(common::queue_size, 256);
        set16(common::queue_enable, 0);
        set16(common::queue_notify_off, notify_off.count(q) ? notify_off[q] : 0);
    }
    void after_write(std::uint32_t o) override {
        if (o == common::device_feature_select)
            set32(common::device_feature,
                  get<std::uint32_t>(o) ? std::uint32_t(features >> 32) : std::uint32_t(features));
        if (o == common::queue_select) select_queue(get<std::uint16_t>(o));
        if (refuse_vectors && (o == common::queue_msix_vector || o == common::config_msix_vector))
            set16(o, pci_regs::NO_VECTOR);
    }
};

struct ModernRig {
    CommonCfg common;
    Window notify{0x1000}, isr{4}, device{0x100};
    PciLayout layout;
    PciTransport t;
    ModernRig()
        : layout(make_layout()),
          t(2, 0x1af4, "00:02.0", {&common, &notify, &isr, &device}, layout) {}
    static PciLayout make_layout() {
        PciLayout l;
        l.notify = {true, 4, 0x3000, 0x1000, 0x70};
        l.device = {true, 4, 0x2000, 0x100, 0x60};
        l.notify_off_multiplier = 4;
        return l;
    }
};

TEST(PciTransport, SixtyFourFeatureBitsThroughTheSelect) {
    ModernRig r;
    EXPECT_STREQ(r.t.name(), "virtio-blk@00:02.0");
    EXPECT_EQ(r.t.device_features(), 0x1'0000'0244ull);
    r.t.set_driver_features(0x1'0000'0004ull);
    const std::vector<std::pair<std::uint32_t, std::uint32_t>> tail(r.common.writes.end() - 4,
                                                                    r.common.writes.end());
    const std::vector<std::pair<std::uint32_t, std::uint32_t>> want{
        {common::driver_feature_select, 0},
        {common::driver_feature, 4},
        {common::driver_feature_select, 1},
        {common::driver_feature, 1}};
    EXPECT_EQ(tail, want);
}

TEST(PciTransport, QueueNotifiedAtItsOwnOffset) {
    ModernRig r;
    EXPECT_EQ(r.t.queue_max_size(1), 256u);
    EXPECT_EQ(r.t.queue_max_size(3), 0u);  // num_queues is 3
    ASSERT_EQ(r.t.setup_queue(1, 64, 0x10000, 0x10400, 0x11000), Error::ok);
    EXPECT_EQ(r.common.read16(common::queue_size), 64);
    EXPECT_EQ(r.common.read16(common::queue_msix_vector), pci_regs::NO_VECTOR);
    EXPECT_EQ(r.common.read16(common::queue_enable), 1);
    EXPECT_EQ(r.common.read32(common::queue_desc), 0x10000u);
    EXPECT_EQ(r.t.notify_offset(1), 4u);  // queue_notify_off 1 * multiplier 4
    r.notify.writes.clear();
    r.t.notify_queue(1);
    ASSERT_EQ(r.notify.writes.size(), 1u);
    EXPECT_EQ(r.notify.writes[0], std::make_pair(4u, 1u));
}

TEST(PciTransport, NotifyOffsetOutsideTheRegionIsRefused) {
    ModernRig r;
    r.common.notify_off[2] = 0x400;  // 0x400 * 4 = 0x1000: past the 0x1000-byte region
    host_hal::reset();
    EXPECT_EQ(r.t.setup_queue(2, 64, 0x10000, 0x10400, 0x11000), Error::bad_layout);
    EXPECT_TRUE(host_hal::log_contains("outside the 4096-byte notify region"));
    EXPECT_EQ(r.common.read16(common::queue_enable), 0);
}

TEST(PciTransport, IsrIsTheInterruptStatusAndConfigIsBounded) {
    ModernRig r;
    r.isr.bytes[0] = VIRTIO_INT_USED_BUFFER | VIRTIO_INT_CONFIG_CHANGE;
    EXPECT_EQ(r.t.interrupt_status(), VIRTIO_INT_USED_BUFFER | VIRTIO_INT_CONFIG_CHANGE);
    r.device.bytes[0xfc] = 0x12;
    EXPECT_EQ(r.t.config_read8(0xfc), 0x12);
    EXPECT_EQ(r.t.config_read32(0xfe), 0u);  // crosses the end: not read
    r.t.config_write32(0x100, 1);            // past the end: dropped
    EXPECT_TRUE(r.device.writes.empty());
}

#if defined(CONFIG_VIRTIO_LEGACY)
class LegacyIo final : public Window {
public:
    LegacyIo() : Window(0x40) {
        std::uint16_t n = 128;
        std::memcpy(&bytes[pci_regs::legacy::queue_size], &n, 2);
    }
};

TEST(PciTransport, LegacyQueueTakesTheDeviceSizeAndLayout) {
    LegacyIo io;
    PciTransport t(2, 0x1af4, "00:03.0", io, io.bytes.size());
    EXPECT_TRUE(t.is_legacy());
    EXPECT_TRUE(t.queue_size_fixed());
    EXPECT_EQ(t.queue_max_size(0), 128u);
    const std::uint64_t desc = 0x100000;
    const std::uint64_t avail = desc + virtq_desc_size(128);
    const std::uint64_t used = desc + virtq_legacy_used_offset(128, VIRTIO_LEGACY_QUEUE_ALIGN);
    EXPECT_EQ(t.setup_queue(0, 64, desc, avail, used), Error::bad_layout);  // not the device's size
    host_hal::reset();
    EXPECT_EQ(t.setup_queue(0, 128, desc, avail + 16, used), Error::bad_layout);
    EXPECT_TRUE(host_hal::log_contains("does not fit the legacy layout"));
    ASSERT_EQ(t.setup_queue(0, 128, desc, avail, used), Error::ok);
    EXPECT_EQ(io.read32(pci_regs::legacy::queue_address), desc / 4096);
    EXPECT_EQ(t.setup_queue(0, 128, desc, avail, used), Error::queue_in_use);
    io.writes.clear();
    t.notify_queue(0);
    ASSERT_EQ(io.writes.size(), 1u);
    EXPECT_EQ(io.writes[0], std::make_pair(pci_regs::legacy::queue_notify, 0u));
    EXPECT_EQ(t.config_read8(io.bytes.size() - pci_regs::legacy::config), 0);  // past BAR 0
}
#endif

// ---- MSI-X ----

// The platform's MSI controller and interrupt attach, recorded.
struct FakeMsi final : rtos::irq::MsiController {
    unsigned next = 100, left = 64;
    std::uint32_t last_device = 0;
    unsigned allocate(std::uint32_t device_id, unsigned count, unsigned* irqs,
                      rtos::irq::MsiMessage* messages) override {
        last_device = device_id;
        unsigned n = count < left ? count : left;
        for (unsigned i = 0; i < n; ++i) {
            irqs[i] = next + i;
            messages[i] = {0x8090040, 0x40 + next + i};
        }
        next += n;
        left -= n;
        return n;
    }
    const char* name() const override { return "fake-msi"; }
};
FakeMsi* fake_msi = nullptr;
std::map<unsigned, std::pair<rtos::irq::Handler, void*>> attached;

void fire(unsigned irq) {
    ASSERT_TRUE(attached.count(irq)) << irq;
    attached[irq].first(attached[irq].second);
}

struct Sink final : InterruptSink {
    std::string events;
    void on_shared_interrupt() override { events += "S"; }
    void on_queue_interrupt(std::uint16_t q) override { events += "Q" + std::to_string(q); }
    void on_config_interrupt() override { events += "C"; }
};

// Fixture plus an MSI-X capability at 0x80: `entries` entries, table in
// BAR 4 at 0x3800 (inside the 0x4000 BAR for up to 128 entries).
struct MsixFixture : Fixture {
    FakeMsi msi;
    explicit MsixFixture(unsigned entries = 4, std::uint32_t table = 0x3800 | 4) {
        config.add_capability(0x80, pci::cap::msix);
        config.poke16(0x82, static_cast<std::uint16_t>(entries - 1));
        config.poke32(0x84, table);
        f.has_msi_id = true;
        f.msi_id = 0x10;
        fake_msi = &msi;
        attached.clear();
    }
    ~MsixFixture() { fake_msi = nullptr; }
    std::uint32_t entry(unsigned i, unsigned word) {
        std::uint32_t v;
        std::memcpy(&v, &bar4[0x3800 + 16 * i + 4 * word], 4);
        return v;
    }
};

TEST(PciMsix, TableEntriesWrittenAndMsixEnabled) {
    MsixFixture fx(4);
    unsigned irqs[8];
    const char* why = "unset";
    ASSERT_EQ(pci::enable_msix(fx.f, 3, irqs, why), 3u) << why;
    EXPECT_EQ(fx.msi.last_device, 0x10u);
    for (unsigned i = 0; i < 3; ++i) {
        EXPECT_EQ(irqs[i], 100 + i);
        EXPECT_EQ(fx.entry(i, 0), 0x8090040u);
        EXPECT_EQ(fx.entry(i, 1), 0u);
        EXPECT_EQ(fx.entry(i, 2), 0x40 + 100 + i);
        EXPECT_EQ(fx.entry(i, 3), 0u);  // unmasked
    }
    EXPECT_EQ(fx.entry(3, 3), 1u);  // the unused entry stays masked
    const std::uint16_t control = fx.config.read16(0x82);
    EXPECT_TRUE(control & pci::msix_reg::enable);
    EXPECT_FALSE(control & pci::msix_reg::function_mask);
    EXPECT_TRUE(fx.config.read16(pci::reg::command) & pci::command::intx_disable);
    EXPECT_EQ(fx.f.msix_vectors, 3u);
    pci::disable_msix(fx.f);
    EXPECT_FALSE(fx.config.read16(0x82) & pci::msix_reg::enable);
    EXPECT_FALSE(fx.config.read16(pci::reg::command) & pci::command::intx_disable);
    EXPECT_EQ(fx.f.msix_vectors, 0u);
}

TEST(PciMsix, UnusableTablesAndMissingRoutesAreRefused) {
    unsigned irqs[8];
    const char* why = nullptr;
    {
        MsixFixture fx(64, 0x3c10 | 4);  // 64 * 16 bytes from 0x3c10: past the 0x4000 BAR
        EXPECT_EQ(pci::enable_msix(fx.f, 2, irqs, why), 0u);
        EXPECT_STREQ(why, "MSI-X table runs past the end of its BAR");
        EXPECT_EQ(fx.msi.next, 100u);  // nothing allocated
    }
    {
        MsixFixture fx(4, 0x0 | 2);  // BAR 2 is not assigned
        EXPECT_EQ(pci::enable_msix(fx.f, 2, irqs, why), 0u);
        EXPECT_STREQ(why, "MSI-X table BAR is not an assigned memory BAR");
    }
    {
        MsixFixture fx(4, 0x0 | 7);
        EXPECT_EQ(pci::enable_msix(fx.f, 2, irqs, why), 0u);
        EXPECT_STREQ(why, "MSI-X table BIR is not 0..5");
    }
    {
        MsixFixture fx;
        fx.f.has_msi_id = false;
        EXPECT_EQ(pci::enable_msix(fx.f, 2, irqs, why), 0u);
        EXPECT_STREQ(why, "its requester ID has no msi-map entry");
    }
    {
        MsixFixture fx;
        fake_msi = nullptr;
        EXPECT_EQ(pci::enable_msix(fx.f, 2, irqs, why), 0u);
        EXPECT_STREQ(why, "the platform has no MSI controller");
    }
    {
        MsixFixture fx;
        fx.msi.left = 0;
        EXPECT_EQ(pci::enable_msix(fx.f, 2, irqs, why), 0u);
        EXPECT_STREQ(why, "the MSI controller has no interrupts left");
        EXPECT_FALSE(fx.config.read16(0x82) & pci::msix_reg::enable);
    }
    {
        Fixture fx;  // no MSI-X capability at all
        FakeMsi msi;
        fake_msi = &msi;
        fx.f.has_msi_id = true;
        EXPECT_EQ(pci::enable_msix(fx.f, 2, irqs, why), 0u);
        EXPECT_STREQ(why, "no MSI-X capability");
        fake_msi = nullptr;
    }
}

// Sets up `queues` queues the way virtio::Device does.
void setup_queues(PciTransport& t, std::uint16_t queues) {
    t.plan_interrupts(queues);
    for (std::uint16_t q = 0; q < queues; ++q)
        ASSERT_EQ(t.setup_queue(q, 64, 0x10000, 0x10400, 0x11000), Error::ok);
}

// The vectors written to queue_msix_vector, in queue order (the fake keeps
// one register, not one per queue).
std::vector<std::uint32_t> queue_vectors(CommonCfg& c) {
    std::vector<std::uint32_t> v;
    for (const auto& [offset, value] : c.writes)
        if (offset == common::queue_msix_vector) v.push_back(value);
    return v;
}

TEST(PciMsix, EachQueueItsOwnVectorWhenThereAreEnough) {
    ModernRig r;
    attached.clear();
    EXPECT_EQ(r.t.wanted_vectors(), 4u);  // configuration + num_queues 3
    const unsigned irqs[] = {100, 101, 102, 103};
    r.t.use_msix(nullptr, irqs, 4);
    setup_queues(r.t, 3);
    EXPECT_EQ(r.common.read16(common::config_msix_vector), 0);
    EXPECT_EQ(queue_vectors(r.common), (std::vector<std::uint32_t>{1, 2, 3}));
    Sink sink;
    ASSERT_TRUE(r.t.attach_interrupts(sink));
    EXPECT_EQ(attached.size(), 4u);
    fire(102);
    fire(100);
    fire(103);
    EXPECT_EQ(sink.events, "Q1CQ2");
    char text[24];
    r.t.describe_interrupts(text, sizeof text);
    EXPECT_STREQ(text, "msix 4");
    // Each queue's interrupt is its vector's, its own (what Device::route_queue() moves).
    for (std::uint16_t q = 0; q < 3; ++q) {
        unsigned irq = 0;
        bool own = false;
        ASSERT_TRUE(r.t.queue_interrupt(q, irq, own));
        EXPECT_EQ(irq, 101u + q);
        EXPECT_TRUE(own);
    }
    unsigned irq = 0;
    bool own = false;
    EXPECT_FALSE(r.t.queue_interrupt(3, irq, own));  // no such queue
}

TEST(PciMsix, QueuesShareOneVectorWhenThereAreFewer) {
    ModernRig r;
    attached.clear();
    const unsigned irqs[] = {100, 101};
    r.t.use_msix(nullptr, irqs, 2);
    setup_queues(r.t, 3);
    EXPECT_EQ(queue_vectors(r.common), (std::vector<std::uint32_t>{1, 1, 1}));
    Sink sink;
    ASSERT_TRUE(r.t.attach_interrupts(sink));
    fire(101);
    EXPECT_EQ(sink.events, "Q0Q1Q2");
    char text[24];
    r.t.describe_interrupts(text, sizeof text);
    EXPECT_STREQ(text, "msix 2");
    unsigned irq = 0;
    bool own = true;
    ASSERT_TRUE(r.t.queue_interrupt(2, irq, own));  // the shared vector: not the queue's own
    EXPECT_EQ(irq, 101u);
    EXPECT_FALSE(own);
}

TEST(PciMsix, OneVectorIsNotEnough) {
    ModernRig r;
    attached.clear();
    const unsigned irqs[] = {100};
    r.t.use_msix(nullptr, irqs, 1);
    r.t.set_interrupt_line(33);
    setup_queues(r.t, 1);
    EXPECT_EQ(queue_vectors(r.common), std::vector<std::uint32_t>{pci_regs::NO_VECTOR});
    Sink sink;
    ASSERT_TRUE(r.t.attach_interrupts(sink));
    ASSERT_EQ(attached.size(), 1u);
    fire(33);
    EXPECT_EQ(sink.events, "S");
}

TEST(PciMsix, RefusedMappingFallsBackToIntx) {
    MsixFixture fx(4);
    unsigned irqs[8];
    const char* why = nullptr;
    ASSERT_EQ(pci::enable_msix(fx.f, 4, irqs, why), 4u);
    ModernRig r;
    r.common.refuse_vectors = true;
    r.t.use_msix(&fx.f, irqs, 4);
    r.t.set_interrupt_line(33);
    setup_queues(r.t, 3);
    host_hal::reset();
    Sink sink;
    ASSERT_TRUE(r.t.attach_interrupts(sink));
    EXPECT_TRUE(host_hal::log_contains("device refused an MSI-X vector mapping, using INTx"));
    EXPECT_EQ(attached.size(), 1u);
    EXPECT_EQ(attached.count(33), 1u);
    EXPECT_FALSE(fx.config.read16(0x82) & pci::msix_reg::enable);
    EXPECT_EQ(r.common.read16(common::config_msix_vector), pci_regs::NO_VECTOR);
    char text[24];
    r.t.describe_interrupts(text, sizeof text);
    EXPECT_STREQ(text, "irq 33");
    fire(33);
    EXPECT_EQ(sink.events, "S");
    unsigned irq = 0;
    bool own = true;
    ASSERT_TRUE(r.t.queue_interrupt(0, irq, own));  // INTx: the line, shared by every queue
    EXPECT_EQ(irq, 33u);
    EXPECT_FALSE(own);
}

#if defined(CONFIG_VIRTIO_LEGACY)
TEST(PciMsix, LegacyConfigMovesBehindTheVectorRegisters) {
    LegacyIo io;
    io.bytes[pci_regs::legacy::config] = 0x11;
    io.bytes[pci_regs::legacy::config_with_msix] = 0x22;
    PciTransport t(2, 0x1af4, "00:03.0", io, io.bytes.size());
    EXPECT_EQ(t.config_read8(0), 0x11);
    const unsigned irqs[] = {100, 101};
    t.use_msix(nullptr, irqs, 2);
    EXPECT_EQ(t.config_read8(0), 0x22);
    t.plan_interrupts(1);
    EXPECT_EQ(io.read16(pci_regs::legacy::config_msix_vector), 0);
    const std::uint64_t desc = 0x100000;
    ASSERT_EQ(t.setup_queue(0, 128, desc, desc + virtq_desc_size(128),
                            desc + virtq_legacy_used_offset(128, VIRTIO_LEGACY_QUEUE_ALIGN)),
              Error::ok);
    EXPECT_EQ(io.read16(pci_regs::legacy::queue_msix_vector), 1);
    EXPECT_EQ(t.config_read8(io.bytes.size() - pci_regs::legacy::config_with_msix), 0);
}
#endif

}  // namespace

namespace rtos::irq {
bool attach(unsigned irq, Handler handler, void* arg) {
    attached[irq] = {handler, arg};
    return true;
}
void enable(unsigned) {}
void disable(unsigned) {}
// One CPU: every interrupt is delivered to CPU 0.
unsigned cpu_of(unsigned) { return 0; }
bool route(unsigned, unsigned cpu) { return cpu == 0; }
MsiController* msi_controller() { return fake_msi; }
}  // namespace rtos::irq
