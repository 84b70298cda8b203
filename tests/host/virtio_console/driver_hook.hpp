// Forced into the driver sources under test (and only there) with -include,
// after the Kconfig variant header: VIRTIO_DRIVER() records the entry in a
// table the test owns (env.cpp) instead of a linker section, as
// tests/host/virtio_blk/driver_hook.hpp explains.
#pragma once

#include "drivers/virtio/driver.hpp"

namespace console_test {
/// Appends `entry` to the host driver table; returns true.
bool register_driver(const virtio::DriverEntry& entry);
}  // namespace console_test

#undef VIRTIO_DRIVER
#define VIRTIO_DRIVER(ident, device_id, probe_fn)                                    \
    [[maybe_unused]] static const bool virtio_driver_##ident =                       \
        ::console_test::register_driver(::virtio::DriverEntry{device_id, #ident, probe_fn})
