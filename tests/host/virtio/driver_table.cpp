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
bool probe(virtio::Transport& transport, std::uint64_t base) {
    const virtio::DriverEntry* d = find(transport.device_id());
    return d != nullptr && d->probe(virtio::Found{transport, "mmio", base, 8, 0});
}
}  // namespace host_drivers

namespace virtio {

const DriverEntry* drivers_begin() { return table; }
const DriverEntry* drivers_end() { return table + count; }

void announce(const Found& f, Device& dev, const char* extra) {
    const char* type = device_type_name(f.transport.device_id());
    rtos::printk("%s: %s %s @%#llx irq %u queue %u features %#llx%s\n",
                 type ? type : "virtio", f.bus,
                 f.transport.is_legacy() ? "legacy" : "modern",
                 static_cast<unsigned long long>(f.address), f.irq,
                 dev.queue_count() ? dev.queue(0).size() : 0,
                 static_cast<unsigned long long>(dev.features()), extra);
}

}  // namespace virtio
