// The host driver table behind driver_hook.hpp.
#include <cstdlib>

#include "driver_hook.hpp"

namespace {
constexpr std::size_t kMaxDrivers = 8;
virtio::DriverEntry driver_table[kMaxDrivers] = {};
std::size_t driver_count = 0;
}  // namespace

namespace host_drivers {

bool register_driver(const virtio::DriverEntry& entry) {
    if (driver_count == kMaxDrivers) std::abort();
    driver_table[driver_count++] = entry;
    return true;
}

bool probe(virtio::Transport& transport, std::uint64_t base) {
    for (const virtio::DriverEntry* d = virtio::drivers_begin(); d < virtio::drivers_end(); ++d) {
        if (d->device_id != transport.device_id()) continue;
        return d->probe(virtio::Found{transport, "mmio", base, 8, 0});
    }
    return false;
}

}  // namespace host_drivers

namespace virtio {
const DriverEntry* drivers_begin() { return driver_table; }
const DriverEntry* drivers_end() { return driver_table + driver_count; }
}  // namespace virtio
