// A fake PCI configuration space for host tests: 4 KiB of bytes with BARs
// that answer sizing like hardware (the low bits of the size read back 0,
// the type bits are fixed), and a fake ECAM holding such functions by
// bus/device/function. Offsets past 0xfff read as all ones.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <tuple>

#include "drivers/pci/host.hpp"

namespace pci::test {

struct BarSpec {
    enum Type {
        none,
        mem32,
        mem64,
        io,
        fixed
    } type = none;  ///< fixed: reads what was poked, ignores writes
    std::uint64_t size = 0;
    bool prefetchable = false;
};

class FakeConfig final : public ConfigSpace {
public:
    FakeConfig() { std::memset(bytes, 0, sizeof bytes); }
    FakeConfig(std::uint16_t vendor, std::uint16_t device, std::uint32_t class_code = 0,
               std::uint8_t header_type = 0);

    std::uint8_t read8(std::uint16_t off) override { return off < 4096 ? bytes[off] : 0xff; }
    std::uint16_t read16(std::uint16_t off) override {
        return std::uint16_t(read8(off) | read8(off + 1) << 8);
    }
    std::uint32_t read32(std::uint16_t off) override {
        return read16(off) | std::uint32_t(read16(off + 2)) << 16;
    }
    void write8(std::uint16_t off, std::uint8_t v) override;
    void write16(std::uint16_t off, std::uint16_t v) override;
    void write32(std::uint16_t off, std::uint32_t v) override;

    /// Raw store, no BAR semantics (to build malformed spaces).
    void poke8(std::uint16_t off, std::uint8_t v) { bytes[off] = v; }
    void poke16(std::uint16_t off, std::uint16_t v) {
        poke8(off, v & 0xff);
        poke8(off + 1, v >> 8);
    }
    void poke32(std::uint16_t off, std::uint32_t v) {
        poke16(off, v & 0xffff);
        poke16(off + 2, v >> 16);
    }
    /// Appends a capability at `off` to the list (sets the status bit).
    void add_capability(std::uint8_t off, std::uint8_t id);
    /// BAR i behaves as spec (a mem64 BAR also takes i + 1).
    void set_bar(unsigned i, BarSpec spec);

    std::uint64_t bar_value(unsigned i) const;  ///< address programmed (64-bit joined)
    unsigned writes = 0;

private:
    void store_bar(unsigned i, std::uint32_t v);
    bool in_bars(std::uint16_t off) const;
    std::uint8_t bytes[4096];
    BarSpec bars[6];
    std::uint8_t last_cap = 0;
};

/// Functions by bus/device/function; absent ones read as all ones.
class FakeEcam final : public ConfigAccess {
public:
    FakeConfig& add(std::uint8_t bus, std::uint8_t dev, std::uint8_t fn, FakeConfig config);
    ConfigSpace* function(std::uint8_t bus, std::uint8_t dev, std::uint8_t fn) override;
    unsigned lookups = 0;

private:
    std::map<std::tuple<int, int, int>, std::unique_ptr<FakeConfig>> functions_;
    FakeConfig absent_;
    bool absent_init_ = false;
};

}  // namespace pci::test
