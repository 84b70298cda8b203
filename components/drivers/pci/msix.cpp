// MSI-X table programming (msix.hpp).
#include "drivers/pci/msix.hpp"

#include <rtos/irq.hpp>

#include "drivers/mmio.hpp"

namespace pci {
namespace {

struct Find {
    std::uint8_t at = 0;
};

bool find_cap(void* context, std::uint8_t id, std::uint8_t offset) {
    if (id != cap::msix) return true;
    static_cast<Find*>(context)->at = offset;
    return false;  // the first one
}

void set_control(Function& f, std::uint8_t cap, std::uint16_t clear, std::uint16_t set) {
    const auto at = static_cast<std::uint16_t>(cap + msix_reg::control);
    f.config->write16(at, static_cast<std::uint16_t>((f.config->read16(at) & ~clear) | set));
}

}  // namespace

const char* find_msix(Function& f, MsixTable& t) {
    t = {};
    if (!f.config) return "no configuration space";
    Find found;
    if (!for_each_capability(*f.config, f.address, find_cap, &found) && !found.at)
        return "capability list is broken";
    if (!found.at) return "no MSI-X capability";
    if (found.at > 0x100 - 12) return "MSI-X capability runs past the capability area";
    const std::uint16_t control = f.config->read16(found.at + msix_reg::control);
    const std::uint32_t table = f.config->read32(found.at + msix_reg::table);
    const unsigned bir = table & msix_reg::bir;
    const std::uint64_t offset = table & ~msix_reg::bir;
    const unsigned entries = (control & msix_reg::table_size) + 1u;
    if (bir >= Function::kBars) return "MSI-X table BIR is not 0..5";
    const Bar& b = f.bar[bir];
    if ((b.kind != Bar::Kind::memory32 && b.kind != Bar::Kind::memory64) || b.cpu_address == 0)
        return "MSI-X table BAR is not an assigned memory BAR";
    if (offset + std::uint64_t{entries} * msix_reg::entry_size > b.size)
        return "MSI-X table runs past the end of its BAR";
    t.cap = found.at;
    t.entries = static_cast<std::uint16_t>(entries);
    t.table = b.cpu_address + static_cast<std::uintptr_t>(offset);
    return nullptr;
}

unsigned enable_msix(Function& f, unsigned want, unsigned* irqs, const char*& why) {
    why = nullptr;
    rtos::irq::MsiController* msi = rtos::irq::msi_controller();
    if (!msi) return why = "the platform has no MSI controller", 0;
    if (!f.has_msi_id) return why = "its requester ID has no msi-map entry", 0;
    MsixTable t;
    if ((why = find_msix(f, t))) return 0;
    if (want > t.entries) want = t.entries;
    constexpr unsigned kMaxAtOnce = 32;
    if (want > kMaxAtOnce) want = kMaxAtOnce;
    rtos::irq::MsiMessage messages[kMaxAtOnce];
    const unsigned n = want ? msi->allocate(f.msi_id, want, irqs, messages) : 0;
    if (n == 0) return why = "the MSI controller has no interrupts left", 0;
    // Entries are written masked and with the function masked, MSI-X enabled
    // last (6.8.2.9: software must not change an unmasked entry).
    set_control(f, t.cap, 0, msix_reg::function_mask);
    for (unsigned i = 0; i < t.entries; ++i) {
        const std::uintptr_t e = t.table + std::uintptr_t{i} * msix_reg::entry_size;
        rtos::mmio::write32(e + 12, msix_reg::entry_masked);
        if (i >= n) continue;
        rtos::mmio::write32(e + 0, static_cast<std::uint32_t>(messages[i].address));
        rtos::mmio::write32(e + 4, static_cast<std::uint32_t>(messages[i].address >> 32));
        rtos::mmio::write32(e + 8, messages[i].data);
        rtos::mmio::write32(e + 12, 0);
    }
    enable(f, command::intx_disable | command::bus_master);  // messages are bus-master writes
    set_control(f, t.cap, msix_reg::function_mask, msix_reg::enable);
    f.msix_vectors = static_cast<std::uint16_t>(n);
    return n;
}

void disable_msix(Function& f) {
    MsixTable t;
    if (find_msix(f, t)) return;
    set_control(f, t.cap, msix_reg::enable, 0);
    f.config->write16(reg::command, static_cast<std::uint16_t>(f.config->read16(reg::command) &
                                                               ~command::intx_disable));
    f.msix_vectors = 0;
}

}  // namespace pci
