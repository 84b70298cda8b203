// The generic ECAM host bridge (device-tree "pci-host-ecam-generic", QEMU
// virt on both boards): configuration space is memory-mapped, one MiB per
// bus, 4 KiB per function. At driver start-up each such node is parsed,
// its root bus enumerated (host.cpp) and the functions handed to the
// PCI_DRIVER entries; virtio drivers thus bind at the same level as over MMIO.
#include <rtos/init.hpp>
#include <rtos/printk.hpp>

#include "drivers/mmio.hpp"
#include "drivers/pci/bus.hpp"
#include "drivers/pci/host.hpp"
#include "platform/platform.hpp"

namespace pci {
namespace {

// Accesses of the exact width (the ECAM decoder handles 1, 2 and 4 bytes);
// offsets past the 4 KiB or misaligned read as all ones and drop writes.
class EcamConfig final : public ConfigSpace {
public:
    void at(std::uintptr_t base) { base_ = base; }
    std::uint8_t read8(std::uint16_t off) override {
        return off < kSize ? rtos::mmio::read8(base_ + off) : 0xff;
    }
    std::uint16_t read16(std::uint16_t off) override {
        return ok(off, 2) ? rtos::mmio::read16(base_ + off) : 0xffff;
    }
    std::uint32_t read32(std::uint16_t off) override {
        return ok(off, 4) ? rtos::mmio::read32(base_ + off) : ~0u;
    }
    void write8(std::uint16_t off, std::uint8_t v) override {
        if (off < kSize) rtos::mmio::write8(base_ + off, v);
    }
    void write16(std::uint16_t off, std::uint16_t v) override {
        if (ok(off, 2)) rtos::mmio::write16(base_ + off, v);
    }
    void write32(std::uint16_t off, std::uint32_t v) override {
        if (ok(off, 4)) rtos::mmio::write32(base_ + off, v);
    }

private:
    static constexpr std::uint16_t kSize = 4096;
    static bool ok(std::uint16_t off, std::uint16_t width) {
        return off <= kSize - width && (off & (width - 1)) == 0;
    }
    std::uintptr_t base_ = 0;
};

// One config space per function kept for the run (Function::config); absent
// ones are looked at through a scratch object.
EcamConfig kept[kMaxFunctions];
unsigned kept_count = 0;

class EcamAccess final : public ConfigAccess {
public:
    explicit EcamAccess(const HostBridge& host) : host_(host) {}
    ConfigSpace* function(std::uint8_t bus, std::uint8_t dev, std::uint8_t fn) override {
        if (bus < host_.bus_first || bus > host_.bus_last || dev > 31 || fn > 7) return nullptr;
        std::uintptr_t addr = static_cast<std::uintptr_t>(host_.ecam_base) +
                              (static_cast<std::uintptr_t>(bus - host_.bus_first) << 20 |
                               std::uintptr_t{dev} << 15 | std::uintptr_t{fn} << 12);
        scratch_.at(addr);
        std::uint16_t vendor = scratch_.read16(reg::vendor_id);
        if (vendor == 0xffff || vendor == 0 || kept_count == kMaxFunctions) return &scratch_;
        kept[kept_count].at(addr);
        return &kept[kept_count++];
    }

private:
    const HostBridge& host_;
    EcamConfig scratch_;
};

void pci_host_ecam_probe() {
    const fdt::Tree& dt = rtos::platform::device_tree();
    if (!dt.valid()) return;
    for (fdt::Node n = dt.find_compatible("pci-host-ecam-generic"); n.valid();
         n = dt.find_compatible("pci-host-ecam-generic", n)) {
        HostBridge host;
        if (!parse_host_bridge(dt, n, host)) continue;
        log_host_bridge(host);
        EcamAccess access(host);
        DeviceTreeIrqRouter router(dt, n);
        enumerate(host, access, router);
    }
    bind_drivers(registered_drivers());
}

RTOS_INIT(pci_host_ecam_probe, driver);

}  // namespace
}  // namespace pci
