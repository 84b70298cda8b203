// How device drivers plug into discovery: each driver registers itself for a
// DeviceID with VIRTIO_DRIVER(...) in its own file; the bus probe (MMIO now,
// PCI later) calls it for every matching device it finds.
#pragma once

#include <cstdint>

#include "drivers/virtio/device.hpp"
#include "drivers/virtio/transport.hpp"

namespace virtio {

/// What the bus found: the transport (already probed), where, which interrupt.
struct Found {
    Transport& transport;
    const char* bus;       ///< "mmio"
    std::uint64_t address;
    unsigned irq;
    unsigned index;        ///< n-th device of this type (0 for the first)
};

struct DriverEntry {
    std::uint32_t device_id;
    const char* name;
    /// Takes the device or returns false (it logged why).
    bool (*probe)(const Found& found);
};

/// The boot log line every driver prints once its device is live, with the
/// words test harnesses look for:
///   virtio-blk: mmio modern @0x10008000 irq 8 queue 64 features 0x130000254
void announce(const Found& found, Device& dev, const char* extra = "");

/// Registered drivers, in link order.
const DriverEntry* drivers_begin();
const DriverEntry* drivers_end();

}  // namespace virtio

#define VIRTIO_DRIVER(ident, device_id, probe_fn)                                      \
    [[gnu::used, gnu::section(".rtos_virtio_drivers")]] static constexpr ::virtio::    \
        DriverEntry virtio_driver_##ident{device_id, #ident, probe_fn}
