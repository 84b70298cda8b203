// What the portable file-system code (sector cache, FAT, VFS) needs from the
// system it runs on: a lock and memory. The target build takes the kernel's
// Mutex and heap; the host unit tests (RTOS_HOST_TEST) take std::mutex and
// malloc. Nothing else in components/fs/{fat,vfs,cache} names the kernel.
#pragma once

#include <cstddef>

#if defined(RTOS_HOST_TEST)
#include <cstdlib>
#include <mutex>
#else
#include <rtos/heap.hpp>
#include <rtos/mutex.hpp>
#endif

namespace rtos::fs {

/// A sleeping lock (threads block on it; never taken in interrupt context).
/// Not recursive by contract: code paths take each lock once.
class Lock {
public:
    constexpr Lock() = default;
    Lock(const Lock&) = delete;
    Lock& operator=(const Lock&) = delete;
#if defined(RTOS_HOST_TEST)
    void lock() { m_.lock(); }
    void unlock() { m_.unlock(); }

private:
    std::mutex m_;
#else
    void lock() { m_.lock(); }
    void unlock() { m_.unlock(); }

private:
    Mutex m_;
#endif
};

class Guard {
public:
    explicit Guard(Lock& l) : l_(l) { l_.lock(); }
    ~Guard() { l_.unlock(); }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

private:
    Lock& l_;
};

/// Zero-filled memory aligned to 64 bytes (DMA-friendly), or nullptr.
inline void* mem_alloc(std::size_t size) {
#if defined(RTOS_HOST_TEST)
    void* p = std::aligned_alloc(64, (size + 63) & ~std::size_t{63});
    if (p) __builtin_memset(p, 0, size);
    return p;
#else
    return heap::alloc_aligned(size, 64, true);
#endif
}

inline void mem_free(void* p) {
#if defined(RTOS_HOST_TEST)
    std::free(p);
#else
    if (p) heap::free(p);
#endif
}

}  // namespace rtos::fs
