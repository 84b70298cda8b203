// Fixed-block memory pools: O(1) allocation of equal-size blocks with a
// timeout when empty. A pointer from elsewhere, or freed twice, panics.
#pragma once

#include <cstddef>
#include <cstdint>

#include "types.hpp"
#include "wait_queue.hpp"

namespace rtos {

class MemoryPool {
public:
    /// `storage`: count * block_size bytes, block_size a multiple of
    /// sizeof(void*); `in_use`: (count + 7) / 8 bytes of bookkeeping.
    MemoryPool(void* storage, std::size_t block_size, std::size_t count, uint8_t* in_use);
    ~MemoryPool();
    MemoryPool(const MemoryPool&) = delete;
    MemoryPool& operator=(const MemoryPool&) = delete;

    /// A block, or nullptr after `timeout`.
    void* alloc(Timeout timeout = Timeout::none());
    void free(void* block);
    std::size_t available() const { return free_count_; }
    std::size_t capacity() const { return count_; }
    std::size_t block_size() const { return block_size_; }

private:
    std::size_t index_of(void* block) const;
    uint8_t* base_;
    std::size_t block_size_;
    std::size_t count_;
    uint8_t* in_use_;
    void* free_list_ = nullptr;
    std::size_t free_count_ = 0;
    WaitQueue waiters_;
};

template <std::size_t BlockSize, std::size_t Count>
class StaticMemoryPool : public MemoryPool {
    static constexpr std::size_t kBlock =
        (BlockSize + sizeof(void*) - 1) / sizeof(void*) * sizeof(void*);

public:
    StaticMemoryPool() : MemoryPool(storage_, kBlock, Count, bits_) {}

private:
    alignas(16) uint8_t storage_[kBlock * Count];
    uint8_t bits_[(Count + 7) / 8] = {};
};

}  // namespace rtos
