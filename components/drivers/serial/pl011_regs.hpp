// ARM PrimeCell UART PL011 registers (ARM DDI 0183) and the polled
// transmit, shared by the driver (pl011.cpp) and the flash loader
// (bsp/qemu-virt/flash/loader.cpp), which prints before any driver exists.
#pragma once

#include <cstdint>

#include "drivers/mmio.hpp"

namespace rtos::drivers::pl011 {

// Register offsets (DDI 0183 3.2).
constexpr uintptr_t UARTDR = 0x00;
constexpr uintptr_t UARTFR = 0x18;
constexpr uintptr_t UARTIBRD = 0x24;
constexpr uintptr_t UARTFBRD = 0x28;
constexpr uintptr_t UARTLCR_H = 0x2c;
constexpr uintptr_t UARTCR = 0x30;
constexpr uintptr_t UARTIMSC = 0x38;
constexpr uintptr_t UARTICR = 0x44;

constexpr uint32_t kFrBusy = 1u << 3, kFrRxfe = 1u << 4, kFrTxff = 1u << 5;
constexpr uint32_t kLcrFen = 1u << 4, kLcrWlen8 = 3u << 5;
constexpr uint32_t kCrUarten = 1u << 0, kCrTxe = 1u << 8, kCrRxe = 1u << 9;
constexpr uint32_t kIntRx = 1u << 4, kIntRt = 1u << 6;  // receive, receive timeout
constexpr uint32_t kIntAll = 0x7ff;

/// Waits for room in the transmit FIFO, then sends `c`.
inline void put_polled(uintptr_t base, char c) {
    while (mmio::read32(base + UARTFR) & kFrTxff) {
    }
    mmio::write32(base + UARTDR, static_cast<uint8_t>(c));
}

}  // namespace rtos::drivers::pl011
