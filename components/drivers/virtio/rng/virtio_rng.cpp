// virtio-rng (5.4 Entropy Device): one request queue of device-writable
// buffers, behind the generic entropy interface (drivers/entropy/entropy.hpp).
//
// Bytes are handed out in the order the device delivered them and none is
// fetched ahead of a reader: a request asks the device only for what the
// reader still needs, and buffers a timed-out reader leaves in flight are
// the first bytes the next reader gets.
//
// Locks (docs/smp.md): `lock_`, a mutex, lets one reader at a time ask the
// device; `queue_lock_`, a spinlock, guards the queue and the buffer lists
// between that reader and the interrupt handler, which may run on another
// CPU at the same moment.
#include <new>

#include <rtos/mutex.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/spinlock.hpp>
#include <rtos/string.hpp>

#include "drivers/entropy/entropy.hpp"
#include "drivers/virtio/rng/virtio_rng.hpp"
#include "drivers/virtio/config.hpp"
#include "drivers/virtio/driver.hpp"
#include "drivers/virtio/hal.hpp"

namespace virtio {
namespace {

constexpr std::uint32_t kChunk = 512;  // bytes per request buffer
constexpr unsigned kMaxBuffers = 64;

void* token_of(unsigned index) { return reinterpret_cast<void*>(std::uintptr_t{index} + 1); }
unsigned index_of(void* token) {
    return static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(token) - 1);
}

class VirtioRng {
public:
    explicit VirtioRng(Transport& t) : dev_(t) {}
    bool start(const Found& found);
    long read(void* buf, std::size_t n, rtos::Timeout timeout, std::uint64_t* at = nullptr);
    bool usable() const { return !broken_; }
    std::uint64_t delivered() const { return delivered_; }

private:
    static void on_requestq(void* ctx, Virtqueue& q);
    static void on_needs_reset(void* ctx);
    bool stop();
    void report(const char* why, bool first);

    Device dev_;
    std::uint8_t* mem_ = nullptr;
    unsigned buffers_ = 0;
    std::uint16_t free_[kMaxBuffers] = {};
    unsigned free_count_ = 0;
    std::uint32_t size_[kMaxBuffers] = {};  // bytes asked of each buffer in flight
    std::uint64_t asked_ = 0;               // bytes asked of the device, not yet delivered
    // Filled buffers, oldest first, and how far the oldest one was read.
    std::uint16_t filled_[kMaxBuffers] = {};
    std::uint32_t filled_len_[kMaxBuffers] = {};
    unsigned filled_head_ = 0, filled_count_ = 0;
    std::uint32_t head_offset_ = 0;
    rtos::BinarySemaphore arrived_;
    rtos::Mutex lock_;  // one reader at a time
    // queue_lock_: the queue, free_, size_, asked_, the filled list and
    // broken_, between the reader and the interrupt handler on any CPUs.
    // Level 1 of docs/smp.md's lock order (a driver lock): only the
    // virtqueue's calls, a device reset and arrived_.give_from_isr() (from
    // the interrupt handler) inside it; nothing printed.
    rtos::SpinLock queue_lock_;
    std::uint64_t delivered_ = 0;  // bytes handed to readers since boot; under lock_
    volatile bool broken_ = false;
};

VirtioRng* the_rng = nullptr;

// Stops the device (no more DMA into our buffers); queue_lock_ held. True
// the first time: the caller reports it (with report()) once the lock is
// dropped, and wakes the reader.
bool VirtioRng::stop() {
    const bool first = !broken_;
    broken_ = true;
    dev_.reset();
    return first;
}

void VirtioRng::report(const char* why, bool first) {
    if (first) rtos::printk("%s: %s; device stopped\n", dev_.name(), why);
}

// DEVICE_NEEDS_RESET (from the interrupt): reset, take every buffer back
// (what was asked is asked again) and initialise the device again on the
// same ring; offline (stop) when that does not work.
void VirtioRng::on_needs_reset(void* ctx) {
    auto* self = static_cast<VirtioRng*>(ctx);
    const char* why = "the device needs a reset (DEVICE_NEEDS_RESET)";
    unsigned n = 0;
    bool ok, first = false;
    {
        rtos::SpinLockGuard guard(self->queue_lock_);
        self->dev_.reset();
        for (Result<void*> t = self->dev_.queue(0).reclaim(); t.ok();
             t = self->dev_.queue(0).reclaim(), ++n)
            self->free_[self->free_count_++] = static_cast<std::uint16_t>(index_of(t.value));
        self->asked_ = 0;
        ok = self->dev_.reinit() == Error::ok;
        if (!ok) first = self->stop();
        self->arrived_.give_from_isr();  // a waiting reader asks again, or sees broken_
    }
    if (!ok) return self->report(why, first);
    rtos::printk("%s: %s; device reset, %u requests dropped, re-initialised\n", self->dev_.name(),
                 why, n);
}

void VirtioRng::on_requestq(void* ctx, Virtqueue& q) {
    auto* self = static_cast<VirtioRng*>(ctx);
    bool broke = false, first = false;
    {
        rtos::SpinLockGuard guard(self->queue_lock_);
        bool any = false;
        for (;;) {
            Result<Completion> c = q.pop_used();
            if (c.error == Error::empty) break;
            if (!c.ok()) {
                broke = true;
                first = self->stop();
                any = true;
                break;
            }
            const unsigned b = index_of(c.value.token);
            self->asked_ -= self->size_[b];
            if (c.value.len == 0) {  // nothing delivered: the buffer is free again
                self->free_[self->free_count_++] = static_cast<std::uint16_t>(b);
            } else {
                const unsigned slot = (self->filled_head_ + self->filled_count_) % kMaxBuffers;
                self->filled_[slot] = static_cast<std::uint16_t>(b);
                self->filled_len_[slot] = c.value.len;
                ++self->filled_count_;
            }
            any = true;
        }
        if (any) self->arrived_.give_from_isr();
    }
    if (broke) self->report("the device broke the request ring", first);
}

long VirtioRng::read(void* buf, std::size_t n, rtos::Timeout timeout, std::uint64_t* at) {
    if (n == 0) return 0;
    if (lock_.lock(timeout) != rtos::Status::ok) return static_cast<long>(rtos::Status::timeout);
    if (at) *at = delivered_;
    auto* out = static_cast<std::uint8_t*>(buf);
    std::size_t done = 0;
    rtos::Status status = rtos::Status::ok;
    while (done < n) {
        bool first = false;
        {
            // The copies too: the filled list is short (a queue's worth).
            rtos::SpinLockGuard guard(queue_lock_);
            if (broken_) {
                status = rtos::Status::io_error;
                break;
            }
            // Take what has arrived, oldest first.
            while (done < n && filled_count_ > 0) {
                const unsigned b = filled_[filled_head_];
                const std::uint32_t avail = filled_len_[filled_head_] - head_offset_;
                const std::size_t k = avail < n - done ? avail : n - done;
                memcpy(out + done, mem_ + std::size_t{b} * kChunk + head_offset_, k);
                done += k;
                if (k == avail) {
                    filled_head_ = (filled_head_ + 1) % kMaxBuffers;
                    --filled_count_;
                    head_offset_ = 0;
                    free_[free_count_++] = static_cast<std::uint16_t>(b);
                } else {
                    head_offset_ += static_cast<std::uint32_t>(k);
                }
            }
            if (done == n) break;
            // Ask for what is still missing beyond what is already asked.
            bool added = false;
            while (free_count_ > 0 && asked_ < n - done) {
                const std::uint64_t missing = n - done - asked_;
                const std::uint32_t k =
                    missing < kChunk ? static_cast<std::uint32_t>(missing) : kChunk;
                const unsigned b = free_[--free_count_];
                const InSegment in[] = {{mem_ + std::size_t{b} * kChunk, k}};
                if (!dev_.queue(0).add_buffer({}, in, token_of(b)).ok()) {
                    free_[free_count_++] = static_cast<std::uint16_t>(b);
                    first = stop();
                    break;
                }
                size_[b] = k;
                asked_ += k;
                added = true;
            }
            if (added && !broken_) dev_.queue(0).kick();
        }
        if (broken_) {
            report("cannot queue a request", first);
            status = rtos::Status::io_error;
            break;
        }
        if (arrived_.take(timeout) != rtos::Status::ok) {
            status = rtos::Status::timeout;
            break;
        }
    }
    delivered_ += done;
    lock_.unlock();
    if (done > 0) return static_cast<long>(done);
    return static_cast<long>(status == rtos::Status::ok ? rtos::Status::timeout : status);
}

bool VirtioRng::start(const Found& found) {
    const Device::QueueSpec queues[] = {{config::rng_queue_size, &VirtioRng::on_requestq, this}};
    if (dev_.start({.features = 0,
                    .queues = queues,
                    .context = this,
                    .on_needs_reset = &VirtioRng::on_needs_reset}) != Error::ok)
        return false;
    buffers_ = dev_.queue(0).size() < kMaxBuffers ? dev_.queue(0).size() : kMaxBuffers;
    mem_ = static_cast<std::uint8_t*>(hal::dma_alloc(std::size_t{kChunk} * buffers_, 64));
    if (!mem_) {
        rtos::printk("%s: out of memory for %u buffers\n", dev_.name(), buffers_);
        dev_.fail();
        dev_.shutdown();
        return false;
    }
    for (unsigned b = 0; b < buffers_; ++b) free_[free_count_++] = static_cast<std::uint16_t>(b);
    if (!dev_.attach_interrupts()) {
        rtos::printk("%s: no interrupt; device not used\n", dev_.name());
        dev_.fail();
        dev_.shutdown();
        hal::dma_free(mem_);
        return false;
    }
    announce(found, dev_, {});  // no feature bits of its own (5.4.3)
    return true;
}

bool probe(const Found& found) {
    if (the_rng) {
        rtos::printk("%s: one entropy source is used; this one is ignored\n",
                     found.transport.name());
        return false;
    }
    the_rng = start_in_dma_memory<VirtioRng>(found);
    return the_rng != nullptr;
}

}  // namespace

VIRTIO_DRIVER(rng, VIRTIO_ID_ENTROPY, probe);

std::uint64_t rng_bytes_delivered() { return the_rng ? the_rng->delivered() : 0; }

long rng_read_at(void* buf, std::size_t n, rtos::Timeout timeout, std::uint64_t& offset) {
    if (!the_rng) return static_cast<long>(rtos::Status::unsupported);
    if (!buf && n) return static_cast<long>(rtos::Status::invalid);
    return the_rng->read(buf, n, timeout, &offset);
}

}  // namespace virtio

namespace rtos::entropy {

bool available() { return virtio::the_rng != nullptr && virtio::the_rng->usable(); }

long read(void* buf, std::size_t n, rtos::Timeout timeout) {
    if (!virtio::the_rng) return static_cast<long>(rtos::Status::unsupported);
    if (!buf && n) return static_cast<long>(rtos::Status::invalid);
    return virtio::the_rng->read(buf, n, timeout);
}

}  // namespace rtos::entropy
