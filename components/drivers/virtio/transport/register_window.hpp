// A window of device registers. The virtio-mmio transport reads and writes
// through this interface, so host tests can put a device model behind it;
// MmioWindow is the real thing.
#pragma once

#include <cstdint>

#include "drivers/virtio/barrier.hpp"

namespace virtio {

class RegisterWindow {
public:
    virtual std::uint8_t read8(std::uint32_t offset) = 0;
    virtual std::uint16_t read16(std::uint32_t offset) = 0;
    virtual std::uint32_t read32(std::uint32_t offset) = 0;
    virtual void write8(std::uint32_t offset, std::uint8_t value) = 0;
    virtual void write16(std::uint32_t offset, std::uint16_t value) = 0;
    virtual void write32(std::uint32_t offset, std::uint32_t value) = 0;
    /// Bus address of offset 0 (for log lines).
    virtual std::uint64_t base() const = 0;

protected:
    ~RegisterWindow() = default;
};

/// Volatile accesses to a memory-mapped window, ordered against RAM like
/// Linux's readl/writel: a write is preceded by io_write() so ring updates
/// reach the device first; a read is followed by io_read().
class MmioWindow final : public RegisterWindow {
public:
    constexpr explicit MmioWindow(std::uintptr_t base) : base_(base) {}

    std::uint8_t read8(std::uint32_t offset) override { return load<std::uint8_t>(offset); }
    std::uint16_t read16(std::uint32_t offset) override { return load<std::uint16_t>(offset); }
    std::uint32_t read32(std::uint32_t offset) override { return load<std::uint32_t>(offset); }
    void write8(std::uint32_t offset, std::uint8_t v) override { store(offset, v); }
    void write16(std::uint32_t offset, std::uint16_t v) override { store(offset, v); }
    void write32(std::uint32_t offset, std::uint32_t v) override { store(offset, v); }
    std::uint64_t base() const override { return base_; }

private:
    template <typename T>
    T load(std::uint32_t offset) {
        T v = *reinterpret_cast<volatile T*>(base_ + offset);
        barrier::io_read();
        return v;
    }
    template <typename T>
    void store(std::uint32_t offset, T v) {
        barrier::io_write();
        *reinterpret_cast<volatile T*>(base_ + offset) = v;
    }

    std::uintptr_t base_;
};

}  // namespace virtio
