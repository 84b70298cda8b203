// Condition variables over Mutex: wait() releases the mutex and blocks in
// one step (no lost wake-up), and holds the mutex again when it returns.
#pragma once

#include "mutex.hpp"
#include "types.hpp"
#include "wait_queue.hpp"

namespace rtos {

class ConditionVariable {
public:
    constexpr ConditionVariable() = default;
    ~ConditionVariable();
    ConditionVariable(const ConditionVariable&) = delete;
    ConditionVariable& operator=(const ConditionVariable&) = delete;

    /// The caller must hold `m` exactly once (not recursively): invalid
    /// otherwise. Returns ok when signalled, timeout or deleted; in every
    /// case the mutex is held again on return.
    Status wait(Mutex& m, Timeout timeout = Timeout::forever());
    /// Wakes the highest-priority waiter.
    void signal();
    void broadcast();
    void destroy();

private:
    WaitQueue waiters_;
};

}  // namespace rtos
