#include <rtos/condition_variable.hpp>
#include <rtos/critical.hpp>
#include <rtos/thread.hpp>

#include "scheduler.hpp"

namespace rtos {

ConditionVariable::~ConditionVariable() { destroy(); }

Status ConditionVariable::wait(Mutex& m, Timeout timeout) {
    if (in_isr()) return Status::invalid;
    Status s;
    {
        kernel::KernelLock lock;
        if (m.owner() != kernel::current() || m.recursion() != 1) return Status::invalid;
        if (timeout.is_none()) return Status::timeout;
        // Unlocking may wake a higher-priority thread; hold its switch back
        // until we are queued here, so a signal cannot slip in between.
        kernel::defer_switches_begin();
        m.unlock_locked();
        kernel::defer_switches_end();
        s = kernel::block_current(&waiters_, timeout);
    }
    m.lock();
    return s;
}

void ConditionVariable::signal() {
    kernel::KernelLock lock;
    if (waiters_.wake_one(Status::ok)) kernel::reschedule();
}

void ConditionVariable::broadcast() {
    kernel::KernelLock lock;
    if (waiters_.wake_all(Status::ok)) kernel::reschedule();
}

void ConditionVariable::destroy() {
    kernel::KernelLock lock;
    if (waiters_.wake_all(Status::deleted)) kernel::reschedule();
}

}  // namespace rtos
