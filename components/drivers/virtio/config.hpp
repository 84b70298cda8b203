// Kconfig choices of components/drivers/virtio/Kconfig as C++ constants, with
// the checks Kconfig itself cannot express. Host tests define the CONFIG_
// macros on their compile line instead of using the generated header.
#pragma once

#include <cstdint>

#if !defined(RTOS_HOST_TEST)
#include <rtos/config.hpp>
#endif

#include "drivers/virtio/spec.hpp"

#if !defined(CONFIG_VIRTIO_LEGACY) && !defined(CONFIG_VIRTIO_MODERN)
#error "VirtIO needs CONFIG_VIRTIO_LEGACY or CONFIG_VIRTIO_MODERN (or both); both are off"
#endif

namespace virtio::config {

#if defined(CONFIG_VIRTIO_LEGACY)
inline constexpr bool legacy = true;
#else
inline constexpr bool legacy = false;
#endif

#if defined(CONFIG_VIRTIO_MODERN)
inline constexpr bool modern = true;
#else
inline constexpr bool modern = false;
#endif

#if defined(CONFIG_VIRTIO_EVENT_IDX)
inline constexpr bool event_idx = true;
#else
inline constexpr bool event_idx = false;
#endif

#if defined(CONFIG_VIRTIO_INDIRECT_DESC)
inline constexpr bool indirect_desc = true;
#else
inline constexpr bool indirect_desc = false;
#endif

#if defined(CONFIG_VIRTIO_RING_PACKED)
inline constexpr bool ring_packed = true;
#else
inline constexpr bool ring_packed = false;
#endif

// Per-device queue sizes: Kconfig enforces the range, C++ the power of two.
#define VIRTIO_QUEUE_SIZE_CHECK(sym)                                         \
    static_assert(sym >= 2 && sym <= 1024 && ::virtio::is_power_of_two(sym), \
                  #sym " must be a power of two in 2..1024")

#if defined(CONFIG_VIRTIO_BLK)
VIRTIO_QUEUE_SIZE_CHECK(CONFIG_VIRTIO_BLK_QUEUE_SIZE);
inline constexpr std::uint16_t blk_queue_size = CONFIG_VIRTIO_BLK_QUEUE_SIZE;
#endif
#if defined(CONFIG_VIRTIO_NET)
VIRTIO_QUEUE_SIZE_CHECK(CONFIG_VIRTIO_NET_QUEUE_SIZE);
inline constexpr std::uint16_t net_queue_size = CONFIG_VIRTIO_NET_QUEUE_SIZE;
#endif
#if defined(CONFIG_VIRTIO_CONSOLE)
VIRTIO_QUEUE_SIZE_CHECK(CONFIG_VIRTIO_CONSOLE_QUEUE_SIZE);
inline constexpr std::uint16_t console_queue_size = CONFIG_VIRTIO_CONSOLE_QUEUE_SIZE;
#endif
#if defined(CONFIG_VIRTIO_RNG)
VIRTIO_QUEUE_SIZE_CHECK(CONFIG_VIRTIO_RNG_QUEUE_SIZE);
inline constexpr std::uint16_t rng_queue_size = CONFIG_VIRTIO_RNG_QUEUE_SIZE;
#endif
#if defined(CONFIG_VIRTIO_INPUT)
VIRTIO_QUEUE_SIZE_CHECK(CONFIG_VIRTIO_INPUT_QUEUE_SIZE);
inline constexpr std::uint16_t input_queue_size = CONFIG_VIRTIO_INPUT_QUEUE_SIZE;
#endif
#if defined(CONFIG_VIRTIO_GPU)
VIRTIO_QUEUE_SIZE_CHECK(CONFIG_VIRTIO_GPU_QUEUE_SIZE);
inline constexpr std::uint16_t gpu_queue_size = CONFIG_VIRTIO_GPU_QUEUE_SIZE;
#endif

#undef VIRTIO_QUEUE_SIZE_CHECK

}  // namespace virtio::config
