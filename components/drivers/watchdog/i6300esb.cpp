// Intel 6300ESB watchdog timer (QEMU's -device i6300esb, PCI 8086:25ab), as
// Linux's i6300esb driver and QEMU's hw/watchdog/wdt_i6300esb.c program it:
// two stages of a 1 kHz down-counter (PCI clock / 2^15), the second stage's
// expiry is the watchdog action (QEMU: -action watchdog=...). The kernel
// feeds it while the system is healthy (rtos/watchdog.hpp).
#include <rtos/config.hpp>
#include <rtos/printk.hpp>
#include <rtos/watchdog.hpp>

#include "drivers/mmio.hpp"
#include "drivers/pci/pci.hpp"

namespace rtos::drivers {
namespace {

// Configuration-space registers.
constexpr std::uint16_t kConfigReg = 0x60;  // 16-bit
constexpr std::uint16_t kLockReg = 0x68;    // 8-bit
// kConfigReg: interrupt type bits 1:0 = 11 (no stage-1 interrupt), bit 2 = 0
// (1 kHz), bit 5 = 0 (the second stage's expiry is the action).
constexpr std::uint16_t kConfigNoIrq1Khz = 0x0003;
constexpr std::uint8_t kLockEnable = 1u << 1;
// Memory BAR 0 registers.
constexpr uintptr_t kTimer1 = 0x00, kTimer2 = 0x04, kReload = 0x0c;
constexpr std::uint16_t kReloadRestart = 1u << 8, kReloadTimeoutFlag = 1u << 9;
constexpr std::uint16_t kUnlock1 = 0x80, kUnlock2 = 0x86;
// One count of the 1 kHz prescaler: 2^15 cycles of QEMU's 33 MHz PCI clock (30 ns).
constexpr std::uint64_t kCountNs = 32768ull * 30;
constexpr std::uint32_t kMaxCount = 0xfffff;  // 20-bit timers

// Set once at probe (driver start-up, one thread); afterwards only the
// kernel's watchdog thread calls feed(): no lock needed.
uintptr_t base = 0;
watchdog::Hardware hw{"i6300esb", nullptr, nullptr, CONFIG_WATCHDOG_I6300ESB_TIMEOUT_MS};

// Every write to a timer or to the reload register needs the unlock sequence first.
void unlock() {
    mmio::write16(base + kReload, kUnlock1);
    mmio::write16(base + kReload, kUnlock2);
}

void feed(void*) {
    unlock();
    mmio::write16(base + kReload, kReloadRestart);
}

bool probe(pci::Function& f) {
    char bdf[8];
    pci::format_address(f.address, bdf, sizeof bdf);
    const pci::Bar& bar = f.bar[0];
    if ((bar.kind != pci::Bar::Kind::memory32 && bar.kind != pci::Bar::Kind::memory64) ||
        bar.size < 0x10 || base) {
        printk("watchdog: i6300esb %s: %s, ignored\n", bdf,
               base ? "a second device" : "no memory BAR 0");
        return false;
    }
    base = bar.cpu_address;
    pci::enable(f, pci::command::memory);
    f.config->write16(kConfigReg, kConfigNoIrq1Khz);
    f.config->write8(kLockReg, 0);  // stopped while it is set up
    unlock();
    const bool fired_before = mmio::read16(base + kReload) & kReloadTimeoutFlag;
    unlock();
    mmio::write16(base + kReload, kReloadTimeoutFlag | kReloadRestart);
    // Half the period per stage.
    std::uint64_t count = std::uint64_t{hw.timeout_ms} * 1000000 / 2 / kCountNs;
    if (count == 0) count = 1;
    if (count > kMaxCount) count = kMaxCount;
    unlock();
    mmio::write32(base + kTimer1, static_cast<std::uint32_t>(count));
    unlock();
    mmio::write32(base + kTimer2, static_cast<std::uint32_t>(count));
    feed(nullptr);
    f.config->write8(kLockReg, kLockEnable);
    hw.feed = feed;
    if (watchdog::set_hardware(&hw) != Status::ok) {
        f.config->write8(kLockReg, 0);
        printk("watchdog: i6300esb %s: another watchdog is in use, left stopped\n", bdf);
        return false;
    }
    printk("watchdog: i6300esb %s period %u ms, fed every %u ms while healthy%s\n", bdf,
           hw.timeout_ms, hw.timeout_ms / 4, fired_before ? " (it fired before this boot)" : "");
    return true;
}

}  // namespace

PCI_DRIVER(i6300esb, 0x8086, 0x25ab, 0x25ab, probe);

}  // namespace rtos::drivers
