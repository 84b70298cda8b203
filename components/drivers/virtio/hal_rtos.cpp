// The VirtIO HAL on the RTOS: DMA memory from the kernel heap.
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

}  // namespace virtio::hal
