// Fixed facts of QEMU's riscv64 virt board that the device tree normally
// supplies: the devices to bind when the tree is missing or lacks them
// (addresses from this board's Kconfig defaults).
#include <rtos/config.hpp>

#include "platform/device.hpp"

namespace rtos::platform {
namespace {

const FallbackDevice fallback[] = {
    {"riscv,plic0", {{CONFIG_PLATFORM_PLIC_BASE, 0x600000}}, -1},
    {"ns16550a", {{CONFIG_PLATFORM_UART_BASE, 0x100}}, CONFIG_PLATFORM_UART_IRQ},
};

}  // namespace

std::span<const FallbackDevice> fallback_devices() { return fallback; }

}  // namespace rtos::platform
