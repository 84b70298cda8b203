// What the VirtIO core needs from the platform. The target implementation is
// hal_rtos.cpp (kernel heap); host tests link their own DMA arena.
// Logging goes through printk (<rtos/printk.hpp>), one line per event.
#pragma once

#include <cstddef>
#include <cstdint>

#include <rtos/printk.hpp>

namespace virtio::hal {

/// Zero-filled, physically contiguous memory the device may access, aligned
/// to `align` (a power of two). nullptr when out of memory. Thread context only.
void* dma_alloc(std::size_t size, std::size_t align);

/// Returns memory from dma_alloc (nullptr is ignored).
void dma_free(void* p);

/// The bus address the device uses for `p`: physical == virtual on every
/// platform we run on (the QEMU boards, the host tests). Inline: the ring
/// code translates every segment of every request.
inline std::uint64_t virt_to_phys(const void* p) {
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
}

}  // namespace virtio::hal
