// How device drivers plug into discovery: each driver registers itself for a
// DeviceID with VIRTIO_DRIVER(...) in its own file; the bus probe (MMIO now,
// PCI later) calls it for every matching device it finds.
#pragma once

#include <cstdint>
#include <new>

#include "drivers/virtio/device.hpp"
#include "drivers/virtio/hal.hpp"
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

/// The usual probe body: a driver object D(transport) in DMA memory (the
/// headers and buffers it hands the device live inside it), then
/// D::start(found); the object is destroyed and freed again when start()
/// fails. Returns the started driver or nullptr. A driver whose start() can
/// fail after attaching its interrupt must not use this (the handler would
/// outlive the object).
template <typename D>
D* start_in_dma_memory(const Found& found) {
    void* mem = hal::dma_alloc(sizeof(D), alignof(D));
    if (!mem) return nullptr;
    auto* d = new (mem) D(found.transport);
    if (d->start(found)) return d;
    d->~D();
    hal::dma_free(mem);
    return nullptr;
}

/// Registered drivers, in link order.
const DriverEntry* drivers_begin();
const DriverEntry* drivers_end();

}  // namespace virtio

#define VIRTIO_DRIVER(ident, device_id, probe_fn)                                      \
    [[gnu::used, gnu::section(".rtos_virtio_drivers")]] static constexpr ::virtio::    \
        DriverEntry virtio_driver_##ident{device_id, #ident, probe_fn}
