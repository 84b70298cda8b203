// The shape every console UART driver has: start polled (so the boot banner
// can print before anything else can fail), then switch on the receive
// interrupt once the interrupt controller is up.
#pragma once

#include <cstdint>

namespace rtos::drivers {

struct UartConfig {
    uintptr_t base;
    uint32_t clock_hz;  ///< input clock; 0 = leave the divisor as firmware set it
    uint32_t baud;
    unsigned reg_shift;  ///< register stride is 1 << reg_shift bytes
};

/// A driver that can be the console: init() makes it the console output;
/// enable_rx(irq) attaches its receive interrupt to rtos::console::rx_from_isr.
struct ConsoleUart {
    const char* name;
    void (*init)(const UartConfig& cfg);
    bool (*enable_rx)(unsigned irq);
};

extern const ConsoleUart ns16550_uart;
extern const ConsoleUart pl011_uart;

}  // namespace rtos::drivers
