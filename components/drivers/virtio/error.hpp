// Error codes of the VirtIO core. Every failing call also logs one line that
// names the device, so the code only has to tell the caller what to do next.
#pragma once

#include <cstdint>

namespace virtio {

enum class Error : std::uint8_t {
    ok = 0,
    not_virtio,         ///< MagicValue is not "virt": nothing virtio at this address
    no_device,          ///< DeviceID 0: an empty virtio-mmio slot (not an error to report)
    unsupported,        ///< transport version unknown or not compiled in (Kconfig)
    features_refused,   ///< VERSION_1 missing, or FEATURES_OK not accepted by the device
    queue_unavailable,  ///< QueueNumMax is 0, or the queue index is beyond what we manage
    queue_in_use,       ///< the queue was already live (QueueReady / QueuePFN not 0)
    bad_layout,         ///< ring memory not representable for this transport
    invalid_argument,   ///< caller error: bad size, empty or oversized request
    no_memory,          ///< the DMA allocator failed
    no_space,           ///< not enough free descriptors now; retry after completions
    empty,              ///< nothing completed yet (pop_used)
    device_error,       ///< the device broke the ring protocol; the queue is now broken
    broken,             ///< the queue broke earlier; reset the device to recover
    config_unstable,    ///< ConfigGeneration kept changing while reading config
};

/// Short lowercase name for log lines ("no_space").
constexpr const char* error_name(Error e) {
    switch (e) {
    case Error::ok: return "ok";
    case Error::not_virtio: return "not_virtio";
    case Error::no_device: return "no_device";
    case Error::unsupported: return "unsupported";
    case Error::features_refused: return "features_refused";
    case Error::queue_unavailable: return "queue_unavailable";
    case Error::queue_in_use: return "queue_in_use";
    case Error::bad_layout: return "bad_layout";
    case Error::invalid_argument: return "invalid_argument";
    case Error::no_memory: return "no_memory";
    case Error::no_space: return "no_space";
    case Error::empty: return "empty";
    case Error::device_error: return "device_error";
    case Error::broken: return "broken";
    case Error::config_unstable: return "config_unstable";
    }
    return "?";
}

/// A value or an error; `value` is meaningful when `error == Error::ok`, and
/// where a function says so also alongside some errors.
template <typename T>
struct [[nodiscard]] Result {
    Error error;
    T value;

    constexpr bool ok() const { return error == Error::ok; }
};

}  // namespace virtio
