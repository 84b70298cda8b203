// The device-tree reader against QEMU's own trees, plus corrupt input.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fdt/fdt.hpp"

namespace {

std::vector<uint8_t> load(const std::string& name) {
    std::ifstream f(std::string(FDT_FIXTURES) + "/" + name + ".dtb", std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

TEST(Fdt, RiscvVirt) {
    auto blob = load("qemu-virt-riscv64-128M");
    ASSERT_FALSE(blob.empty());
    fdt::Tree t;
    ASSERT_TRUE(t.init(blob.data()));
    uint64_t a, s;
    fdt::Node mem = t.find_path("/memory");
    ASSERT_TRUE(mem.valid());
    ASSERT_TRUE(t.reg(mem, 0, a, s));
    EXPECT_EQ(a, 0x80000000u);
    EXPECT_EQ(s, 128u << 20);
    uint32_t tb = 0;
    EXPECT_TRUE(t.prop_u32(t.find_path("/cpus"), "timebase-frequency", tb));
    EXPECT_EQ(tb, 10000000u);
    fdt::Node uart = t.find_compatible("ns16550a");
    ASSERT_TRUE(uart.valid());
    ASSERT_TRUE(t.reg(uart, 0, a, s));
    EXPECT_EQ(a, 0x10000000u);
    uint32_t irq = 0;
    ASSERT_TRUE(t.interrupt(uart, 0, irq));
    EXPECT_EQ(irq, 10u);
    fdt::Node plic = t.find_compatible("riscv,plic0");
    ASSERT_TRUE(plic.valid());
    ASSERT_TRUE(t.reg(plic, 0, a, s));
    EXPECT_EQ(a, 0x0c000000u);
    // Eight virtio-mmio slots, IRQ 1..8.
    int count = 0;
    for (fdt::Node n = t.find_compatible("virtio,mmio"); n.valid();
         n = t.find_compatible("virtio,mmio", n)) {
        ASSERT_TRUE(t.reg(n, 0, a, s));
        ASSERT_TRUE(t.interrupt(n, 0, irq));
        EXPECT_EQ(a, 0x10001000u + (irq - 1) * 0x1000u);
        ++count;
    }
    EXPECT_EQ(count, 8);
    EXPECT_STREQ(t.prop_string(t.find_path("/chosen"), "stdout-path"), "/soc/serial@10000000");
    EXPECT_TRUE(t.find_path("/soc/serial@10000000").valid());
    EXPECT_TRUE(t.find_path("/soc/serial").valid());
    EXPECT_FALSE(t.find_path("/soc/serial@10000001").valid());
    EXPECT_FALSE(t.find_path("/nonexistent/node").valid());
}

TEST(Fdt, Aarch64GicV2AndV3) {
    for (const char* name : {"qemu-virt-aarch64-gicv2-128M", "qemu-virt-aarch64-gicv3-1G"}) {
        auto blob = load(name);
        fdt::Tree t;
        ASSERT_TRUE(t.init(blob.data())) << name;
        bool v3 = std::string(name).find("gicv3") != std::string::npos;
        uint64_t a, s;
        ASSERT_TRUE(t.reg(t.find_path("/memory"), 0, a, s));
        EXPECT_EQ(a, 0x40000000u);
        EXPECT_EQ(s, v3 ? (1ull << 30) : (128ull << 20));
        fdt::Node gic = t.find_compatible(v3 ? "arm,gic-v3" : "arm,cortex-a15-gic");
        ASSERT_TRUE(gic.valid()) << name;
        ASSERT_TRUE(t.reg(gic, 0, a, s));
        EXPECT_EQ(a, 0x08000000u);
        ASSERT_TRUE(t.reg(gic, 1, a, s));
        EXPECT_EQ(a, v3 ? 0x080a0000u : 0x08010000u);
        fdt::Node uart = t.find_compatible("arm,pl011");
        uint32_t irq = 0;
        ASSERT_TRUE(t.interrupt(uart, 0, irq));
        EXPECT_EQ(irq, 33u);  // SPI 1
        int count = 0;
        for (fdt::Node n = t.find_compatible("virtio,mmio"); n.valid();
             n = t.find_compatible("virtio,mmio", n)) {
            ASSERT_TRUE(t.reg(n, 0, a, s));
            ASSERT_TRUE(t.interrupt(n, 0, irq));
            EXPECT_EQ(a, 0x0a000000u + (irq - 48) * 0x200u);
            ++count;
        }
        EXPECT_EQ(count, 32);
        EXPECT_STREQ(t.prop_string(t.find_path("/psci"), "method"), "hvc");
    }
}

// The GICs' MSI frames are children of the GIC node: found there only, not
// as grandchildren of the root nor after themselves.
TEST(Fdt, ChildCompatible) {
    for (const char* name : {"qemu-virt-aarch64-gicv2-128M", "qemu-virt-aarch64-gicv3-1G"}) {
        auto blob = load(name);
        fdt::Tree t;
        ASSERT_TRUE(t.init(blob.data())) << name;
        bool v3 = std::string(name).find("gicv3") != std::string::npos;
        const char* frame_compat = v3 ? "arm,gic-v3-its" : "arm,gic-v2m-frame";
        fdt::Node gic = t.find_compatible(v3 ? "arm,gic-v3" : "arm,cortex-a15-gic");
        fdt::Node frame = t.find_child_compatible(gic, frame_compat);
        ASSERT_TRUE(frame.valid()) << name;
        uint64_t a, s;
        ASSERT_TRUE(t.reg(frame, 0, a, s));
        EXPECT_EQ(a, v3 ? 0x08080000u : 0x08020000u);
        EXPECT_EQ(s, v3 ? 0x20000u : 0x1000u);
        EXPECT_FALSE(t.find_child_compatible(gic, frame_compat, frame).valid());
        EXPECT_FALSE(t.find_child_compatible(t.root(), frame_compat).valid());
        EXPECT_FALSE(
            t.find_child_compatible(gic, v3 ? "arm,gic-v2m-frame" : "arm,gic-v3-its").valid());
        EXPECT_FALSE(t.find_child_compatible(fdt::Node{}, frame_compat).valid());
        // A leaf has no children; the walk stops at the next sibling.
        EXPECT_FALSE(t.find_child_compatible(t.find_compatible("arm,pl011"), "arm,pl011").valid());
        fdt::Node timer = t.find_child_compatible(t.root(), "arm,armv8-timer");
        EXPECT_TRUE(timer.valid());
    }
}

TEST(Fdt, CorruptInputIsRejectedOrYieldsNothing) {
    auto good = load("qemu-virt-riscv64-128M");
    fdt::Tree t;
    std::vector<uint8_t> bad = good;
    bad[0] ^= 0xff;
    EXPECT_FALSE(t.init(bad.data()));
    bad = good;
    bad[4] = 0x7f;  // totalsize far beyond the limit
    EXPECT_FALSE(t.init(bad.data(), bad.size()));
    // Scribble over the structure block: lookups must stay in bounds.
    for (std::size_t pos = 64; pos < good.size(); pos += 97) {
        bad = good;
        bad[pos] ^= 0x5a;
        if (!t.init(bad.data(), bad.size())) continue;
        uint64_t a, s;
        uint32_t irq;
        fdt::Node n = t.find_compatible("virtio,mmio");
        (void)t.reg(n, 0, a, s);
        (void)t.interrupt(n, 0, irq);
        (void)t.find_path("/soc/serial@10000000");
        (void)t.prop_string(t.find_path("/chosen"), "stdout-path");
    }
    SUCCEED();
}

// Found by tests/fuzz (fdt): a blob shorter than the 40-byte header was
// read past its end before its size was looked at.
TEST(Fdt, BlobShorterThanTheHeaderIsRejectedUnread) {
    const auto* blob = new uint8_t[4]{0xd0, 0x0d, 0xfe, 0xed};  // ASan bounds the read
    fdt::Tree t;
    EXPECT_FALSE(t.init(blob, 4));
    EXPECT_FALSE(t.init(blob, 0));
    delete[] blob;
}

}  // namespace

// PCI INTx through QEMU's interrupt-map: unit address phys.hi carries the
// device number (bits 15:11), the specifier the pin (1 = INTA); the map
// rotates the pin by the device number onto four controller lines.
uint32_t route(const fdt::Tree& t, fdt::Node host, unsigned dev, unsigned fn, unsigned pin) {
    const uint32_t unit[3] = {dev << 11 | fn << 8, 0, 0};
    const uint32_t spec[1] = {pin};
    uint32_t irq = 0;
    return t.map_interrupt(host, unit, 3, spec, 1, irq) ? irq : ~0u;
}

TEST(Fdt, InterruptMapRiscv) {
    auto blob = load("qemu-virt-riscv64-128M");
    fdt::Tree t;
    ASSERT_TRUE(t.init(blob.data()));
    fdt::Node host = t.find_compatible("pci-host-ecam-generic");
    ASSERT_TRUE(host.valid());
    EXPECT_EQ(route(t, host, 0, 0, 1), 32u);  // PLIC lines 32..35
    EXPECT_EQ(route(t, host, 0, 0, 4), 35u);
    EXPECT_EQ(route(t, host, 1, 0, 1), 33u);
    EXPECT_EQ(route(t, host, 2, 0, 1), 34u);
    EXPECT_EQ(route(t, host, 3, 0, 2), 32u);
    EXPECT_EQ(route(t, host, 4, 0, 1), 32u);  // the mask keeps two device bits
    EXPECT_EQ(route(t, host, 6, 3, 1), 34u);  // the function is masked off
    EXPECT_EQ(route(t, host, 0, 0, 0), ~0u);  // no pin: no entry
    EXPECT_EQ(route(t, host, 0, 0, 5), ~0u);
    uint32_t irq, unit[2] = {}, spec[1] = {1};
    EXPECT_FALSE(t.map_interrupt(host, unit, 2, spec, 1, irq));  // wrong cell count
    EXPECT_FALSE(t.map_interrupt(t.find_compatible("ns16550a"), unit, 2, spec, 1, irq));  // no map
}

TEST(Fdt, InterruptMapAarch64Gic) {
    for (const char* name : {"qemu-virt-aarch64-gicv2-128M", "qemu-virt-aarch64-gicv3-1G"}) {
        SCOPED_TRACE(name);
        auto blob = load(name);
        fdt::Tree t;
        ASSERT_TRUE(t.init(blob.data()));
        fdt::Node host = t.find_compatible("pci-host-ecam-generic");
        ASSERT_TRUE(host.valid());
        EXPECT_EQ(route(t, host, 0, 0, 1), 35u);  // SPI 3..6 -> INTID 35..38
        EXPECT_EQ(route(t, host, 1, 0, 1), 36u);
        EXPECT_EQ(route(t, host, 2, 0, 4), 36u);
        EXPECT_EQ(route(t, host, 3, 1, 1), 38u);
    }
}
