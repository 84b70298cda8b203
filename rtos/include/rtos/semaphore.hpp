// Counting and binary semaphores.
#pragma once

#include <cstdint>

#include "types.hpp"
#include "wait_queue.hpp"

namespace rtos {

class Semaphore {
public:
    /// `max` bounds the count (give() past it returns Status::overflow).
    constexpr explicit Semaphore(uint32_t initial = 0, uint32_t max = UINT32_MAX)
        : count_(initial), max_(max) {}
    /// Wakes any waiter with Status::deleted (destroy()); nothing to do, and
    /// no lock taken, when none waits (a semaphore on a caller's stack).
    ~Semaphore() {
        if (!waiters_.empty()) destroy();
    }
    Semaphore(const Semaphore&) = delete;
    Semaphore& operator=(const Semaphore&) = delete;

    /// Takes one unit, waiting up to `timeout`: ok, timeout or deleted.
    Status take(Timeout timeout = Timeout::forever());
    /// Gives one unit (wakes the highest-priority waiter). Thread context.
    Status give();
    /// Same as give(), callable from an interrupt handler.
    Status give_from_isr();
    /// Wakes every waiter with Status::deleted; the semaphore is unusable after.
    void destroy();

    uint32_t count() const { return count_; }

    /// Kernel-internal: give() for a caller holding the kernel lock.
    Status give_locked();

private:
    volatile uint32_t count_;
    uint32_t max_;
    WaitQueue waiters_;
};

/// A semaphore whose count never exceeds one.
class BinarySemaphore : public Semaphore {
public:
    constexpr explicit BinarySemaphore(bool given = false) : Semaphore(given ? 1 : 0, 1) {}
};

}  // namespace rtos
