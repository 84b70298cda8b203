#include <rtos/critical.hpp>
#include <rtos/message_queue.hpp>
#include <rtos/thread.hpp>

#include "scheduler.hpp"

namespace rtos {
namespace {

// A blocked sender's message and where it goes; found via wait_data.
struct PendingSend {
    const void* msg;
    bool urgent;
};

}  // namespace

MessageQueue::~MessageQueue() { destroy(); }

// The fast paths (no waiter, room or a message in the ring) stay short; the
// rest is out of line.
Status MessageQueue::put(const void* msg, bool urgent, Timeout timeout) {
    if (!msg) return Status::invalid;
    kernel::KernelLock lock;
    if (receivers_.empty() && (urgent ? ring_.push_front(msg) : ring_.push_back(msg)))
        return Status::ok;
    return put_slow(msg, urgent, timeout);
}

[[gnu::noinline]] Status MessageQueue::put_slow(const void* msg, bool urgent, Timeout timeout) {
    // A waiting receiver means the ring is empty: hand the message over.
    if (Thread* r = receivers_.front()) {
        __builtin_memcpy(reinterpret_cast<void*>(r->wait_data), msg, ring_.message_size());
        kernel::wake(r, Status::ok);
        kernel::reschedule();
        return Status::ok;
    }
    if (timeout.is_none() || in_isr()) return Status::overflow;
    PendingSend pending{msg, urgent};
    kernel::current()->wait_data = reinterpret_cast<uintptr_t>(&pending);
    return kernel::block_current(&senders_, timeout);
}

Status MessageQueue::get(void* msg, Timeout timeout) {
    if (!msg) return Status::invalid;
    kernel::KernelLock lock;
    if (senders_.empty() && ring_.pop_front(msg)) return Status::ok;
    return get_slow(msg, timeout);
}

[[gnu::noinline]] Status MessageQueue::get_slow(void* msg, Timeout timeout) {
    if (ring_.pop_front(msg)) {
        // Room now: the first waiting sender's message moves into the ring.
        if (Thread* s = senders_.front()) {
            auto* p = reinterpret_cast<PendingSend*>(s->wait_data);
            p->urgent ? ring_.push_front(p->msg) : ring_.push_back(p->msg);
            kernel::wake(s, Status::ok);
            kernel::reschedule();
        }
        return Status::ok;
    }
    if (timeout.is_none() || in_isr()) return Status::timeout;
    kernel::current()->wait_data = reinterpret_cast<uintptr_t>(msg);
    return kernel::block_current(&receivers_, timeout);
}

Status MessageQueue::send(const void* msg, Timeout t) { return put(msg, false, t); }
Status MessageQueue::send_urgent(const void* msg, Timeout t) { return put(msg, true, t); }
Status MessageQueue::receive(void* msg, Timeout t) { return get(msg, t); }
Status MessageQueue::send_from_isr(const void* msg) { return put(msg, false, Timeout::none()); }
Status MessageQueue::send_urgent_from_isr(const void* msg) {
    return put(msg, true, Timeout::none());
}
Status MessageQueue::receive_from_isr(void* msg) { return get(msg, Timeout::none()); }

void MessageQueue::destroy() {
    kernel::KernelLock lock;
    unsigned n = senders_.wake_all(Status::deleted) + receivers_.wake_all(Status::deleted);
    if (n) kernel::reschedule();
}

}  // namespace rtos
