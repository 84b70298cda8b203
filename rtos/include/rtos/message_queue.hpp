// Message queues: fixed-size messages copied in and out of a ring buffer.
// A sender facing a full queue and a receiver facing an empty one can wait;
// messages are handed directly to a waiting receiver. send_urgent() puts a
// message at the front. MessageQueueOf<T, N> is the typed form.
#pragma once

#include <cstddef>
#include <cstdint>

#include "message_ring.hpp"
#include "types.hpp"
#include "wait_queue.hpp"

namespace rtos {

class MessageQueue {
public:
    /// `storage` holds capacity * msg_size bytes (see MessageQueueOf).
    constexpr MessageQueue(void* storage, std::size_t msg_size, std::size_t capacity)
        : ring_(static_cast<uint8_t*>(storage), msg_size, capacity) {}
    ~MessageQueue();
    MessageQueue(const MessageQueue&) = delete;
    MessageQueue& operator=(const MessageQueue&) = delete;

    Status send(const void* msg, Timeout timeout = Timeout::forever());
    Status send_urgent(const void* msg, Timeout timeout = Timeout::forever());
    Status receive(void* msg, Timeout timeout = Timeout::forever());
    /// Never wait: overflow when full / timeout when empty.
    Status send_from_isr(const void* msg);
    Status send_urgent_from_isr(const void* msg);
    Status receive_from_isr(void* msg);

    std::size_t count() const { return ring_.count(); }
    std::size_t capacity() const { return ring_.capacity(); }
    std::size_t message_size() const { return ring_.message_size(); }
    /// Wakes every waiter with Status::deleted.
    void destroy();

private:
    Status put(const void* msg, bool urgent, Timeout timeout);
    Status get(void* msg, Timeout timeout);
    // The paths with a waiter, a full or an empty ring (interrupts masked).
    Status put_slow(const void* msg, bool urgent, Timeout timeout);
    Status get_slow(void* msg, Timeout timeout);
    MessageRing ring_;
    WaitQueue senders_;
    WaitQueue receivers_;
};

/// Typed queue with its own storage: MessageQueueOf<Event, 16> q; q.send(ev);
template <typename T, std::size_t N>
class MessageQueueOf {
public:
    constexpr MessageQueueOf() : queue_(storage_, sizeof(T), N) {}
    Status send(const T& m, Timeout t = Timeout::forever()) { return queue_.send(&m, t); }
    Status send_urgent(const T& m, Timeout t = Timeout::forever()) {
        return queue_.send_urgent(&m, t);
    }
    Status receive(T& m, Timeout t = Timeout::forever()) { return queue_.receive(&m, t); }
    Status send_from_isr(const T& m) { return queue_.send_from_isr(&m); }
    Status receive_from_isr(T& m) { return queue_.receive_from_isr(&m); }
    std::size_t count() const { return queue_.count(); }
    MessageQueue& raw() { return queue_; }

private:
    alignas(T) uint8_t storage_[sizeof(T) * N];
    MessageQueue queue_;
};

/// A mailbox of machine words (pointers, small values).
template <std::size_t N>
class Mailbox {
public:
    constexpr Mailbox() : queue_(storage_, sizeof(uintptr_t), N) {}
    Status post(uintptr_t word, Timeout t = Timeout::forever()) { return queue_.send(&word, t); }
    Status post_urgent(uintptr_t word, Timeout t = Timeout::forever()) {
        return queue_.send_urgent(&word, t);
    }
    Status post_from_isr(uintptr_t word) { return queue_.send_from_isr(&word); }
    Status fetch(uintptr_t& word, Timeout t = Timeout::forever()) {
        return queue_.receive(&word, t);
    }
    std::size_t count() const { return queue_.count(); }

private:
    uintptr_t storage_[N];
    MessageQueue queue_;
};

}  // namespace rtos
