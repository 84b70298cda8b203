// The ring buffer under MessageQueue: fixed-size slots, push at either end,
// pop from the front. No locking (the queue holds the lock); host-tested.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtos {

class MessageRing {
public:
    constexpr MessageRing(uint8_t* storage, std::size_t msg_size, std::size_t capacity)
        : buf_(storage), msg_size_(msg_size), capacity_(capacity) {}

    bool empty() const { return count_ == 0; }
    bool full() const { return count_ == capacity_; }
    std::size_t count() const { return count_; }
    std::size_t capacity() const { return capacity_; }
    std::size_t message_size() const { return msg_size_; }

    /// False when full.
    bool push_back(const void* msg) {
        if (full()) return false;
        copy_in(slot(wrap(head_ + count_)), msg);
        ++count_;
        return true;
    }
    /// False when full. The message becomes the next one popped.
    bool push_front(const void* msg) {
        if (full()) return false;
        head_ = (head_ == 0 ? capacity_ : head_) - 1;
        copy_in(slot(head_), msg);
        ++count_;
        return true;
    }
    /// False when empty.
    bool pop_front(void* out) {
        if (empty()) return false;
        copy_out(out, slot(head_));
        head_ = wrap(head_ + 1);
        --count_;
        return true;
    }

private:
    // i < 2 * capacity: one compare instead of a division.
    std::size_t wrap(std::size_t i) const { return i >= capacity_ ? i - capacity_ : i; }
    uint8_t* slot(std::size_t i) const { return buf_ + i * msg_size_; }
    void copy_in(uint8_t* dst, const void* src) const { __builtin_memcpy(dst, src, msg_size_); }
    void copy_out(void* dst, const uint8_t* src) const { __builtin_memcpy(dst, src, msg_size_); }

    uint8_t* buf_;
    std::size_t msg_size_;
    std::size_t capacity_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
};

}  // namespace rtos
