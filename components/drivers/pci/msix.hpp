// MSI-X (PCI Local Bus 3.0, 6.8.2): a function signals each interrupt vector
// by a memory write its table holds (address + data). The platform's MSI
// controller (rtos::irq::msi_controller(): GICv3 ITS, GICv2m) hands out the
// interrupts and the writes that raise them; this programs them into the
// function's table. The table's location comes from the capability and is
// checked against the function's assigned BARs before it is touched.
#pragma once

#include <cstdint>

#include "drivers/pci/pci.hpp"

namespace pci {

/// The MSI-X capability's registers (offsets from the capability).
namespace msix_reg {
constexpr std::uint16_t control = 2, table = 4;
constexpr std::uint16_t enable = 1u << 15, function_mask = 1u << 14, table_size = 0x7ff;
constexpr std::uint32_t bir = 0x7;
constexpr std::uint32_t entry_size = 16;  ///< address lo, address hi, data, vector control
constexpr std::uint32_t entry_masked = 1;
}  // namespace msix_reg

/// A function's MSI-X table, as its capability describes it.
struct MsixTable {
    std::uint8_t cap = 0;       ///< the capability's offset in configuration space
    std::uint16_t entries = 0;  ///< Table Size + 1
    std::uintptr_t table = 0;   ///< where the CPU reaches entry 0
};

/// Finds f's MSI-X capability and checks its table: the BIR names an assigned
/// memory BAR and every entry lies inside it. nullptr when usable (`t`
/// filled), else why not ("no MSI-X capability", ...).
const char* find_msix(Function& f, MsixTable& t);

/// Up to `want` interrupts (at most the table's entries) from the platform's
/// MSI controller for f (its msi_id), written into the first table entries;
/// MSI-X is then on (INTx off; the device signals nothing on a vector it has
/// not been told to use). Sets irqs[0..n) (controller numbering, for
/// rtos::irq::attach()) and returns n, or 0 with MSI-X left off and `why`
/// saying why (no controller, no capability, no requester ID, none left).
unsigned enable_msix(Function& f, unsigned want, unsigned* irqs, const char*& why);

/// MSI-X off again: the function signals INTx (Function::msix_vectors = 0).
void disable_msix(Function& f);

}  // namespace pci
