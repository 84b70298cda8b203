#include <rtos/critical.hpp>
#include <rtos/event_flags.hpp>
#include <rtos/thread.hpp>

#include "scheduler.hpp"

namespace rtos {
namespace {

// What a waiting thread asked for; lives on its stack, found via wait_data.
struct FlagWait {
    uint32_t mask;
    unsigned mode;
    uint32_t result;
};

bool satisfied(uint32_t flags, const FlagWait& w) {
    return (w.mode & EventFlags::all) ? (flags & w.mask) == w.mask : (flags & w.mask) != 0;
}

}  // namespace

EventFlags::~EventFlags() { destroy(); }

Status EventFlags::wait(uint32_t mask, unsigned mode, Timeout timeout, uint32_t* out) {
    if (mask == 0) return Status::invalid;
    kernel::KernelLock lock;
    FlagWait w{mask, mode, 0};
    if (satisfied(flags_, w)) {
        w.result = flags_;
        if (mode & clear_on_exit) flags_ = flags_ & ~mask;
        if (out) *out = w.result;
        return Status::ok;
    }
    if (timeout.is_none()) return Status::timeout;
    if (in_isr()) return Status::invalid;  // an interrupt handler cannot wait
    Thread* self = kernel::current();
    self->wait_data = reinterpret_cast<uintptr_t>(&w);
    Status s = kernel::block_current(&waiters_, timeout);
    if (s == Status::ok && out) *out = w.result;
    return s;
}

void EventFlags::set_locked(uint32_t bits) {
    flags_ = flags_ | bits;
    uint32_t consumed = 0;
    bool woke = false;
    waiters_.for_each([&](Thread* t) {
        auto* w = reinterpret_cast<FlagWait*>(t->wait_data);
        if (!satisfied(flags_, *w)) return;
        w->result = flags_;
        if (w->mode & clear_on_exit) consumed |= w->mask;
        kernel::wake(t, Status::ok);
        woke = true;
    });
    // Every waiter sees the flags as set; consumed bits clear afterwards.
    flags_ = flags_ & ~consumed;
    if (woke) kernel::reschedule();
}

void EventFlags::set(uint32_t bits) {
    kernel::KernelLock lock;
    set_locked(bits);
}

void EventFlags::set_from_isr(uint32_t bits) {
    kernel::KernelLock lock;
    set_locked(bits);
}

void EventFlags::clear(uint32_t bits) {
    kernel::KernelLock lock;
    flags_ = flags_ & ~bits;
}

void EventFlags::destroy() {
    kernel::KernelLock lock;
    if (waiters_.wake_all(Status::deleted)) kernel::reschedule();
}

}  // namespace rtos
