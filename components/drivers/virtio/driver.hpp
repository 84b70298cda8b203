// How device drivers plug into discovery: each driver registers itself for a
// DeviceID with VIRTIO_DRIVER(...) in its own file; every bus probe
// (transport/mmio_probe.cpp, transport/pci_probe.cpp) hands each device it
// finds to bind_driver(), which picks the driver and numbers the device.
#pragma once

#include <cstdint>
#include <new>
#include <span>

#include "drivers/virtio/device.hpp"
#include "drivers/virtio/hal.hpp"
#include "drivers/virtio/transport/transport.hpp"

namespace virtio {

/// What the bus found: the transport (already probed, its interrupt line set), where.
struct Found {
    Transport& transport;
    const char* bus;  ///< "mmio" or "pci"
    std::uint64_t
        address;           ///< mmio: register window; pci: common config (modern) or BAR 0 (legacy)
    unsigned index;        ///< n-th device of this type on any bus (0 for the first)
    const char* location;  ///< for boot lines: "@0x10008000" (mmio), "00:02.0" (pci BDF)
};

/// What bind_driver() did with a device.
enum class Bound : std::uint8_t {
    taken,      ///< a driver took it; the transport now belongs to that driver
    no_driver,  ///< none registered for its DeviceID (logged)
    refused,    ///< the driver refused it (it logged why); the caller resets the device
};

/// The one driver lookup of every bus: finds the driver registered for the
/// transport's DeviceID, gives the device the next index of its type (vda,
/// vdb ... across buses, in probe order) and runs the driver's probe.
Bound bind_driver(Transport& transport, const char* bus, std::uint64_t address,
                  const char* location);

struct DriverEntry {
    std::uint32_t device_id;
    const char* name;
    /// Takes the device or returns false (it logged why).
    bool (*probe)(const Found& found);
};

/// The boot log line every driver prints once its device is live, with the
/// words test harnesses look for; the accepted features last, named from
/// `names` (the driver's table) and the core's (Device::describe_features()):
///   virtio-blk: mmio modern @0x10008000 irq 8 queue 64 ring split vda 8192 sectors
///     features seg_max blk_size flush indirect_desc event_idx version_1
///   virtio-blk: pci modern 00:02.0 msix 2 queue 64 ring packed ... features ...
/// (one line; the interrupt part as Transport::describe_interrupts() says:
/// call it after Device::attach_interrupts()). `extra` follows the ring
/// layout (split, or packed with VIRTIO_F_RING_PACKED).
void announce(const Found& found, Device& dev, std::span<const FeatureName> names,
              const char* extra = "");

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

/// Registered drivers, in link order (the target's linker section,
/// driver_section.cpp; host tests bring their own table).
const DriverEntry* drivers_begin();
const DriverEntry* drivers_end();

}  // namespace virtio

#define VIRTIO_DRIVER(ident, device_id, probe_fn)                                                  \
    [[gnu::used,                                                                                   \
      gnu::section(                                                                                \
          ".rtos_virtio_drivers")]] static constexpr ::virtio::DriverEntry virtio_driver_##ident { \
        device_id, #ident, probe_fn                                                                \
    }
