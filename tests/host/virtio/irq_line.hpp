// A register window onto the fake device that lets the "hardware" react
// after every register write (deliver data, raise the interrupt), as QEMU
// does within the vCPU's MMIO exit. Driver tests put it between the fake
// and the transport.
#pragma once

#include <cstdint>

#include "fake_mmio_device.hpp"

namespace fake {

class IrqLine final : public virtio::RegisterWindow {
public:
    IrqLine(FakeMmioDevice& d, void (*after_write)()) : d_(d), after_write_(after_write) {}
    std::uint8_t read8(std::uint32_t o) override { return d_.read8(o); }
    std::uint16_t read16(std::uint32_t o) override { return d_.read16(o); }
    std::uint32_t read32(std::uint32_t o) override { return d_.read32(o); }
    void write8(std::uint32_t o, std::uint8_t v) override { d_.write8(o, v); after_write_(); }
    void write16(std::uint32_t o, std::uint16_t v) override { d_.write16(o, v); after_write_(); }
    void write32(std::uint32_t o, std::uint32_t v) override { d_.write32(o, v); after_write_(); }
    std::uint64_t base() const override { return d_.base(); }

private:
    FakeMmioDevice& d_;
    void (*after_write_)();
};

}  // namespace fake
