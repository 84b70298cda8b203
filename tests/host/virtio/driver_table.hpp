// A host stand-in for the linker-built table of VirtIO drivers, for tests
// that run a real driver file: force-include this header into the driver's
// source (after the Kconfig variant header) and link driver_table.cpp.
//
// On the target VIRTIO_DRIVER() puts a virtio::DriverEntry into the section
// ".rtos_virtio_drivers", which the linker script brackets; a host link has
// no such script (and no __start_/__stop_ symbols for a section name that is
// not a C identifier). So this header includes driver.hpp first (#pragma
// once makes the driver's own include a no-op) and redefines the macro to
// record the entry at static-initialisation time; drivers_begin()/end() walk
// that table as mmio_probe.cpp walks the section.
#pragma once

#include "drivers/virtio/driver.hpp"

namespace host_drivers {
/// Appends `entry` to the table; returns true.
bool register_driver(const virtio::DriverEntry& entry);
/// The entry for `device_id`, or nullptr.
const virtio::DriverEntry* find(std::uint32_t device_id);
/// Runs the registered driver for `transport`'s DeviceID (transport already
/// probed) as the bus would: "mmio" at `base`, irq 8, first of its type.
/// False when no driver is registered for it or the driver refused it.
bool probe(virtio::Transport& transport, std::uint64_t base);
}  // namespace host_drivers

#undef VIRTIO_DRIVER
#define VIRTIO_DRIVER(ident, device_id, probe_fn)              \
    [[maybe_unused]] static const bool virtio_driver_##ident = \
        ::host_drivers::register_driver(::virtio::DriverEntry{device_id, #ident, probe_fn})
