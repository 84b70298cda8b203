// The serial class interface of console UART drivers (rtos::serial): start
// polled (so the boot banner can print before anything else can fail), then
// switch on the receive interrupt once the interrupt controller is up. A driver registers itself
// with BOARD_DRIVER(..., DeviceClass::console, ...) and a probe that calls
// bind_console() with its ConsoleUart.
#pragma once

#include <cstdint>

#include "platform/device.hpp"

namespace rtos::serial {

struct UartConfig {
    uintptr_t base;
    uint32_t clock_hz;  ///< input clock; 0 = leave the divisor as firmware set it
    uint32_t baud;
    unsigned reg_shift;  ///< register stride is 1 << reg_shift bytes
};

/// A driver that can be the console: init() makes it the console output;
/// enable_rx(irq) attaches its receive interrupt to rtos::console::rx_poll_from_isr.
struct ConsoleUart {
    const char* name;
    void (*init)(const UartConfig& cfg);
    bool (*enable_rx)(unsigned irq);
};

/// Makes `dev` the console: init() unless it already is (the early console
/// at the same address keeps running, so no output is cut), then its receive
/// interrupt when `dev` has one. False (logged) if `dev` is unusable.
bool bind_console(const ConsoleUart& uart, const platform::Device& dev);

}  // namespace rtos::serial
