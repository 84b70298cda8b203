#include "fake_config.hpp"

namespace pci::test {

FakeConfig::FakeConfig(std::uint16_t vendor, std::uint16_t device, std::uint32_t class_code,
                       std::uint8_t header_type) {
    std::memset(bytes, 0, sizeof bytes);
    poke16(reg::vendor_id, vendor);
    poke16(reg::device_id, device);
    poke8(reg::revision, 1);
    poke8(reg::class_code, class_code & 0xff);
    poke16(reg::class_code + 1, class_code >> 8 & 0xffff);
    poke8(reg::header_type, header_type);
}

// Type 0 headers have six BARs, bridges (type 1) two.
bool FakeConfig::in_bars(std::uint16_t off) const {
    unsigned n = (bytes[reg::header_type] & 0x7f) == 1 ? 2 : 6;
    return off >= reg::bar0 && off < reg::bar0 + 4 * n;
}

void FakeConfig::write8(std::uint16_t off, std::uint8_t v) {
    ++writes;
    if (off >= 4096 || in_bars(off)) return;  // BARs: 32-bit writes only
    bytes[off] = v;
}

void FakeConfig::write16(std::uint16_t off, std::uint16_t v) {
    ++writes;
    if (off >= 4096 || in_bars(off)) return;
    poke16(off, v);
}

void FakeConfig::write32(std::uint16_t off, std::uint32_t v) {
    ++writes;
    if (off >= 4096) return;
    if (in_bars(off)) return store_bar((off - reg::bar0) / 4, v);
    poke32(off, v);
}

void FakeConfig::store_bar(unsigned i, std::uint32_t v) {
    // The upper half of a 64-bit BAR keeps the address bits above its size.
    if (i > 0 && bars[i - 1].type == BarSpec::mem64) {
        std::uint64_t mask = ~(bars[i - 1].size - 1);
        return poke32(reg::bar0 + 4 * i, v & std::uint32_t(mask >> 32));
    }
    const BarSpec& b = bars[i];
    switch (b.type) {
    case BarSpec::none: return poke32(reg::bar0 + 4 * i, 0);
    case BarSpec::fixed: return;
    case BarSpec::io: return poke32(reg::bar0 + 4 * i, (v & ~std::uint32_t(b.size - 1) & ~3u) | 1u);
    case BarSpec::mem32:
    case BarSpec::mem64: {
        std::uint32_t flags = (b.type == BarSpec::mem64 ? 4u : 0u) | (b.prefetchable ? 8u : 0u);
        return poke32(reg::bar0 + 4 * i, (v & std::uint32_t(~(b.size - 1)) & ~0xfu) | flags);
    }
    }
}

void FakeConfig::set_bar(unsigned i, BarSpec spec) {
    bars[i] = spec;
    if (spec.type == BarSpec::fixed)
        return poke32(reg::bar0 + 4 * i, static_cast<std::uint32_t>(spec.size));
    store_bar(i, 0);
    if (spec.type == BarSpec::mem64) store_bar(i + 1, 0);
}

std::uint64_t FakeConfig::bar_value(unsigned i) const {
    auto raw = [&](unsigned k) {
        return std::uint32_t(bytes[reg::bar0 + 4 * k]) |
               std::uint32_t(bytes[reg::bar0 + 4 * k + 1]) << 8 |
               std::uint32_t(bytes[reg::bar0 + 4 * k + 2]) << 16 |
               std::uint32_t(bytes[reg::bar0 + 4 * k + 3]) << 24;
    };
    if (bars[i].type == BarSpec::io) return raw(i) & ~3u;
    std::uint64_t v = raw(i) & ~0xfu;
    if (bars[i].type == BarSpec::mem64) v |= std::uint64_t(raw(i + 1)) << 32;
    return v;
}

void FakeConfig::add_capability(std::uint8_t off, std::uint8_t id) {
    poke16(reg::status, read16(reg::status) | status_capabilities);
    poke8(off, id);
    poke8(off + 1, 0);
    if (last_cap) poke8(last_cap + 1, off);
    else poke8(reg::capabilities, off);
    last_cap = off;
}

FakeConfig& FakeEcam::add(std::uint8_t bus, std::uint8_t dev, std::uint8_t fn, FakeConfig config) {
    auto& slot = functions_[{bus, dev, fn}];
    slot = std::make_unique<FakeConfig>(config);
    return *slot;
}

ConfigSpace* FakeEcam::function(std::uint8_t bus, std::uint8_t dev, std::uint8_t fn) {
    ++lookups;
    auto it = functions_.find({bus, dev, fn});
    if (it != functions_.end()) return it->second.get();
    if (!absent_init_) {
        for (unsigned i = 0; i < 4096; ++i) absent_.poke8(i, 0xff);
        absent_init_ = true;
    }
    return &absent_;
}

}  // namespace pci::test
