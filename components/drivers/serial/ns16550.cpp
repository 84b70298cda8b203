// NS16550A UART (QEMU riscv64 virt). TX polled; RX interrupt-driven, with
// flow control: while the console's input ring is full the receive
// interrupt is masked and bytes wait in the FIFO.
#include <rtos/console.hpp>
#include <rtos/irq.hpp>

#include "drivers/mmio.hpp"
#include "ns16550_regs.hpp"
#include "uart.hpp"

namespace rtos::drivers {
namespace {

using namespace ns16550;

struct Ns16550 {
    uintptr_t base = 0;
    unsigned shift = 0;

    uint8_t read(Reg r) const { return mmio::read8(base + (r << shift)); }
    void write(Reg r, uint8_t v) const { mmio::write8(base + (r << shift), v); }
} uart;

void put(void*, char c) { put_polled(uart.base, uart.shift, c); }

int get(void*) { return (uart.read(LSR) & kLsrDataReady) ? uart.read(RBR_THR) : -1; }

void rx_hold(void*, bool hold) { uart.write(IER, hold ? 0 : kIerRxAvailable); }

const console::Driver console_driver{put, get, nullptr, rx_hold};

void rx_isr(void*) { console::rx_poll_from_isr(); }

void init(const serial::UartConfig& cfg) {
    uart.base = cfg.base;
    uart.shift = cfg.reg_shift;
    uart.write(IER, 0);
    if (cfg.clock_hz && cfg.baud) {
        uint32_t divisor = cfg.clock_hz / (16 * cfg.baud);
        if (divisor == 0) divisor = 1;
        uart.write(LCR, kLcrDlab);
        uart.write(DLL, static_cast<uint8_t>(divisor));
        uart.write(DLM, static_cast<uint8_t>(divisor >> 8));
    }
    uart.write(LCR, kLcr8N1);
    uart.write(IIR_FCR, kFcrEnable);
    uart.write(MCR, kMcrOut2);
    console::set_driver(&console_driver);
}

bool enable_rx(unsigned irq) {
    if (!irq::attach(irq, rx_isr, nullptr)) return false;
    uart.write(IER, kIerRxAvailable);
    return true;
}

const serial::ConsoleUart console_uart{"ns16550a", init, enable_rx};

bool probe(const platform::Device& dev) { return serial::bind_console(console_uart, dev); }

}  // namespace

BOARD_DRIVER(ns16550, platform::DeviceClass::console, probe, "ns16550a", "ns16550");

}  // namespace rtos::drivers
