#include "uart.hpp"

#include <rtos/config.hpp>
#include <rtos/printk.hpp>

namespace rtos::serial {
namespace {

// Register strides up to 16 bytes (reg-shift 4) are plausible; more is a
// corrupt tree.
constexpr uint32_t kMaxRegShift = 4;

const ConsoleUart* current = nullptr;
uintptr_t current_base = 0;

}  // namespace

bool bind_console(const ConsoleUart& uart, const platform::Device& dev) {
    uint32_t shift = dev.prop_u32("reg-shift", 0);
    if (dev.reg_count == 0 || dev.reg[0].base == 0 || shift > kMaxRegShift) {
        printk("%s: %s: no usable registers (reg-shift %u), skipped\n", uart.name, dev.name, shift);
        return false;
    }
    auto base = static_cast<uintptr_t>(dev.reg[0].base);
    if (current != &uart || current_base != base) {
        uart.init({base, 0, CONFIG_PLATFORM_UART_BAUD, shift});
        current = &uart;
        current_base = base;
    }
    if (dev.has_irq && !uart.enable_rx(dev.irq))
        printk("%s: console input interrupt %u could not be attached\n", uart.name, dev.irq);
    return true;
}

}  // namespace rtos::serial
