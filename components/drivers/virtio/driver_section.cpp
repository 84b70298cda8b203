// The target's driver table: the VIRTIO_DRIVER entries the linker script
// gathers between these symbols (host tests link their own table instead).
#include "drivers/virtio/driver.hpp"

extern "C" const virtio::DriverEntry __virtio_drivers_start[];
extern "C" const virtio::DriverEntry __virtio_drivers_end[];

namespace virtio {
const DriverEntry* drivers_begin() { return __virtio_drivers_start; }
const DriverEntry* drivers_end() { return __virtio_drivers_end; }
}  // namespace virtio
