// virtio-rng specifics beyond the generic entropy interface
// (drivers/entropy/entropy.hpp), for diagnostics.
#pragma once

#include <cstdint>

namespace virtio {

/// Bytes the entropy source has handed to readers since boot: the offset in
/// the device's stream of the next byte read (for the `random` command).
std::uint64_t rng_bytes_delivered();

}  // namespace virtio
