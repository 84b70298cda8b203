// First-fit heap with boundary tags. Each block starts with a 32-byte header
// (keeps payloads 16-byte aligned); free blocks also carry a list node in
// their payload. The magic word encodes the block's address and state, so a
// pointer that was not handed out by alloc(), or one freed twice, is caught.
#include <rtos/critical.hpp>
#include <rtos/heap.hpp>
#include <rtos/list.hpp>
#include <rtos/panic.hpp>
#include <rtos/spinlock.hpp>
#include <rtos/string.hpp>

#include <cstdint>

namespace rtos::heap {
namespace {

struct Block {
    std::size_t size;       // whole block, header included; multiple of 16
    std::size_t prev_size;  // size of the physically previous block, 0 for the first
    uint64_t magic;
    uint64_t reserved;
    // Free blocks: a ListNode follows in the payload.
};
static_assert(sizeof(Block) == 32);

constexpr std::size_t kHeader = sizeof(Block);
constexpr std::size_t kGranule = 16;
constexpr std::size_t kMinBlock = kHeader + sizeof(ListNode) + 16;
constexpr uint64_t kUsedMagic = 0x55534544a110c8edull;
constexpr uint64_t kFreeMagic = 0x46524545f4eeb10cull;

// Everything below under heap_lock: a leaf of the lock order
// (rtos/spinlock.hpp); nothing is called while holding it but the panic of
// a corrupt heap.
SpinLock heap_lock;
uint8_t* heap_start = nullptr;
uint8_t* heap_end = nullptr;
ListNode free_list;
std::size_t used_bytes = 0;
std::size_t max_used_bytes = 0;
std::size_t live_allocations = 0;

uint64_t used_magic(const Block* b) { return kUsedMagic ^ reinterpret_cast<uintptr_t>(b); }
uint64_t free_magic(const Block* b) { return kFreeMagic ^ reinterpret_cast<uintptr_t>(b); }

ListNode* node_of(Block* b) {
    return reinterpret_cast<ListNode*>(reinterpret_cast<uint8_t*>(b) + kHeader);
}
Block* block_of_node(ListNode* n) {
    return reinterpret_cast<Block*>(reinterpret_cast<uint8_t*>(n) - kHeader);
}

Block* next_phys(Block* b) {
    auto* n = reinterpret_cast<uint8_t*>(b) + b->size;
    return n < heap_end ? reinterpret_cast<Block*>(n) : nullptr;
}

Block* prev_phys(Block* b) {
    return b->prev_size ? reinterpret_cast<Block*>(reinterpret_cast<uint8_t*>(b) - b->prev_size)
                        : nullptr;
}

void set_size(Block* b, std::size_t size) {
    b->size = size;
    if (Block* n = next_phys(b)) n->prev_size = size;
}

void mark_free(Block* b) {
    b->magic = free_magic(b);
    ListNode* n = node_of(b);
    n->prev = n->next = n;
    n->insert_before(free_list.next);  // LIFO: recently freed memory is warm
}

void unlink_free(Block* b) { node_of(b)->unlink(); }

std::size_t round_up(std::size_t v, std::size_t a) { return (v + a - 1) & ~(a - 1); }

// Splits b so that it keeps `size` bytes; the rest becomes a free block.
void split_tail(Block* b, std::size_t size) {
    if (b->size - size < kMinBlock) return;
    auto* rest = reinterpret_cast<Block*>(reinterpret_cast<uint8_t*>(b) + size);
    rest->size = b->size - size;
    rest->prev_size = size;
    if (Block* n = next_phys(rest)) n->prev_size = rest->size;
    b->size = size;
    mark_free(rest);
}

Block* coalesce(Block* b) {
    if (Block* n = next_phys(b); n && n->magic == free_magic(n)) {
        unlink_free(n);
        n->magic = 0;  // a stale pointer into the merged block is now foreign
        set_size(b, b->size + n->size);
    }
    if (Block* p = prev_phys(b); p && p->magic == free_magic(p)) {
        unlink_free(p);
        b->magic = 0;
        set_size(p, p->size + b->size);
        b = p;
    }
    return b;
}

}  // namespace

void init(void* start, std::size_t size) {
    auto s = round_up(reinterpret_cast<uintptr_t>(start), kGranule);
    auto e = (reinterpret_cast<uintptr_t>(start) + size) & ~(kGranule - 1);
    heap_start = reinterpret_cast<uint8_t*>(s);
    heap_end = reinterpret_cast<uint8_t*>(e);
    free_list.prev = free_list.next = &free_list;
    auto* b = reinterpret_cast<Block*>(heap_start);
    b->size = e - s;
    b->prev_size = 0;
    mark_free(b);
    used_bytes = max_used_bytes = live_allocations = 0;
}

namespace {
// Inlined into both entry points: with alloc()'s constant alignment the gap
// handling below folds away (every block starts kGranule-aligned).
[[gnu::always_inline]] inline void* alloc_impl(std::size_t size, std::size_t align, bool zero) {
    if (size == 0 || align == 0 || (align & (align - 1)) || size > (std::size_t{1} << 40))
        return nullptr;
    if (align < kGranule) align = kGranule;
    std::size_t payload = round_up(size, kGranule);
    void* result = nullptr;
    {
        SpinLockGuard lock(heap_lock);
        for (ListNode* n = free_list.next; n != &free_list; n = n->next) {
            Block* b = static_cast<Block*>(__builtin_assume_aligned(block_of_node(n), kGranule));
            auto start = reinterpret_cast<uintptr_t>(b);
            auto data = round_up(start + kHeader, align);
            // A gap in front must be large enough to stand as a free block.
            while (data - kHeader != start && data - kHeader - start < kMinBlock) data += align;
            if (data + payload > start + b->size) continue;
            unlink_free(b);
            if (data - kHeader != start) {
                auto* front = b;
                auto* nb = reinterpret_cast<Block*>(data - kHeader);
                std::size_t gap = data - kHeader - start;
                nb->size = front->size - gap;
                nb->prev_size = gap;
                if (Block* nx = next_phys(nb)) nx->prev_size = nb->size;
                front->size = gap;
                mark_free(front);
                b = nb;
            }
            split_tail(b, kHeader + payload);
            b->magic = used_magic(b);
            used_bytes += b->size;
            if (used_bytes > max_used_bytes) max_used_bytes = used_bytes;
            ++live_allocations;
            result = reinterpret_cast<void*>(data);
            break;
        }
    }
    if (result && zero) memset(result, 0, size);
    return result;
}

}  // namespace

void* alloc_aligned(std::size_t size, std::size_t align, bool zero) {
    return alloc_impl(size, align, zero);
}

void* alloc(std::size_t size) { return alloc_impl(size, kGranule, false); }

void free(void* p) {
    if (!p) return;
    auto* bytes = static_cast<uint8_t*>(p);
    if (bytes < heap_start + kHeader || bytes >= heap_end ||
        (reinterpret_cast<uintptr_t>(p) & (kGranule - 1)))
        panic("heap: free of foreign pointer %p", p);
    auto* b = reinterpret_cast<Block*>(bytes - kHeader);
    SpinLockGuard lock(heap_lock);
    if (b->magic == free_magic(b)) panic("heap: double free of %p", p);
    if (b->magic != used_magic(b)) panic("heap: free of foreign or corrupted pointer %p", p);
    used_bytes -= b->size;
    --live_allocations;
    mark_free(coalesce(b));
}

Stats stats() {
    SpinLockGuard lock(heap_lock);
    Stats s{};
    s.total = static_cast<std::size_t>(heap_end - heap_start);
    s.used = used_bytes;
    s.max_used = max_used_bytes;
    s.allocations = live_allocations;
    for (ListNode* n = free_list.next; n != &free_list; n = n->next) {
        ++s.free_fragments;
        std::size_t avail = block_of_node(n)->size - kHeader;
        if (avail > s.largest_free) s.largest_free = avail;
    }
    return s;
}

}  // namespace rtos::heap
