#include "block_device.hpp"

#include <rtos/spinlock.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

namespace rtos::block {
namespace {

// Devices are only ever appended, by the drivers' probes in the start-up
// hooks, never removed: add() takes registry_lock (lock order 1,
// docs/smp.md); readers (the shell, applications, file systems) walk the
// list without it, after the start-up hooks that add.
List<BlockDevice, &BlockDevice::registry_node> registry;
SpinLock registry_lock;

}  // namespace

Status BlockDevice::check(uint64_t lba, uint32_t count, const void* buf) const {
    if (!buf || count == 0) return Status::invalid;
    if (lba >= info_.sectors || count > info_.sectors - lba) return Status::out_of_range;
    return Status::ok;
}

// inline: the per-request path of run() and submit().
inline Status BlockDevice::check(const BlockRequest& r) const {
    switch (r.op) {
    case BlockRequest::Op::read: return check(r.lba, r.count, r.buf);
    case BlockRequest::Op::write: {
        Status s = check(r.lba, r.count, r.buf);
        return s == Status::ok && info_.read_only ? Status::unsupported : s;
    }
    case BlockRequest::Op::flush: return Status::ok;
    }
    return Status::invalid;
}

Status BlockDevice::submit(std::span<BlockRequest* const> requests) {
    Status first = Status::ok;
    bool any = false;
    for (BlockRequest* r : requests) {
        r->done_ = BlockRequest::kPending;
        Status s = check(*r);
        // Nothing to make durable without a write cache: done at once.
        if (s == Status::ok && r->op == BlockRequest::Op::flush && !info_.flush) {
            complete(*r, Status::ok);
            continue;
        }
        if (s != Status::ok) {
            if (first == Status::ok) first = s;
            complete(*r, s);
            continue;
        }
        any = true;
    }
    if (any) do_submit(requests);
    return first;
}

Status BlockDevice::wait(BlockRequest& r) {
    // Done before anyone waited: its completion left a token to collect, or
    // the next wait on this object would wake for it. A polled request
    // always goes to the driver, which ends the polling.
    if (r.done() && !r.polling) r.completed.take(Timeout::none());
    else do_wait(r);
    settle(r);
    return r.status;
}

// With several CPUs a waiter may see done() while the interrupt handler
// that completed the request, on another CPU, is still giving its
// semaphore: the request (often on the waiter's stack) must outlive that.
// A few instructions, unless the completer is a thread this one preempted
// (a give under a spinlock switches at once: docs/smp.md): then sleep.
void BlockDevice::settle(const BlockRequest& r) {
    for (unsigned spins = 0; __atomic_load_n(&r.done_, __ATOMIC_ACQUIRE) == BlockRequest::kDone;
         ++spins)
        if (spins >= 1000) Thread::sleep(1);
}

// The blocking calls: one request on the caller's stack, checked here once,
// handed straight to the driver (the same do_submit() as a batch of one).
Status BlockDevice::run(BlockRequest::Op op, uint64_t lba, uint32_t count, void* buf) {
    BlockRequest r;
    r.op = op;
    r.lba = lba;
    r.count = count;
    r.buf = buf;
    const Status s = check(r);
    if (s != Status::ok) return s;
    // Nothing to make durable without a write cache (as submit()).
    if (op == BlockRequest::Op::flush && !info_.flush) return Status::ok;
    do_submit_one(r);
    // Done already: the token its completion left dies with r, no take.
    if (!r.done()) do_wait(r);
    settle(r);
    return r.status;
}

Status BlockDevice::read(uint64_t lba, uint32_t count, void* buf) {
    return run(BlockRequest::Op::read, lba, count, buf);
}

Status BlockDevice::write(uint64_t lba, uint32_t count, const void* buf) {
    return run(BlockRequest::Op::write, lba, count, const_cast<void*>(buf));
}

Status BlockDevice::flush() { return run(BlockRequest::Op::flush, 0, 0, nullptr); }

Status BlockDevice::get_id(char* buf, std::size_t size) {
    if (!buf || size == 0) return Status::invalid;
    return do_get_id(buf, size);
}

void BlockDevice::add(BlockDevice* dev) {
    SpinLockGuard g(registry_lock);
    registry.push_back(dev);
}

BlockDevice* BlockDevice::find(const char* name) {
    for (BlockDevice* d = registry.front(); d; d = registry.next(d))
        if (!strcmp(d->name(), name)) return d;
    return nullptr;
}

BlockDevice* BlockDevice::first() { return registry.front(); }
BlockDevice* BlockDevice::next() const { return registry.next(this); }

}  // namespace rtos::block
