// The interrupt line of one driver under test on the simulated kernel
// (tests/host/kernel_ipc/sim.hpp), shared by the driver tests:
//   * rtos::irq::attach() succeeds or not (the driver then polls); when it
//     does, the handler is run as the sim's software interrupt, in interrupt
//     context when the kernel lets it (at once, or when IrqLock is released),
//     for as long as the fake device's InterruptStatus is non-zero (bounded);
//   * IrqLine wraps the fake's registers and raises the line after every
//     register write, as a real device's interrupt would follow a notify.
#pragma once

#include "drivers/virtio/register_window.hpp"
#include "fake_mmio_device.hpp"

namespace host_irq {

/// Connects the line to `device` (nullptr: none); `available` says whether
/// rtos::irq::attach() succeeds. Call before the driver probes.
void install(fake::FakeMmioDevice* device, bool available);
/// Delivers the interrupt if a handler is attached and the device's line is up.
void raise();

/// Forwards to the fake; raises the line after every register write.
class IrqLine final : public virtio::RegisterWindow {
public:
    explicit IrqLine(fake::FakeMmioDevice& d) : d_(d) {}
    std::uint8_t read8(std::uint32_t o) override { return d_.read8(o); }
    std::uint16_t read16(std::uint32_t o) override { return d_.read16(o); }
    std::uint32_t read32(std::uint32_t o) override { return d_.read32(o); }
    void write8(std::uint32_t o, std::uint8_t v) override { d_.write8(o, v); raise(); }
    void write16(std::uint32_t o, std::uint16_t v) override { d_.write16(o, v); raise(); }
    void write32(std::uint32_t o, std::uint32_t v) override { d_.write32(o, v); raise(); }
    std::uint64_t base() const override { return d_.base(); }

private:
    fake::FakeMmioDevice& d_;
};

}  // namespace host_irq
