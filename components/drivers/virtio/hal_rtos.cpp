// The VirtIO HAL on the RTOS: kernel heap memory, physical == virtual.
#include "drivers/virtio/hal.hpp"

#include <rtos/heap.hpp>

namespace virtio::hal {

void* dma_alloc(std::size_t size, std::size_t align) {
    // The heap zero-fills on request; the rings rely on starting at zero.
    return rtos::heap::alloc_aligned(size, align, true);
}

void dma_free(void* p) {
    if (p != nullptr) rtos::heap::free(p);
}

std::uint64_t virt_to_phys(const void* p) {
    return static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(p));
}

}  // namespace virtio::hal
