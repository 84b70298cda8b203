// ARM PrimeCell UART PL011 (ARM DDI 0183, QEMU aarch64 virt). TX polled;
// RX interrupt-driven, with flow control: while the console's input ring is
// full the receive interrupts are masked and bytes wait in the FIFO.
#include <rtos/console.hpp>
#include <rtos/irq.hpp>

#include "drivers/mmio.hpp"
#include "pl011_regs.hpp"
#include "uart.hpp"

namespace rtos::drivers {
namespace {

using namespace pl011;

uintptr_t base = 0;

uint32_t read(uintptr_t reg) { return mmio::read32(base + reg); }
void write(uintptr_t reg, uint32_t v) { mmio::write32(base + reg, v); }

void put(void*, char c) { put_polled(base, c); }

int get(void*) { return (read(UARTFR) & kFrRxfe) ? -1 : static_cast<int>(read(UARTDR) & 0xff); }

void rx_hold(void*, bool hold) { write(UARTIMSC, hold ? 0 : kIntRx | kIntRt); }

const console::Driver console_driver{put, get, nullptr, rx_hold};

void rx_isr(void*) {
    // Acknowledge first, then drain: a byte arriving after the last read
    // raises the interrupt again instead of waiting unseen in the FIFO.
    // A held FIFO is drained by the console itself when it has room again
    // (the acknowledged interrupt would not come back by itself).
    write(UARTICR, kIntRx | kIntRt);
    console::rx_poll_from_isr();
}

void init(const serial::UartConfig& cfg) {
    if (base) {  // moving from the early console: let it drain first
        while (read(UARTFR) & kFrBusy) {
        }
    }
    base = cfg.base;
    while (read(UARTFR) & kFrBusy) {
    }
    write(UARTCR, 0);
    if (cfg.clock_hz && cfg.baud) {
        // Divisor in 1/64ths: IBRD.FBRD = clock / (16 * baud), rounded (DDI 0183 3.3.6).
        uint64_t div64 = (uint64_t{cfg.clock_hz} * 4 + cfg.baud / 2) / cfg.baud;
        write(UARTIBRD, static_cast<uint32_t>(div64 >> 6));
        write(UARTFBRD, static_cast<uint32_t>(div64 & 0x3f));
    }
    write(UARTLCR_H, kLcrWlen8 | kLcrFen);  // 8N1, FIFOs on; also latches the divisor
    write(UARTIMSC, 0);
    write(UARTICR, kIntAll);
    write(UARTCR, kCrUarten | kCrTxe | kCrRxe);
    console::set_driver(&console_driver);
}

bool enable_rx(unsigned irq) {
    if (!irq::attach(irq, rx_isr, nullptr)) return false;
    write(UARTIMSC, kIntRx | kIntRt);
    return true;
}

const serial::ConsoleUart console_uart{"pl011", init, enable_rx};

bool probe(const platform::Device& dev) { return serial::bind_console(console_uart, dev); }

}  // namespace

BOARD_DRIVER(pl011, platform::DeviceClass::console, probe, "arm,pl011");

}  // namespace rtos::drivers
