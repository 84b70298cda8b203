// PCI as function drivers see it: what the host-bridge driver (host_ecam.cpp)
// found and assigned. A function driver (virtio-pci, ...) registers with
// PCI_DRIVER(...) and is handed each matching function once its BARs are
// assigned and its INTx line routed; it never touches the host bridge.
//
// Everything read from configuration space is untrusted: the capability walk
// is bounded and loop-safe, BAR sizes are checked against the windows.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pci {

/// Bus/device/function; printed as "00:02.0" (bus:device.function, hex).
struct Address {
    std::uint8_t bus = 0;
    std::uint8_t device = 0;    ///< 0..31
    std::uint8_t function = 0;  ///< 0..7
};

/// Standard header offsets (PCI Local Bus 3.0, 6.1) the drivers use.
namespace reg {
constexpr std::uint16_t vendor_id = 0x00, device_id = 0x02, command = 0x04, status = 0x06;
constexpr std::uint16_t revision = 0x08, class_code = 0x09, header_type = 0x0e;
constexpr std::uint16_t bar0 = 0x10, subsystem_vendor_id = 0x2c, subsystem_id = 0x2e;
constexpr std::uint16_t capabilities = 0x34, interrupt_line = 0x3c, interrupt_pin = 0x3d;
}  // namespace reg
namespace command {
constexpr std::uint16_t io = 1u << 0, memory = 1u << 1, bus_master = 1u << 2;
constexpr std::uint16_t intx_disable = 1u << 10;
}  // namespace command
constexpr std::uint16_t status_capabilities = 1u << 4;
namespace cap {
constexpr std::uint8_t msix = 0x11, vendor = 0x09;
}

/// One function's 4 KiB configuration space (ECAM on the board; a fake in
/// host tests). Offsets past 0xfff read as all ones and ignore writes.
class ConfigSpace {
public:
    virtual std::uint8_t read8(std::uint16_t offset) = 0;
    virtual std::uint16_t read16(std::uint16_t offset) = 0;  ///< offset 2-aligned
    virtual std::uint32_t read32(std::uint16_t offset) = 0;  ///< offset 4-aligned
    virtual void write8(std::uint16_t offset, std::uint8_t value) = 0;
    virtual void write16(std::uint16_t offset, std::uint16_t value) = 0;
    virtual void write32(std::uint16_t offset, std::uint32_t value) = 0;

protected:
    ConfigSpace() = default;
    ~ConfigSpace() = default;  // not deleted through this interface
};

/// A base address register as the host bridge assigned it.
struct Bar {
    enum class Kind : std::uint8_t { none, memory32, memory64, io };
    Kind kind = Kind::none;  ///< none: not implemented, or not assigned (see log)
    bool prefetchable = false;
    std::uint64_t bus_address = 0;  ///< the value programmed into the BAR
    std::uint64_t size = 0;
    std::uintptr_t cpu_address = 0;  ///< where the CPU reaches it (window offset applied)
};

/// A function found during enumeration, with its resources assigned.
struct Function {
    static constexpr unsigned kBars = 6;
    Address address;
    std::uint16_t vendor_id = 0, device_id = 0;
    std::uint16_t subsystem_vendor_id = 0, subsystem_id = 0;
    std::uint8_t revision = 0;
    std::uint32_t class_code = 0;  ///< class << 16 | subclass << 8 | prog-if
    Bar bar[kBars];
    std::uint8_t interrupt_pin = 0;  ///< 1..4 = INTA..INTD, 0 = none
    bool has_irq = false;            ///< INTx routed through the tree's interrupt-map
    unsigned irq = 0;                ///< as the interrupt controller numbers it
    /// The ID its messages carry to the MSI controller (its requester ID
    /// through the host bridge's msi-map); has_msi_id false: no MSI route.
    bool has_msi_id = false;
    std::uint32_t msi_id = 0;
    std::uint16_t msix_vectors = 0;  ///< MSI-X vectors enabled (msix.hpp), 0: INTx
    ConfigSpace* config = nullptr;
    const char* driver = nullptr;  ///< name of the driver that took it, for lspci
};

/// Sets bits in the command register (command::memory | command::bus_master ...).
void enable(Function& f, std::uint16_t command_bits);

/// Walks the capability list: calls visit(id, offset) for each capability
/// until it returns false. Stops, logging "<bdf>: capability list ..." and
/// returning false, on a pointer below 0x40, past 0xff, misaligned, or when
/// the list loops (more than 48 entries); returns true on a clean end.
/// Template-free so the walk has one implementation, shared by every driver.
using CapabilityVisitor = bool (*)(void* context, std::uint8_t id, std::uint8_t offset);
bool for_each_capability(ConfigSpace& config, const Address& where, CapabilityVisitor visit,
                         void* context);

/// "00:02.0" into buf (at least 8 bytes); returns buf.
const char* format_address(const Address& a, char* buf, std::size_t size);

struct DriverEntry {
    std::uint16_t vendor_id;
    std::uint16_t device_first, device_last;  ///< inclusive range of device ids
    const char* name;
    /// Takes the function or returns false (it logged why).
    bool (*probe)(Function& function);
};

/// The functions enumerated so far (for lspci), in bus order.
const Function* functions_begin();
const Function* functions_end();

}  // namespace pci

#define PCI_DRIVER(ident, vendor, first, last, probe_fn)                                           \
    [[gnu::used,                                                                                   \
      gnu::section(".rtos_pci_drivers")]] static constexpr ::pci::DriverEntry pci_driver_##ident { \
        vendor, first, last, #ident, probe_fn                                                      \
    }
