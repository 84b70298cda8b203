// The DMA arena of the host tests: virtio::hal on the host (see hal_host.hpp).
// Blocks come from a mapping below 4 GiB (a legacy QueuePFN is 32 bits of
// 4 KiB pages), each fenced by poisoned redzones and never reused, so
// AddressSanitizer reports any device or driver access outside a live block.
#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "drivers/virtio/hal.hpp"
#include "hal_host.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace {

constexpr std::size_t kArenaSize = std::size_t{256} << 20;
constexpr std::size_t kRedzone = 64;

struct Arena {
    unsigned char* base = nullptr;
    std::size_t used = 0;
    std::map<void*, std::size_t> live;
    long allocations_left = -1;
};

Arena& arena() {
    static Arena a;
    if (a.base == nullptr) {
        // Low addresses, so ring memory has a 32-bit page number.
        for (std::uintptr_t hint = 0x20000000; hint < 0xc0000000 && a.base == nullptr;
             hint += 0x10000000) {
            void* p =
                mmap(reinterpret_cast<void*>(hint), kArenaSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
            if (p != MAP_FAILED) a.base = static_cast<unsigned char*>(p);
        }
        if (a.base == nullptr) {
            std::fprintf(stderr, "hal_host: cannot map the DMA arena below 4 GiB\n");
            std::abort();
        }
        POISON(a.base, kArenaSize);
    }
    return a;
}

}  // namespace

namespace virtio::hal {

void* dma_alloc(std::size_t size, std::size_t align) {
    Arena& a = arena();
    if (a.allocations_left == 0) return nullptr;
    if (a.allocations_left > 0) --a.allocations_left;
    if (size == 0 || align == 0 || (align & (align - 1)) != 0) std::abort();
    const std::size_t start = (a.used + kRedzone + align - 1) & ~(align - 1);
    if (start + size + kRedzone > kArenaSize) return nullptr;
    a.used = start + size;
    void* p = a.base + start;
    UNPOISON(p, size);
    std::memset(p, 0, size);
    a.live[p] = size;
    return p;
}

void dma_free(void* p) {
    if (p == nullptr) return;
    Arena& a = arena();
    auto it = a.live.find(p);
    if (it == a.live.end()) {
        std::fprintf(stderr, "hal_host: dma_free of a pointer not from dma_alloc: %p\n", p);
        std::abort();
    }
    POISON(p, it->second);  // never reused: later accesses are use-after-free reports
    a.live.erase(it);
}

}  // namespace virtio::hal

namespace host_hal {

std::size_t live_allocations() { return arena().live.size(); }

void fail_allocations_after(long n) { arena().allocations_left = n; }

void rewind_arena() {
    Arena& a = arena();
    POISON(a.base, a.used);
    a.used = 0;
    a.live.clear();
}

}  // namespace host_hal
