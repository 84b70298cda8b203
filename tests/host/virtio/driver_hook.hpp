// Forced into a driver source under test (and only there) with -include,
// after the Kconfig variant header.
//
// On the target VIRTIO_DRIVER() puts a virtio::DriverEntry into the section
// ".rtos_virtio_drivers" and the linker script brackets it with
// __virtio_drivers_start/_end. A host link has no such script, and the
// linker's automatic __start_<sec>/__stop_<sec> symbols exist only for
// section names that are C identifiers, which ".rtos_virtio_drivers" is not.
// So for the host build this header includes driver.hpp first (it is
// #pragma once: the driver's own #include of it is then a no-op), and
// replaces the macro with one that records the entry at static-init time in
// the table of driver_table.cpp. virtio::drivers_begin()/drivers_end() then
// walk that table, exactly as mmio_probe.cpp walks the section, and the
// driver's file-local probe() is reached the way the bus reaches it.
#pragma once

#include "drivers/virtio/driver.hpp"

namespace host_drivers {
/// Appends `entry` to the host driver table; returns true.
bool register_driver(const virtio::DriverEntry& entry);
/// Probes `transport` (already probed) with the registered driver for its
/// DeviceID as the bus would (irq 8, first of its type); false when no
/// driver took it.
bool probe(virtio::Transport& transport, std::uint64_t base);
}  // namespace host_drivers

#undef VIRTIO_DRIVER
#define VIRTIO_DRIVER(ident, device_id, probe_fn)                                    \
    [[maybe_unused]] static const bool virtio_driver_##ident =                       \
        ::host_drivers::register_driver(::virtio::DriverEntry{device_id, #ident, probe_fn})
