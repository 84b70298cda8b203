// The host driver table of driver_table.hpp, and virtio::announce() with the
// target's boot-line format.
#include "driver_table.hpp"

#include <cstdlib>

#include <rtos/printk.hpp>

namespace {
constexpr std::size_t kMaxDrivers = 8;
virtio::DriverEntry table[kMaxDrivers] = {};
std::size_t count = 0;
}  // namespace

namespace host_drivers {
bool register_driver(const virtio::DriverEntry& entry) {
    if (count == kMaxDrivers) std::abort();
    table[count++] = entry;
    return true;
}
const virtio::DriverEntry* find(std::uint32_t device_id) {
    for (std::size_t i = 0; i < count; ++i)
        if (table[i].device_id == device_id) return &table[i];
    return nullptr;
}
}  // namespace host_drivers

namespace virtio {
namespace {
const char* type_name(std::uint32_t id) {
    switch (id) {
    case VIRTIO_ID_NET: return "net";
    case VIRTIO_ID_BLOCK: return "blk";
    case VIRTIO_ID_CONSOLE: return "console";
    case VIRTIO_ID_ENTROPY: return "rng";
    default: return "dev";
    }
}
}  // namespace

const DriverEntry* drivers_begin() { return table; }
const DriverEntry* drivers_end() { return table + count; }

void announce(const Found& f, Device& dev, const char* extra) {
    rtos::printk("virtio-%s: %s %s @%#llx irq %u queue %u features %#llx%s\n",
                 type_name(f.transport.device_id()), f.bus,
                 f.transport.is_legacy() ? "legacy" : "modern",
                 static_cast<unsigned long long>(f.address), f.irq,
                 dev.queue_count() ? dev.queue(0).size() : 0,
                 static_cast<unsigned long long>(dev.features()), extra);
}

}  // namespace virtio
