// The driver lookup every bus probe shares, and the boot line every driver prints.
#include "drivers/virtio/driver.hpp"

#include <rtos/printk.hpp>

namespace virtio {
namespace {
// Devices of each type found so far, over all buses: the index of the next one.
unsigned per_type_count[64];

const DriverEntry* driver_for(std::uint32_t id) {
    for (const DriverEntry* d = drivers_begin(); d < drivers_end(); ++d)
        if (d->device_id == id) return d;
    return nullptr;
}
}  // namespace

Bound bind_driver(Transport& transport, const char* bus, std::uint64_t address,
                  const char* location) {
    const std::uint32_t id = transport.device_id();
    const DriverEntry* driver = driver_for(id);
    if (!driver) {
        rtos::printk("%s: no driver (device id %u)\n", transport.name(), id);
        return Bound::no_driver;
    }
    const unsigned index = id < 64 ? per_type_count[id]++ : 0;
    return driver->probe(Found{transport, bus, address, index, location}) ? Bound::taken
                                                                          : Bound::refused;
}

void announce(const Found& f, Device& dev, std::span<const FeatureName> names, const char* extra) {
    const char* type = device_type_name(f.transport.device_id());
    char interrupts[24];
    f.transport.describe_interrupts(interrupts, sizeof interrupts);
    char features[160];
    dev.describe_features(features, sizeof features, names);
    const bool packed = dev.queue_count() && dev.queue(0).packed();
    rtos::printk("%s: %s %s %s %s queue %u ring %s%s features %s\n", type ? type : "virtio", f.bus,
                 f.transport.is_legacy() ? "legacy" : "modern", f.location, interrupts,
                 dev.queue_count() ? dev.queue(0).size() : 0, packed ? "packed" : "split", extra,
                 features);
}

}  // namespace virtio
