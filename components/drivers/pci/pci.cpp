// The bus core every PCI piece shares: the helpers function drivers call
// (pci.hpp), the table of enumerated functions and the driver matching the
// host bridge runs once a function's resources are assigned (bus.hpp).
#include "drivers/pci/pci.hpp"

#include <cstdio>

#include <rtos/printk.hpp>

#include "drivers/pci/bus.hpp"

#if !defined(RTOS_HOST_TEST)
extern "C" const pci::DriverEntry __pci_drivers_start[];
extern "C" const pci::DriverEntry __pci_drivers_end[];
#endif

namespace pci {
namespace {

Function table[kMaxFunctions];
unsigned table_count = 0;

// A capability list has room for at most (0x100 - 0x40) / 4 entries; one
// more means the list loops.
constexpr unsigned kMaxCapabilities = (0x100 - 0x40) / 4;

}  // namespace

void enable(Function& f, std::uint16_t command_bits) {
    if (!f.config) return;
    f.config->write16(reg::command,
                      static_cast<std::uint16_t>(f.config->read16(reg::command) | command_bits));
}

bool for_each_capability(ConfigSpace& config, const Address& where, CapabilityVisitor visit,
                         void* context) {
    if (!(config.read16(reg::status) & status_capabilities)) return true;
    char bdf[8];
    std::uint8_t ptr = config.read8(reg::capabilities);
    for (unsigned n = 0; ptr != 0; ++n) {
        const char* problem = nullptr;
        if (n == kMaxCapabilities) problem = "loops";
        else if (ptr < 0x40) problem = "points into the header";
        else if (ptr & 3) problem = "is misaligned";
        if (problem) {
            rtos::printk("%s: capability list %s (entry %u at %#x), walk stopped\n",
                         format_address(where, bdf, sizeof bdf), problem, n, ptr);
            return false;
        }
        if (!visit(context, config.read8(ptr), ptr)) return true;
        ptr = config.read8(static_cast<std::uint16_t>(ptr + 1));
    }
    return true;
}

const char* format_address(const Address& a, char* buf, std::size_t size) {
    std::snprintf(buf, size, "%02x:%02x.%x", a.bus, a.device & 0x1fu, a.function & 7u);
    return buf;
}

const char* bar_kind_name(Bar::Kind kind) {
    switch (kind) {
    case Bar::Kind::memory32: return "mem32";
    case Bar::Kind::memory64: return "mem64";
    case Bar::Kind::io: return "io";
    case Bar::Kind::none: break;
    }
    return "none";
}

const Function* functions_begin() { return table; }
const Function* functions_end() { return table + table_count; }

Function* new_function() {
    if (table_count == kMaxFunctions) return nullptr;
    table[table_count] = Function{};
    return &table[table_count++];
}

void reset_functions() { table_count = 0; }

#if !defined(RTOS_HOST_TEST)
std::span<const DriverEntry> registered_drivers() {
    return {__pci_drivers_start, static_cast<std::size_t>(__pci_drivers_end - __pci_drivers_start)};
}
#endif

const DriverEntry* match_driver(const Function& f, std::span<const DriverEntry> drivers) {
    for (const DriverEntry& d : drivers)
        if (d.vendor_id == f.vendor_id && f.device_id >= d.device_first &&
            f.device_id <= d.device_last)
            return &d;
    return nullptr;
}

void bind_drivers(std::span<const DriverEntry> drivers) {
    for (unsigned i = 0; i < table_count; ++i) {
        Function& f = table[i];
        if (f.driver) continue;
        const DriverEntry* d = match_driver(f, drivers);
        if (d && d->probe(f)) f.driver = d->name;
    }
}

}  // namespace pci
