// Services of the platform layer to drivers: the device tree QEMU handed
// over (discovery of virtio-mmio devices and the like).
#pragma once

#include "fdt/fdt.hpp"

namespace rtos::platform {

/// The boot device tree; !valid() when none was found.
const fdt::Tree& device_tree();

}  // namespace rtos::platform
