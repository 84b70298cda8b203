#include <rtos/critical.hpp>
#include <rtos/memory_pool.hpp>
#include <rtos/panic.hpp>
#include <rtos/thread.hpp>

#include "scheduler.hpp"

namespace rtos {

MemoryPool::MemoryPool(void* storage, std::size_t block_size, std::size_t count, uint8_t* in_use)
    : base_(static_cast<uint8_t*>(storage)),
      block_size_(block_size),
      count_(count),
      in_use_(in_use) {
    RTOS_ASSERT(block_size >= sizeof(void*) && block_size % sizeof(void*) == 0);
    for (std::size_t i = count; i-- > 0;) {
        void* b = base_ + i * block_size_;
        *static_cast<void**>(b) = free_list_;
        free_list_ = b;
        in_use_[i / 8] &= static_cast<uint8_t>(~(1u << (i % 8)));
    }
    free_count_ = count;
}

MemoryPool::~MemoryPool() {
    kernel::KernelLock lock;
    if (waiters_.wake_all(Status::deleted)) kernel::reschedule();
}

std::size_t MemoryPool::index_of(void* block) const {
    auto* p = static_cast<uint8_t*>(block);
    if (p < base_ || p >= base_ + count_ * block_size_ ||
        static_cast<std::size_t>(p - base_) % block_size_)
        panic("memory pool %p: free of foreign pointer %p", static_cast<const void*>(this), block);
    return static_cast<std::size_t>(p - base_) / block_size_;
}

void* MemoryPool::alloc(Timeout timeout) {
    kernel::KernelLock lock;
    if (!free_list_) {
        if (timeout.is_none() || in_isr()) return nullptr;
        // free() hands its block straight to us through wait_data.
        Thread* self = kernel::current();
        self->wait_data = 0;
        if (kernel::block_current(&waiters_, timeout) != Status::ok) return nullptr;
        return reinterpret_cast<void*>(self->wait_data);
    }
    void* b = free_list_;
    free_list_ = *static_cast<void**>(b);
    --free_count_;
    std::size_t i = index_of(b);
    in_use_[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
    return b;
}

void MemoryPool::free(void* block) {
    if (!block) return;
    kernel::KernelLock lock;
    std::size_t i = index_of(block);
    if (!(in_use_[i / 8] & (1u << (i % 8))))
        panic("memory pool %p: double free of %p", static_cast<const void*>(this), block);
    if (Thread* t = waiters_.front()) {  // stays in use, now owned by the waiter
        t->wait_data = reinterpret_cast<uintptr_t>(block);
        kernel::wake(t, Status::ok);
        kernel::reschedule();
        return;
    }
    in_use_[i / 8] &= static_cast<uint8_t>(~(1u << (i % 8)));
    *static_cast<void**>(block) = free_list_;
    free_list_ = block;
    ++free_count_;
}

}  // namespace rtos
