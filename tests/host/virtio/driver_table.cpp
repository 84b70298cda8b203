// The host driver table of driver_table.hpp (drivers_begin()/end(); the boot
// line and bind_driver() are the target's own driver.cpp).
#include "driver_table.hpp"

#include <cstdio>
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
    char location[24];
    std::snprintf(location, sizeof(location), "@%#llx", static_cast<unsigned long long>(base));
    transport.set_interrupt_line(8);
    return d != nullptr && d->probe(virtio::Found{transport, "mmio", base, 0, location});
}
}  // namespace host_drivers

namespace virtio {
const DriverEntry* drivers_begin() { return table; }
const DriverEntry* drivers_end() { return table + count; }
}  // namespace virtio
