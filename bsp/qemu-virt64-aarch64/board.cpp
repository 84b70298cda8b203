// Fixed facts of QEMU's aarch64 virt board: the devices to bind when the
// device tree is missing or lacks them (addresses from this board's Kconfig
// defaults), and the physical memory map the port's page tables follow.
#include <rtos/config.hpp>

#include "arch/port.hpp"
#include "platform/device.hpp"

namespace rtos {
namespace {

// GICv2 before GICv3: without a tree, QEMU's default (gic-version=2) wins
// unless only the GICv3 driver is built (CONFIG_DRIVER_GIC_V3).
const platform::FallbackDevice fallback[] = {
    {"arm,cortex-a15-gic",
     {{CONFIG_PLATFORM_GIC_DIST_BASE, 0x10000}, {CONFIG_PLATFORM_GIC_CPU_BASE, 0x10000}},
     -1},
    {"arm,gic-v3",
     {{CONFIG_PLATFORM_GIC_DIST_BASE, 0x10000}, {CONFIG_PLATFORM_GIC_REDIST_BASE, 0xf60000}},
     -1},
    {"arm,pl011", {{CONFIG_PLATFORM_UART_BASE, 0x1000}}, CONFIG_PLATFORM_UART_IRQ},
};

constexpr uint64_t kGiB = 1ull << 30;

// QEMU hw/arm/virt.c: flash, GIC, UART, virtio-mmio, PCIe ECAM and window
// below 1 GiB (the first 2 MiB stay unmapped so null pointers fault); RAM
// from 1 GiB up to 256 GiB; the high redistributors and PCIe ECAM from
// 256 GiB, the PCIe 64-bit MMIO window from 512 GiB to 1 TiB.
const arch::MemoryRegion memory[] = {
    {2ull << 20, kGiB - (2ull << 20), arch::MemoryRegion::device},
    {kGiB, 255 * kGiB, arch::MemoryRegion::normal},
    {256 * kGiB, 768 * kGiB, arch::MemoryRegion::device},
};

}  // namespace

std::span<const platform::FallbackDevice> platform::fallback_devices() { return fallback; }

// Handed to the port, which builds its page tables from it before anything else runs.
const arch::MemoryMap arch::board_memory_map{memory, sizeof(memory) / sizeof(memory[0])};

}  // namespace rtos
