// The host bridge's work, independent of how configuration space is reached
// (ECAM on the board, a fake in host tests): what the device-tree node says
// (parse_host_bridge), and enumerating the buses with BAR sizing and
// assignment, bridge windows, INTx routing and the boot lines (enumerate).
#pragma once

#include <cstdint>

#include "drivers/pci/pci.hpp"
#include "fdt/fdt.hpp"

namespace pci {

/// One address window of the host bridge ("ranges"): PCI bus addresses
/// [bus_base, bus_base + size) appear to the CPU at cpu_base.
struct Window {
    bool present = false;
    bool prefetchable = false;
    std::uint64_t cpu_base = 0, bus_base = 0, size = 0;
    std::uint64_t used = 0;  ///< allocation cursor: bytes from bus_base handed out (or skipped)
};

/// Requester IDs [rid_base, rid_base + length) reach the MSI controller as
/// msi_base + (rid - rid_base) ("msi-map"; "msi-parent" alone: identity).
struct MsiMap {
    bool present = false;
    std::uint32_t rid_base = 0, msi_base = 0, length = 0;
};

struct HostBridge {
    std::uint64_t ecam_base = 0, ecam_size = 0;
    std::uint8_t bus_first = 0, bus_last = 0;
    Window io, mem, mem64;  ///< I/O space, 32-bit memory, 64-bit memory (each optional)
    MsiMap msi;             ///< the first msi-map entry only
};

/// Reads an ECAM host-bridge node: "reg" (the ECAM window), "bus-range"
/// (default 0-255, cut to what the ECAM window covers), "ranges" (the
/// first I/O, 32-bit and 64-bit memory window each) and "msi-map" /
/// "msi-parent". False, with a log line,
/// when the node is unusable.
bool parse_host_bridge(const fdt::Tree& tree, fdt::Node node, HostBridge& out);

/// Logs the bridge's boot line:
///   pci: ecam @0x30000000 buses 00-ff io 0x3000000+0x10000 (bus 0x0) mem 0x40000000+0x40000000
///   mem64 ...
/// A window's "(bus X)" appears when its bus address differs from the CPU's.
void log_host_bridge(const HostBridge& host);

/// How enumeration reaches configuration space: the function's space,
/// valid for the whole run, or null when bus/device/function has none to
/// give (absent functions may return a space reading all ones).
class ConfigAccess {
public:
    virtual ConfigSpace* function(std::uint8_t bus, std::uint8_t device, std::uint8_t function) = 0;

protected:
    ~ConfigAccess() = default;
};

/// INTx routing: the controller's number for pin (1..4 = INTA..INTD) of the
/// function at `a` on the root bus, or false.
class IrqRouter {
public:
    virtual bool route(const Address& a, std::uint8_t pin, unsigned& irq) = 0;

protected:
    ~IrqRouter() = default;
};

/// Routing through a host-bridge node's interrupt-map (fdt::Tree::map_interrupt).
class DeviceTreeIrqRouter final : public IrqRouter {
public:
    DeviceTreeIrqRouter(const fdt::Tree& tree, fdt::Node node) : tree_(tree), node_(node) {}
    bool route(const Address& a, std::uint8_t pin, unsigned& irq) override;

private:
    const fdt::Tree& tree_;
    fdt::Node node_;
};

/// Enumerates from the root bus (bus_first) down through PCI-PCI bridges
/// (numbering their buses in the order found): appends every function to
/// the table (functions_begin/end), sizes its BARs and assigns them from the
/// windows (largest first, each naturally aligned; on the root bus a 64-bit
/// BAR prefers the 64-bit window, behind a bridge a 64-bit prefetchable one
/// goes to the bridge's prefetchable window), sizes and programs each
/// bridge's I/O, memory and prefetchable windows, routes INTx (swizzled by
/// device number at each bridge, then the interrupt-map) and turns on
/// memory / I/O decoding (and bus mastering on bridges), and gives each
/// function its MSI requester ID through host.msi. A function with a
/// BAR that fits no window keeps that decoding off and reports none of
/// those BARs. Boot lines, one per function and one per bridge:
///   pci 00:02.0 1af4:1042 class 010000 irq 33   ("irq -": no pin or route)
///   pci 00:01.0: bridge to bus 01-01 io 0x1000+0x1000 mem 0x40200000+0x100000 pref ...
/// Returns the functions found.
unsigned enumerate(HostBridge& host, ConfigAccess& access, IrqRouter& router);

}  // namespace pci
