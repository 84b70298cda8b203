// What the host bridge uses of the bus core (pci.cpp), beside pci.hpp: the
// table of enumerated functions and the matching of PCI_DRIVER entries.
#pragma once

#include <span>

#include "drivers/pci/pci.hpp"

namespace pci {

/// Functions beyond this many are logged and ignored.
constexpr unsigned kMaxFunctions = 64;

/// A cleared entry appended to the table (functions_begin/end), or null when full.
Function* new_function();
/// Empties the table (host tests enumerate more than once).
void reset_functions();

/// "mem32", "mem64", "io" or "none".
const char* bar_kind_name(Bar::Kind kind);

/// The PCI_DRIVER entries linked in (the .rtos_pci_drivers section).
std::span<const DriverEntry> registered_drivers();
/// The first entry matching f's vendor and device id, or null.
const DriverEntry* match_driver(const Function& f, std::span<const DriverEntry> drivers);
/// Hands every function without a driver to the first matching entry;
/// Function::driver names the one that took it.
void bind_drivers(std::span<const DriverEntry> drivers);

}  // namespace pci
