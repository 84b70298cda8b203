// Threads blocked on a kernel object, highest priority first (FIFO among
// equals). Every blocking object (semaphore, mutex, queue, ...) owns one.
// The list links Thread::sched_node; it is kept as a bare ListNode head so
// Thread (which itself owns a WaitQueue for join) can embed it.
#pragma once

#include "list.hpp"
#include "types.hpp"

namespace rtos {

class Thread;

class WaitQueue {
public:
    constexpr WaitQueue() = default;
    WaitQueue(const WaitQueue&) = delete;
    WaitQueue& operator=(const WaitQueue&) = delete;

    bool empty() const { return !head_.linked(); }
    /// Highest-priority waiter, or nullptr.
    Thread* front() const;

    // Kernel-internal (caller holds IrqLock).
    void insert(Thread* t);
    void remove(Thread* t);
    /// Re-sorts t after its priority changed.
    void reposition(Thread* t);
    /// Wakes the first waiter with `status`; returns it (or nullptr).
    Thread* wake_one(Status status);
    /// Wakes every waiter with `status`; returns how many.
    unsigned wake_all(Status status);

    template <typename F>
    void for_each(F f) const {
        for (ListNode* p = head_.next; p != &head_;) {
            ListNode* n = p->next;
            f(thread_of(p));
            p = n;
        }
    }

private:
    static Thread* thread_of(ListNode* node);
    mutable ListNode head_;
};

}  // namespace rtos
