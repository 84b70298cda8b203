#include <rtos/critical.hpp>
#include <rtos/semaphore.hpp>

#include "scheduler.hpp"

namespace rtos {

Status Semaphore::take(Timeout timeout) {
    kernel::KernelLock lock;
    if (count_ > 0) {
        count_ = count_ - 1;
        return Status::ok;
    }
    if (timeout.is_none()) return Status::timeout;
    if (in_isr()) return Status::invalid;  // an interrupt handler cannot wait
    // give() hands the unit straight to the woken waiter (count stays 0).
    return kernel::block_current(&waiters_, timeout);
}

Status Semaphore::give_locked() {
    if (!waiters_.empty()) {
        waiters_.wake_one(Status::ok);
        kernel::reschedule();
        return Status::ok;
    }
    if (count_ >= max_) return Status::overflow;
    count_ = count_ + 1;
    return Status::ok;
}

Status Semaphore::give() {
    kernel::KernelLock lock;
    return give_locked();
}

Status Semaphore::give_from_isr() {
    kernel::KernelLock lock;
    return give_locked();
}

void Semaphore::destroy() {
    kernel::KernelLock lock;
    if (waiters_.wake_all(Status::deleted)) kernel::reschedule();
}

}  // namespace rtos
