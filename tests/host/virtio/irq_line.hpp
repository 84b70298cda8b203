// The interrupt line of one driver under test on the simulated kernel
// (tests/host/kernel_ipc/sim.hpp), shared by the driver tests:
//   * rtos::irq::attach() succeeds or not (the driver then polls); when it
//     does, the handler is run as the sim's software interrupt, in interrupt
//     context when the kernel lets it (at once, or when IrqLock is released),
//     for as long as the fake device's InterruptStatus is non-zero (bounded);
//   * IrqLine wraps the fake's registers and raises the line after every
//     register write, as a real device's interrupt would follow a notify;
//     an optional hook lets the device model work first (deliver what it
//     can), as QEMU does within the vCPU's MMIO exit.
#pragma once

#include <functional>
#include <utility>

#include "drivers/virtio/transport/register_window.hpp"
#include "fake_mmio_device.hpp"

namespace host_irq {

/// Connects the line to `device` (nullptr: none); `available` says whether
/// rtos::irq::attach() succeeds. Call before the driver probes.
void install(fake::FakeMmioDevice* device, bool available);
/// Delivers the interrupt if a handler is attached and the device's line is up.
void raise();

/// Forwards to the fake; after every register write runs `after_write`
/// (if any: the device model's own work) and raises the line.
class IrqLine final : public virtio::RegisterWindow {
public:
    explicit IrqLine(fake::FakeMmioDevice& d, std::function<void()> after_write = {})
        : d_(d), after_write_(std::move(after_write)) {}
    std::uint8_t read8(std::uint32_t o) override { return d_.read8(o); }
    std::uint16_t read16(std::uint32_t o) override { return d_.read16(o); }
    std::uint32_t read32(std::uint32_t o) override { return d_.read32(o); }
    void write8(std::uint32_t o, std::uint8_t v) override {
        d_.write8(o, v);
        wrote();
    }
    void write16(std::uint32_t o, std::uint16_t v) override {
        d_.write16(o, v);
        wrote();
    }
    void write32(std::uint32_t o, std::uint32_t v) override {
        d_.write32(o, v);
        wrote();
    }
    std::uint64_t base() const override { return d_.base(); }

private:
    void wrote() {
        if (after_write_) after_write_();
        raise();
    }
    fake::FakeMmioDevice& d_;
    std::function<void()> after_write_;
};

}  // namespace host_irq
