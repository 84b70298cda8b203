// The host bridge against a fake ECAM: enumeration (multi-function), BAR
// sizing and assignment (32/64-bit, prefetchable, I/O, BARs that fit no
// window, malformed BARs), INTx routing, driver matching; and the device-tree
// side: QEMU's host-bridge nodes and broken ones.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "drivers/pci/bus.hpp"
#include "fake_config.hpp"

namespace pci::test {
namespace {

// QEMU riscv64 virt's windows.
HostBridge riscv_host() {
    HostBridge h;
    h.ecam_base = 0x30000000;
    h.ecam_size = 0x10000000;
    h.bus_last = 255;
    h.io = {true, false, 0x3000000, 0, 0x10000, 0x1000};
    h.mem = {true, false, 0x40000000, 0x40000000, 0x40000000, 0};
    h.mem64 = {true, false, 0x400000000, 0x400000000, 0x400000000, 0};
    return h;
}

// QEMU's INTx map: device d, pin p -> line 32 + (d + p - 1) % 4.
class Router final : public IrqRouter {
public:
    bool route(const Address& a, std::uint8_t pin, unsigned& irq) override {
        ++calls;
        if (refuse) return false;
        irq = 32 + (a.device + pin - 1) % 4;
        return true;
    }
    unsigned calls = 0;
    bool refuse = false;
};

std::vector<const Function*> table() {
    std::vector<const Function*> v;
    for (const Function* f = functions_begin(); f != functions_end(); ++f) v.push_back(f);
    return v;
}

FakeConfig virtio_blk() {
    FakeConfig c(0x1af4, 0x1042, 0x010000);
    c.set_bar(1, {BarSpec::mem32, 0x1000});
    c.set_bar(4, {BarSpec::mem64, 0x4000, true});
    c.poke8(reg::interrupt_pin, 1);
    return c;
}

class PciEnumerate : public ::testing::Test {
protected:
    void SetUp() override { reset_functions(); }
    FakeEcam ecam;
    Router router;
    HostBridge host = riscv_host();
};

TEST_F(PciEnumerate, QemuLikeBus) {
    ecam.add(0, 0, 0, FakeConfig(0x1b36, 0x0008, 0x060000));  // QEMU's host bridge function
    FakeConfig& blk = ecam.add(0, 2, 0, virtio_blk());
    FakeConfig dev3(0x1b36, 0x0005, 0x00ff00);  // pci-testdev
    dev3.set_bar(0, {BarSpec::mem32, 0x1000});
    dev3.set_bar(1, {BarSpec::io, 0x100});
    dev3.poke8(reg::interrupt_pin, 1);
    FakeConfig& test = ecam.add(0, 3, 0, dev3);
    ASSERT_EQ(enumerate(host, ecam, router), 3u);
    auto t = table();
    ASSERT_EQ(t.size(), 3u);
    EXPECT_EQ(t[0]->vendor_id, 0x1b36);
    EXPECT_EQ(t[0]->class_code, 0x060000u);
    EXPECT_FALSE(t[0]->has_irq);
    EXPECT_EQ(t[0]->bar[0].kind, Bar::Kind::none);

    const Function& b = *t[1];
    EXPECT_EQ(b.address.device, 2);
    EXPECT_EQ(b.device_id, 0x1042);
    EXPECT_EQ(b.class_code, 0x010000u);
    EXPECT_EQ(b.config, &blk);
    EXPECT_TRUE(b.has_irq);
    EXPECT_EQ(b.irq, 34u);
    EXPECT_EQ(blk.read8(reg::interrupt_line), 34);
    EXPECT_EQ(b.bar[1].kind, Bar::Kind::memory32);
    EXPECT_EQ(b.bar[1].size, 0x1000u);
    EXPECT_EQ(b.bar[4].kind, Bar::Kind::memory64);
    EXPECT_TRUE(b.bar[4].prefetchable);
    EXPECT_EQ(b.bar[4].size, 0x4000u);
    EXPECT_EQ(b.bar[4].bus_address, 0x400000000u);  // the 64-bit window
    EXPECT_EQ(b.bar[4].cpu_address, 0x400000000u);
    EXPECT_EQ(b.bar[5].kind, Bar::Kind::none);  // upper half of BAR 4
    EXPECT_EQ(blk.bar_value(1), b.bar[1].bus_address);
    EXPECT_EQ(blk.bar_value(4), b.bar[4].bus_address);
    EXPECT_EQ(blk.read16(reg::command), command::memory);

    const Function& d = *t[2];
    EXPECT_EQ(d.bar[1].kind, Bar::Kind::io);
    EXPECT_EQ(d.bar[1].size, 0x100u);
    EXPECT_EQ(d.bar[1].bus_address, 0x1000u);  // I/O address 0..0xfff stays free
    EXPECT_EQ(d.bar[1].cpu_address, 0x3001000u);
    EXPECT_EQ(test.bar_value(1), 0x1000u);
    EXPECT_EQ(test.read16(reg::command), command::memory | command::io);
    EXPECT_EQ(d.irq, 35u);  // 32 + (3 + 1 - 1) % 4

    // The two 4 KiB memory BARs: distinct, aligned, in the 32-bit window.
    for (const Bar* bar : {&b.bar[1], &d.bar[0]}) {
        EXPECT_EQ(bar->bus_address % bar->size, 0u);
        EXPECT_GE(bar->bus_address, 0x40000000u);
        EXPECT_LT(bar->bus_address, 0x80000000u);
    }
    EXPECT_NE(b.bar[1].bus_address, d.bar[0].bus_address);
}

TEST_F(PciEnumerate, MultiFunctionDevices) {
    ecam.add(0, 1, 0, FakeConfig(0x8086, 0x1000, 0x020000, 0x80));
    ecam.add(0, 1, 3, FakeConfig(0x8086, 0x1003, 0x020000));
    ecam.add(0, 1, 7, FakeConfig(0x8086, 0x1007, 0x020000));
    // Not multi-function: whatever answers at function 1 is not looked at.
    ecam.add(0, 4, 0, FakeConfig(0x1234, 0x0001));
    ecam.add(0, 4, 1, FakeConfig(0x1234, 0x0002));
    // Function 0 absent: the device is absent.
    ecam.add(0, 5, 1, FakeConfig(0x1234, 0x0003));
    ASSERT_EQ(enumerate(host, ecam, router), 4u);
    auto t = table();
    EXPECT_EQ(t[0]->address.function, 0);
    EXPECT_EQ(t[1]->address.function, 3);
    EXPECT_EQ(t[2]->address.function, 7);
    EXPECT_EQ(t[3]->device_id, 0x0001);
}

TEST_F(PciEnumerate, LargestBarsFirstNaturallyAligned) {
    FakeConfig c(0x1234, 0x1111);
    c.set_bar(0, {BarSpec::mem32, 0x1000});
    c.set_bar(1, {BarSpec::mem32, 0x100000});
    c.set_bar(2, {BarSpec::mem32, 0x10});
    c.set_bar(3, {BarSpec::mem32, 0x20000});
    ecam.add(0, 0, 0, c);
    host.mem.used = 0x10;  // something already there: the next BAR must realign
    ASSERT_EQ(enumerate(host, ecam, router), 1u);
    const Function& f = *functions_begin();
    EXPECT_EQ(f.bar[1].bus_address, 0x40100000u);
    EXPECT_EQ(f.bar[3].bus_address, 0x40200000u);
    EXPECT_EQ(f.bar[0].bus_address, 0x40220000u);
    EXPECT_EQ(f.bar[2].bus_address, 0x40221000u);
}

TEST_F(PciEnumerate, SixtyFourBitBarWithoutA64BitWindow) {
    host.mem64 = Window{};
    FakeConfig& blk = ecam.add(0, 2, 0, virtio_blk());
    ASSERT_EQ(enumerate(host, ecam, router), 1u);
    const Function& f = *functions_begin();
    EXPECT_EQ(f.bar[4].kind, Bar::Kind::memory64);
    EXPECT_EQ(f.bar[4].bus_address, 0x40000000u);  // largest first, in the 32-bit window
    EXPECT_EQ(blk.bar_value(4), 0x40000000u);
}

TEST_F(PciEnumerate, BarsThatFitNoWindowAreLeftUnassigned) {
    FakeConfig big(0x1234, 0x2222);
    big.set_bar(0, {BarSpec::mem32, 0x1000});
    big.set_bar(2, {BarSpec::mem64, 1ull << 40, true});  // 1 TiB
    big.set_bar(4, {BarSpec::io, 0x20});
    FakeConfig& b = ecam.add(0, 1, 0, big);
    FakeConfig& ok = ecam.add(0, 2, 0, virtio_blk());
    FakeConfig io(0x1234, 0x3333);
    io.set_bar(0, {BarSpec::io, 0x10000});  // the whole I/O window, minus the reserved first page
    FakeConfig& i = ecam.add(0, 3, 0, io);
    ASSERT_EQ(enumerate(host, ecam, router), 3u);
    auto t = table();
    // Memory decoding off, none of its memory BARs usable; I/O still fine.
    EXPECT_EQ(t[0]->bar[0].kind, Bar::Kind::none);
    EXPECT_EQ(t[0]->bar[2].kind, Bar::Kind::none);
    EXPECT_EQ(t[0]->bar[4].kind, Bar::Kind::io);
    EXPECT_EQ(b.read16(reg::command), command::io);
    // The other function is unaffected.
    EXPECT_EQ(t[1]->bar[4].kind, Bar::Kind::memory64);
    EXPECT_EQ(ok.read16(reg::command), command::memory);
    EXPECT_EQ(t[2]->bar[0].kind, Bar::Kind::none);
    EXPECT_EQ(i.read16(reg::command), 0);
}

TEST_F(PciEnumerate, WindowEdges) {
    // A window exactly full, then one byte too small; a 32-bit BAR never above 4 GiB.
    host.mem = {true, false, 0x40000000, 0x40000000, 0x2000, 0};
    host.mem64 = Window{};
    FakeConfig c(0x1234, 0x4444);
    c.set_bar(0, {BarSpec::mem32, 0x1000});
    c.set_bar(1, {BarSpec::mem32, 0x1000});
    ecam.add(0, 0, 0, c);
    FakeConfig d(0x1234, 0x5555);
    d.set_bar(0, {BarSpec::mem32, 0x10});
    ecam.add(0, 1, 0, d);
    ASSERT_EQ(enumerate(host, ecam, router), 2u);
    auto t = table();
    EXPECT_EQ(t[0]->bar[0].kind, Bar::Kind::memory32);
    EXPECT_EQ(t[0]->bar[1].kind, Bar::Kind::memory32);
    EXPECT_EQ(t[1]->bar[0].kind, Bar::Kind::none);

    reset_functions();
    HostBridge high = riscv_host();
    high.mem = {true, false, 0x1ffff0000, 0x1ffff0000, 0x100000, 0};  // misconfigured: above 4 GiB
    FakeEcam e2;
    FakeConfig m(0x1234, 0x6666);
    m.set_bar(0, {BarSpec::mem32, 0x1000});
    e2.add(0, 0, 0, m);
    ASSERT_EQ(enumerate(high, e2, router), 1u);
    EXPECT_EQ(functions_begin()->bar[0].kind, Bar::Kind::none);
}

TEST_F(PciEnumerate, MalformedBarsAreIgnored) {
    FakeConfig c(0x1234, 0x7777);
    // Read-only BARs that read back as: holes in the mask (not a size), the
    // reserved type 1, all ones (a vanished function), a 64-bit BAR in the
    // last slot, a 64-bit BAR whose both halves read zero.
    c.set_bar(0, {BarSpec::fixed, 0xfff0f000});
    c.set_bar(1, {BarSpec::fixed, 0x00000002});
    c.set_bar(2, {BarSpec::fixed, 0xffffffff});
    c.set_bar(3, {BarSpec::fixed, 0x00000004});
    c.set_bar(4, {BarSpec::fixed, 0x00000000});
    c.set_bar(5, {BarSpec::fixed, 0xfffff004});
    FakeConfig& f = ecam.add(0, 0, 0, c);
    ASSERT_EQ(enumerate(host, ecam, router), 1u);
    for (const Bar& b : functions_begin()->bar) EXPECT_EQ(b.kind, Bar::Kind::none);
    EXPECT_EQ(f.read16(reg::command), 0);
}

TEST_F(PciEnumerate, InterruptPins) {
    FakeConfig a(0x1234, 1);
    a.poke8(reg::interrupt_pin, 7);  // invalid
    ecam.add(0, 0, 0, a);
    FakeConfig b(0x1234, 2);
    b.poke8(reg::interrupt_pin, 4);
    ecam.add(0, 1, 0, b);
    FakeConfig c(0x1234, 3);  // no pin
    ecam.add(0, 2, 0, c);
    ASSERT_EQ(enumerate(host, ecam, router), 3u);
    auto t = table();
    EXPECT_FALSE(t[0]->has_irq);
    EXPECT_EQ(t[0]->interrupt_pin, 0);
    EXPECT_TRUE(t[1]->has_irq);
    EXPECT_EQ(t[1]->irq, 32u);  // (1 + 4 - 1) % 4
    EXPECT_FALSE(t[2]->has_irq);
    EXPECT_EQ(router.calls, 1u);

    reset_functions();
    Router none;
    none.refuse = true;
    FakeEcam e2;
    e2.add(0, 1, 0, b);
    ASSERT_EQ(enumerate(host, e2, none), 1u);
    EXPECT_FALSE(functions_begin()->has_irq);
    EXPECT_EQ(functions_begin()->interrupt_pin, 4);
}

FakeConfig bridge(bool pref64 = true) {
    FakeConfig br(0x1b36, 0x000c, 0x060400, 0x01);
    br.poke16(0x24, pref64 ? 1 : 0);  // prefetchable window decodes 64-bit addresses
    br.poke8(reg::interrupt_pin, 1);
    return br;
}

struct Windows {
    std::uint64_t io_base, io_limit, mem_base, mem_limit, pref_base, pref_limit;
};

Windows windows_of(ConfigSpace& c) {
    return {
        std::uint64_t(c.read8(0x1c) & 0xf0) << 8 | std::uint64_t(c.read16(0x30)) << 16,
        (std::uint64_t(c.read8(0x1d) & 0xf0) << 8 | std::uint64_t(c.read16(0x32)) << 16) | 0xfff,
        std::uint64_t(c.read16(0x20) & 0xfff0) << 16,
        (std::uint64_t(c.read16(0x22) & 0xfff0) << 16) | 0xfffff,
        std::uint64_t(c.read16(0x24) & 0xfff0) << 16 | std::uint64_t(c.read32(0x28)) << 32,
        ((std::uint64_t(c.read16(0x26) & 0xfff0) << 16) | 0xfffff) | std::uint64_t(c.read32(0x2c))
                                                                         << 32};
}

bool inside(const Bar& b, std::uint64_t base, std::uint64_t limit) {
    return b.bus_address >= base && b.bus_address + b.size - 1 <= limit;
}

TEST_F(PciEnumerate, BridgesGetBusesWindowsAndSwizzle) {
    ecam.add(0, 0, 0, FakeConfig(0x1b36, 0x0008, 0x060000));
    FakeConfig& b1 = ecam.add(0, 1, 0, bridge());
    FakeConfig& b2 = ecam.add(0, 2, 0, bridge());
    ecam.add(1, 0, 0, virtio_blk());
    FakeConfig io(0x1234, 0x0101);
    io.set_bar(0, {BarSpec::io, 0x100});
    io.poke8(reg::interrupt_pin, 2);
    ecam.add(1, 2, 0, io);
    FakeConfig& b3 = ecam.add(2, 0, 0, bridge(false));
    FakeConfig deep(0x1234, 0x0303);
    deep.set_bar(0, {BarSpec::mem32, 0x200000});
    deep.set_bar(2, {BarSpec::mem64, 0x10000, true});  // behind a 32-bit prefetchable window
    deep.poke8(reg::interrupt_pin, 1);
    ecam.add(3, 0, 0, deep);
    ecam.add(4, 0, 0, FakeConfig(0x1234, 0x0404));  // no bridge leads here: not found
    ASSERT_EQ(enumerate(host, ecam, router), 7u);
    auto t = table();
    // Bus numbers: primary, secondary, subordinate.
    EXPECT_EQ(b1.read32(0x18) & 0xffffff, 0x010100u);
    EXPECT_EQ(b2.read32(0x18) & 0xffffff, 0x030200u);
    EXPECT_EQ(b3.read32(0x18) & 0xffffff, 0x030302u);
    for (FakeConfig* b : {&b1, &b2, &b3})
        EXPECT_EQ(b->read16(reg::command), command::io | command::memory | command::bus_master);

    const Function& blk = *t[2];
    ASSERT_EQ(blk.address.bus, 1);
    Windows w1 = windows_of(b1);
    EXPECT_TRUE(inside(blk.bar[1], w1.mem_base, w1.mem_limit));
    EXPECT_TRUE(inside(blk.bar[4], w1.pref_base, w1.pref_limit));
    EXPECT_GE(blk.bar[4].bus_address, 0x400000000u);  // the host's 64-bit window
    EXPECT_EQ(blk.irq, 33u);                          // INTA at 01:00.0 -> INTA at 00:01.0
    const Function& iof = *t[3];
    EXPECT_TRUE(inside(iof.bar[0], w1.io_base, w1.io_limit));
    EXPECT_GE(w1.io_base, 0x1000u);
    EXPECT_EQ(iof.irq, 32u);  // INTB at device 2 -> INTD at 00:01.0

    const Function& d = *t[6];
    ASSERT_EQ(d.address.bus, 3);
    Windows w2 = windows_of(b2), w3 = windows_of(b3);
    EXPECT_TRUE(inside(d.bar[0], w3.mem_base, w3.mem_limit));
    EXPECT_EQ(d.bar[0].bus_address % 0x200000, 0u);
    EXPECT_EQ(d.bar[2].kind, Bar::Kind::memory64);
    EXPECT_LT(d.bar[2].bus_address, 0x100000000u);  // no 64-bit window on the way
    EXPECT_TRUE(inside(d.bar[2], w3.mem_base, w3.mem_limit));
    EXPECT_GE(w3.mem_base, w2.mem_base);
    EXPECT_LE(w3.mem_limit, w2.mem_limit);
    EXPECT_EQ(d.irq, 34u);  // through 02:00.0 (device 0) and 00:02.0
    // Windows of different bridges do not overlap.
    EXPECT_TRUE(w1.mem_limit < w2.mem_base || w2.mem_limit < w1.mem_base);
}

TEST_F(PciEnumerate, BridgeWithNothingBehindHasClosedWindows) {
    FakeConfig& b = ecam.add(0, 1, 0, bridge());
    ASSERT_EQ(enumerate(host, ecam, router), 1u);
    Windows w = windows_of(b);
    EXPECT_GT(w.mem_base, w.mem_limit);
    EXPECT_GT(w.io_base & 0xffff, w.io_limit & 0xffff);
    EXPECT_EQ(b.read8(0x1a), 1);
}

TEST_F(PciEnumerate, BusNumbersRunOut) {
    host.bus_last = 1;
    ecam.add(0, 1, 0, bridge());
    ecam.add(0, 2, 0, bridge());
    ecam.add(1, 0, 0, FakeConfig(0x1234, 1));
    ASSERT_EQ(enumerate(host, ecam, router), 3u);  // the second bridge is listed, not entered
}

TEST_F(PciEnumerate, TableFullStopsCleanly) {
    for (std::uint8_t d = 0; d < 32; ++d)
        for (std::uint8_t fn = 0; fn < 8; ++fn) ecam.add(0, d, fn, FakeConfig(0x1234, d, 0, 0x80));
    EXPECT_EQ(enumerate(host, ecam, router), kMaxFunctions);
    EXPECT_EQ(functions_end() - functions_begin(), static_cast<long>(kMaxFunctions));
}

int probed = 0;
bool take(Function&) { return ++probed, true; }
bool refuse(Function&) { return ++probed, false; }

TEST_F(PciEnumerate, DriversMatchByVendorAndDeviceRange) {
    ecam.add(0, 1, 0, FakeConfig(0x1af4, 0x1000));
    ecam.add(0, 2, 0, FakeConfig(0x1af4, 0x1042));
    ecam.add(0, 3, 0, FakeConfig(0x1af4, 0x107f));
    ecam.add(0, 4, 0, FakeConfig(0x1b36, 0x1042));
    ASSERT_EQ(enumerate(host, ecam, router), 4u);
    const DriverEntry drivers[] = {
        {0x1af4, 0x1040, 0x107f, "modern", take},
        {0x1af4, 0x1000, 0x103f, "legacy", refuse},
    };
    probed = 0;
    bind_drivers(drivers);
    auto t = table();
    EXPECT_EQ(t[0]->driver, nullptr);  // refused
    EXPECT_STREQ(t[1]->driver, "modern");
    EXPECT_STREQ(t[2]->driver, "modern");
    EXPECT_EQ(t[3]->driver, nullptr);  // other vendor
    EXPECT_EQ(probed, 3);
    bind_drivers(drivers);  // bound ones are not probed again
    EXPECT_EQ(probed, 4);
}

// One of QEMU's device trees, its host-bridge node parsed.
struct QemuTree {
    explicit QemuTree(const char* name) {
        std::ifstream f(std::string(QEMU_FIXTURES) + "/" + name + ".dtb", std::ios::binary);
        blob.assign(std::istreambuf_iterator<char>(f), {});
        ok = tree.init(blob.data()) &&
             (node = tree.find_compatible("pci-host-ecam-generic")).valid() &&
             parse_host_bridge(tree, node, host);
    }
    // Enumerates one function at 00:<dev>.0 through the tree's interrupt-map; its irq.
    unsigned route(std::uint8_t dev) {
        reset_functions();
        FakeEcam ecam;
        ecam.add(0, dev, 0, virtio_blk());
        DeviceTreeIrqRouter router(tree, node);
        return enumerate(host, ecam, router) == 1 ? functions_begin()->irq : ~0u;
    }
    std::vector<std::uint8_t> blob;
    fdt::Tree tree;
    fdt::Node node;
    HostBridge host;
    bool ok = false;
};

TEST(PciHostNode, QemuRiscv) {
    QemuTree q("qemu-virt-riscv64-128M");
    ASSERT_TRUE(q.ok);
    const HostBridge& h = q.host;
    EXPECT_EQ(h.ecam_base, 0x30000000u);
    EXPECT_EQ(h.ecam_size, 0x10000000u);
    EXPECT_EQ(h.bus_first, 0);
    EXPECT_EQ(h.bus_last, 255);
    EXPECT_TRUE(h.io.present);
    EXPECT_EQ(h.io.cpu_base, 0x3000000u);
    EXPECT_EQ(h.io.bus_base, 0u);
    EXPECT_EQ(h.io.size, 0x10000u);
    EXPECT_EQ(h.mem.cpu_base, 0x40000000u);
    EXPECT_EQ(h.mem.bus_base, 0x40000000u);
    EXPECT_EQ(h.mem.size, 0x40000000u);
    EXPECT_EQ(h.mem64.cpu_base, 0x400000000u);
    EXPECT_EQ(h.mem64.size, 0x400000000u);
    log_host_bridge(h);
    EXPECT_EQ(q.route(2), 34u);  // through the real map
}

TEST(PciHostNode, QemuAarch64) {
    QemuTree q("qemu-virt-aarch64-gicv3-1G");
    ASSERT_TRUE(q.ok);
    const HostBridge& h = q.host;
    EXPECT_EQ(h.ecam_base, 0x4010000000u);
    EXPECT_EQ(h.io.cpu_base, 0x3eff0000u);
    EXPECT_EQ(h.mem.cpu_base, 0x10000000u);
    EXPECT_EQ(h.mem.size, 0x2eff0000u);
    EXPECT_EQ(h.mem64.cpu_base, 0x8000000000u);
    EXPECT_EQ(h.mem64.size, 0x8000000000u);
    EXPECT_EQ(q.route(1), 36u);  // SPI 4
}

TEST(PciHostNode, BrokenNodes) {
    std::ifstream file(std::string(PCI_FIXTURES) + "/bad-hosts.dtb", std::ios::binary);
    std::vector<std::uint8_t> blob{std::istreambuf_iterator<char>(file), {}};
    fdt::Tree t;
    ASSERT_TRUE(t.init(blob.data()));
    HostBridge h;
    EXPECT_FALSE(parse_host_bridge(t, t.find_path("/no-reg"), h));
    EXPECT_FALSE(parse_host_bridge(t, t.find_path("/bad-bus-range"), h));
    ASSERT_TRUE(parse_host_bridge(t, t.find_path("/small-ecam"), h));
    EXPECT_EQ(h.bus_first, 0x10);
    EXPECT_EQ(h.bus_last, 0x12);  // three buses of ECAM
    EXPECT_TRUE(h.mem.present);
    EXPECT_EQ(h.mem.size, 0x1000000u);
    EXPECT_FALSE(h.io.present);  // truncated entry
    ASSERT_TRUE(parse_host_bridge(t, t.find_path("/odd-windows"), h));
    EXPECT_FALSE(h.mem.present);  // crosses 4 GiB
    EXPECT_TRUE(h.io.present);
    EXPECT_EQ(h.io.cpu_base, 0x3000000u);  // the first one wins
    EXPECT_FALSE(h.mem64.present);
}

}  // namespace
}  // namespace pci::test
