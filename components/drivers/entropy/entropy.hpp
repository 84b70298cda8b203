// A source of random bytes for applications and stacks (lwIP's LWIP_RAND):
// implemented by the virtio-rng driver (components/drivers/virtio/rng/).
#pragma once

#include <cstddef>

#include <rtos/types.hpp>

namespace rtos::entropy {

/// True once an entropy source (virtio-rng) is attached.
bool available();

/// Fills buf with n random bytes from the source, blocking up to `timeout`.
/// Returns the number of bytes written (n on success) or a negative error
/// (an rtos::Status: timeout with nothing read, unsupported without a
/// source, io_error when the device failed). Bytes come in the device's
/// order; none is discarded or handed out twice.
long read(void* buf, std::size_t n, rtos::Timeout timeout);

}  // namespace rtos::entropy
