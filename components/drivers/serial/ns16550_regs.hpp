// NS16550A registers and the polled transmit, shared by the driver
// (ns16550.cpp) and the flash loader (bsp/qemu-virt/flash/loader.cpp), which
// prints before any driver exists.
#pragma once

#include <cstdint>

#include "drivers/mmio.hpp"

namespace rtos::drivers::ns16550 {

// Register indices (multiplied by the register stride).
enum Reg : unsigned {
    RBR_THR = 0,
    IER = 1,
    IIR_FCR = 2,
    LCR = 3,
    MCR = 4,
    LSR = 5,
    DLL = 0,
    DLM = 1
};
constexpr uint8_t kLcrDlab = 0x80, kLcr8N1 = 0x03;
constexpr uint8_t kLsrDataReady = 0x01, kLsrThrEmpty = 0x20;
constexpr uint8_t kIerRxAvailable = 0x01;
constexpr uint8_t kFcrEnable = 0x05;  // FIFO on, TX cleared; keep bytes already received
constexpr uint8_t kMcrOut2 = 0x08;    // gates the interrupt line on PC-style wiring

/// Waits for room in the transmitter, then sends `c`.
inline void put_polled(uintptr_t base, unsigned shift, char c) {
    while (!(mmio::read8(base + (LSR << shift)) & kLsrThrEmpty)) {
    }
    mmio::write8(base + (RBR_THR << shift), static_cast<uint8_t>(c));
}

}  // namespace rtos::drivers::ns16550
