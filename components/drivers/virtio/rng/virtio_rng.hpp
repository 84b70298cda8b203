// virtio-rng specifics beyond the generic entropy interface
// (drivers/entropy/entropy.hpp), for diagnostics.
#pragma once

#include <cstddef>
#include <cstdint>

#include <rtos/types.hpp>

namespace virtio {

/// Bytes the entropy source has handed to readers since boot: the offset in
/// the device's stream of the next byte read (for the `random` command).
std::uint64_t rng_bytes_delivered();

/// rtos::entropy::read() that also gives the stream offset of its first
/// byte (reads from several threads put back in order: `random -t`).
long rng_read_at(void* buf, std::size_t n, rtos::Timeout timeout, std::uint64_t& offset);

}  // namespace virtio
