// The board-device registry: which driver each class of device binds to, and
// what the driver is handed, on QEMU's own trees, on edge cases, and from
// the board's fallback table.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "platform/device.hpp"

namespace {

using rtos::platform::bind;
using rtos::platform::Device;
using rtos::platform::DeviceClass;
using rtos::platform::DeviceDriver;
using rtos::platform::FallbackDevice;

std::vector<uint8_t> load(const std::string& path) {
    std::ifstream f(path + ".dtb", std::ios::binary);
    return {std::istreambuf_iterator<char>(f), {}};
}

enum Fake { kPlic, kGicV2, kGicV3, kNs16550, kPl011, kTest, kFakes };

// What each fake driver saw; `refuse` probes are refused before it accepts.
struct Record {
    int calls = 0;
    int refuse = 0;
    Device dev;
} rec[kFakes];

template <Fake F>
bool probe(const Device& d) {
    ++rec[F].calls;
    rec[F].dev = d;
    return rec[F].refuse-- <= 0;
}

const char* const plic_compat[] = {"sifive,plic-1.0.0", "riscv,plic0", nullptr};
const char* const gic_v2_compat[] = {"arm,gic-400", "arm,cortex-a15-gic", nullptr};
const char* const gic_v3_compat[] = {"arm,gic-v3", nullptr};
const char* const ns16550_compat[] = {"ns16550a", nullptr};
const char* const pl011_compat[] = {"arm,pl011", nullptr};
const char* const test_compat[] = {"sifive,test1", "sifive,test0", nullptr};

const DeviceDriver drivers[] = {
    {"plic", DeviceClass::interrupt_controller, plic_compat, probe<kPlic>},
    {"gic_v2", DeviceClass::interrupt_controller, gic_v2_compat, probe<kGicV2>},
    {"gic_v3", DeviceClass::interrupt_controller, gic_v3_compat, probe<kGicV3>},
    {"ns16550", DeviceClass::console, ns16550_compat, probe<kNs16550>},
    {"pl011", DeviceClass::console, pl011_compat, probe<kPl011>},
    {"sifive_test", DeviceClass::power, test_compat, probe<kTest>},
};

// The aarch64 board's fallback table, as bsp/qemu-virt64-aarch64/board.cpp has it.
const FallbackDevice aarch64_fallback[] = {
    {"vendor,unknown", {{0x1000, 0x1000}}, 5},
    {"arm,cortex-a15-gic", {{0x08000000, 0x10000}, {0x08010000, 0x10000}}, -1},
    {"arm,gic-v3", {{0x08000000, 0x10000}, {0x080a0000, 0xf60000}}, -1},
    {"arm,pl011", {{0x09000000, 0x1000}}, 33},
};

class BoardDevices : public ::testing::Test {
protected:
    void SetUp() override {
        for (Record& r : rec) r = Record{};
    }
    bool load_tree(const std::string& path) {
        blob_ = load(path);
        return !blob_.empty() && tree_.init(blob_.data(), blob_.size());
    }
    std::vector<uint8_t> blob_;
    fdt::Tree tree_;
};

TEST_F(BoardDevices, RiscvVirtBindsEachClassFromTheTree) {
    ASSERT_TRUE(load_tree(std::string(QEMU_FIXTURES) + "/qemu-virt-riscv64-128M"));
    EXPECT_EQ(bind(tree_, DeviceClass::power, drivers, {}), 1u);
    EXPECT_STREQ(rec[kTest].dev.compatible, "sifive,test1");
    ASSERT_EQ(rec[kTest].dev.reg_count, 1u);
    EXPECT_EQ(rec[kTest].dev.reg[0].base, 0x100000u);

    EXPECT_EQ(bind(tree_, DeviceClass::interrupt_controller, drivers, {}), 1u);
    EXPECT_EQ(rec[kGicV2].calls + rec[kGicV3].calls, 0);
    const Device& plic = rec[kPlic].dev;
    EXPECT_STREQ(plic.compatible, "sifive,plic-1.0.0");
    EXPECT_STREQ(plic.name, "plic@c000000");
    EXPECT_EQ(plic.reg[0].base, 0x0c000000u);
    EXPECT_EQ(plic.prop_u32("riscv,ndev", 0), 96u);
    EXPECT_EQ(plic.prop_u32("no-such-property", 7), 7u);

    EXPECT_EQ(bind(tree_, DeviceClass::console, drivers, {}), 1u);
    const Device& uart = rec[kNs16550].dev;
    EXPECT_STREQ(uart.name, "serial@10000000");
    EXPECT_EQ(uart.reg[0].base, 0x10000000u);
    EXPECT_TRUE(uart.has_irq);
    EXPECT_EQ(uart.irq, 10u);
    EXPECT_EQ(uart.tree, &tree_);
}

TEST_F(BoardDevices, Aarch64TreesPickTheirGicVersion) {
    ASSERT_TRUE(load_tree(std::string(QEMU_FIXTURES) + "/qemu-virt-aarch64-gicv2-128M"));
    EXPECT_EQ(bind(tree_, DeviceClass::interrupt_controller, drivers, aarch64_fallback), 1u);
    EXPECT_EQ(rec[kGicV3].calls, 0);
    ASSERT_EQ(rec[kGicV2].calls, 1);
    EXPECT_STREQ(rec[kGicV2].dev.compatible, "arm,cortex-a15-gic");
    ASSERT_GE(rec[kGicV2].dev.reg_count, 2u);
    EXPECT_EQ(rec[kGicV2].dev.reg[0].base, 0x08000000u);
    EXPECT_EQ(rec[kGicV2].dev.reg[1].base, 0x08010000u);
    EXPECT_EQ(bind(tree_, DeviceClass::console, drivers, aarch64_fallback), 1u);
    EXPECT_EQ(rec[kPl011].dev.irq, 33u);  // SPI 1
    EXPECT_EQ(bind(tree_, DeviceClass::power, drivers, aarch64_fallback), 0u);

    SetUp();
    ASSERT_TRUE(load_tree(std::string(QEMU_FIXTURES) + "/qemu-virt-aarch64-gicv3-1G"));
    EXPECT_EQ(bind(tree_, DeviceClass::interrupt_controller, drivers, aarch64_fallback), 1u);
    EXPECT_EQ(rec[kGicV2].calls, 0);
    ASSERT_EQ(rec[kGicV3].calls, 1);
    EXPECT_STREQ(rec[kGicV3].dev.name, "intc@8000000");
    EXPECT_EQ(rec[kGicV3].dev.reg[0].base, 0x08000000u);
    EXPECT_EQ(rec[kGicV3].dev.reg[1].base, 0x080a0000u);
}

TEST_F(BoardDevices, WithoutATreeTheFallbackTableBindsInOrder) {
    fdt::Tree none;
    EXPECT_EQ(bind(none, DeviceClass::interrupt_controller, drivers, aarch64_fallback), 1u);
    EXPECT_EQ(rec[kGicV3].calls, 0);  // GICv2 comes first in the table
    const Device& gic = rec[kGicV2].dev;
    EXPECT_STREQ(gic.name, "fallback");
    EXPECT_EQ(gic.tree, nullptr);
    EXPECT_EQ(gic.prop_u32("anything", 3), 3u);
    ASSERT_EQ(gic.reg_count, 2u);
    EXPECT_EQ(gic.reg[1].base, 0x08010000u);
    EXPECT_FALSE(gic.has_irq);

    EXPECT_EQ(bind(none, DeviceClass::console, drivers, aarch64_fallback), 1u);
    EXPECT_EQ(rec[kPl011].dev.reg[0].base, 0x09000000u);
    EXPECT_TRUE(rec[kPl011].dev.has_irq);
    EXPECT_EQ(rec[kPl011].dev.irq, 33u);

    // A GICv3-only build (CONFIG_DRIVER_GIC_V3) has no GICv2 driver.
    SetUp();
    const DeviceDriver v3_only[] = {drivers[kGicV3]};
    EXPECT_EQ(bind(none, DeviceClass::interrupt_controller, v3_only, aarch64_fallback), 1u);
    EXPECT_EQ(rec[kGicV3].dev.reg[1].base, 0x080a0000u);
}

TEST_F(BoardDevices, RefusedDeviceFallsBackAndNothingBindsWhenAllRefuse) {
    ASSERT_TRUE(load_tree(std::string(QEMU_FIXTURES) + "/qemu-virt-riscv64-128M"));
    const FallbackDevice riscv_fallback[] = {{"riscv,plic0", {{0x0c000000, 0x600000}}, -1}};
    rec[kPlic].refuse = 1;  // the tree's PLIC
    EXPECT_EQ(bind(tree_, DeviceClass::interrupt_controller, drivers, riscv_fallback), 1u);
    EXPECT_EQ(rec[kPlic].calls, 2);
    EXPECT_STREQ(rec[kPlic].dev.name, "fallback");

    SetUp();
    rec[kPlic].refuse = 2;
    EXPECT_EQ(bind(tree_, DeviceClass::interrupt_controller, drivers, riscv_fallback), 0u);
    EXPECT_EQ(rec[kPlic].calls, 2);
}

TEST_F(BoardDevices, RefusedConsoleIsProbedOnce) {
    ASSERT_TRUE(load_tree(std::string(QEMU_FIXTURES) + "/qemu-virt-riscv64-128M"));
    rec[kNs16550].refuse = 1;
    EXPECT_EQ(bind(tree_, DeviceClass::console, drivers, {}), 0u);
    EXPECT_EQ(rec[kNs16550].calls, 1);
}

TEST_F(BoardDevices, EdgeCases) {
    ASSERT_TRUE(load_tree(std::string(BOARD_FIXTURES) + "/edge-cases"));
    // The disabled controller is skipped; the second compatible string matches.
    EXPECT_EQ(bind(tree_, DeviceClass::interrupt_controller, drivers, {}), 1u);
    ASSERT_EQ(rec[kPlic].calls, 1);
    EXPECT_STREQ(rec[kPlic].dev.compatible, "riscv,plic0");
    EXPECT_STREQ(rec[kPlic].dev.name, "intc@2000000");
    EXPECT_EQ(rec[kPlic].dev.prop_u32("riscv,ndev", 95), 31u);

    // stdout-path (options after ':' dropped) names a UART no driver takes:
    // the first UART a driver takes is the console.
    EXPECT_STREQ(tree_.name(rtos::platform::stdout_node(tree_)), "serial@30000000");
    EXPECT_EQ(bind(tree_, DeviceClass::console, drivers, {}), 1u);
    const Device& uart = rec[kNs16550].dev;
    EXPECT_STREQ(uart.name, "serial@10000000");
    EXPECT_EQ(uart.prop_u32("reg-shift", 0), 2u);
    EXPECT_EQ(uart.irq, 7u);

    // A node without reg reaches the driver with reg_count 0 (it decides).
    EXPECT_EQ(bind(tree_, DeviceClass::power, drivers, {}), 1u);
    EXPECT_EQ(rec[kTest].dev.reg_count, 0u);
}

TEST_F(BoardDevices, ClassesDoNotMix) {
    EXPECT_EQ(rtos::platform::find_driver(drivers, DeviceClass::console, "riscv,plic0"), nullptr);
    EXPECT_EQ(rtos::platform::find_driver(drivers, DeviceClass::interrupt_controller, "arm,gic-v3"),
              &drivers[kGicV3]);
    EXPECT_EQ(rtos::platform::find_driver(drivers, DeviceClass::interrupt_controller, "arm,gic"),
              nullptr);
}

}  // namespace
