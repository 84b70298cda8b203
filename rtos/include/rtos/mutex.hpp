// Recursive mutexes with priority inheritance. A thread blocked on a mutex
// lends its priority to the owner, and on along the chain when that owner is
// itself blocked on another mutex (A waits on B waits on C). Ownership is
// handed directly to the highest-priority waiter on unlock.
#pragma once

#include <cstdint>

#include "list.hpp"
#include "types.hpp"
#include "wait_queue.hpp"

namespace rtos {

class Thread;

class Mutex {
public:
    constexpr Mutex() = default;
    ~Mutex();
    Mutex(const Mutex&) = delete;
    Mutex& operator=(const Mutex&) = delete;

    /// ok, timeout or deleted. Recursive: the owner may lock again.
    Status lock(Timeout timeout = Timeout::forever());
    Status try_lock() { return lock(Timeout::none()); }
    /// not_owner if the caller does not hold the mutex.
    Status unlock();
    /// Wakes every waiter with Status::deleted.
    void destroy();

    Thread* owner() const { return owner_; }
    unsigned recursion() const { return depth_; }

    // Kernel-internal.
    /// Recomputes t's effective priority from its base and the waiters of
    /// the mutexes it holds, then follows the chain of owners t is blocked on.
    static void update_inherited_priority(Thread* t);
    /// Releases every mutex held by an exiting thread.
    static void release_all_owned_by(Thread* t);
    /// unlock() for a caller holding the kernel lock (condition variables).
    Status unlock_locked();

    ListNode owner_node;  ///< in the owner's Thread::owned_mutexes

private:
    void hand_over();
    Status unlock_body();
    Thread* owner_ = nullptr;
    unsigned depth_ = 0;
    WaitQueue waiters_;
};

/// RAII lock: `LockGuard g(m);`
class LockGuard {
public:
    explicit LockGuard(Mutex& m) : m_(m) { m_.lock(); }
    ~LockGuard() { m_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

private:
    Mutex& m_;
};

}  // namespace rtos
