// The kernel heap: first fit over an address-ordered free list, neighbours
// coalesced, every block tagged so a double free or a foreign pointer is a
// clean panic. Thread-safe; not for use in interrupt handlers.
#pragma once

#include <cstddef>

namespace rtos::heap {

struct Stats {
    std::size_t total;           ///< bytes managed (payload capacity when empty)
    std::size_t used;            ///< bytes in allocated blocks (headers included)
    std::size_t max_used;        ///< high-water mark of `used`
    std::size_t free_fragments;  ///< number of free blocks
    std::size_t largest_free;    ///< largest allocatable request
    std::size_t allocations;     ///< live allocations
};

/// Hands [start, start+size) to the heap. Called once at boot.
void init(void* start, std::size_t size);

/// 16-byte aligned memory or nullptr.
void* alloc(std::size_t size);
/// `align` must be a power of two; the memory is zero-filled when `zero`.
void* alloc_aligned(std::size_t size, std::size_t align, bool zero = true);
void free(void* p);

Stats stats();

}  // namespace rtos::heap
