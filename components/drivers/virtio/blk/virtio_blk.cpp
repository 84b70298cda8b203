// virtio-blk (5.2 Block Device) on the generic block interface: requests from
// any number of threads in flight at once, completion by interrupt (or, for
// a request that asks, by polling first: CONFIG_BLK_POLL), device answers
// checked before they are believed. With VIRTIO_BLK_F_MQ, up to
// CONFIG_VIRTIO_BLK_MAX_QUEUES request queues, each with its own request
// slots (and polled requests): a CPU submits on its own queue (blk-mq).
// Queue i's interrupt goes to CPU i where the transport gives each queue
// its own (MSI-X vectors); a line (MMIO, INTx) serves every queue from one
// CPU, whose handler completes each queue's requests under that queue's
// lock and wakes their waiters on their CPUs. A thread that moved keeps the
// queue it picked: each queue has its own SpinLock (Lane).
// A device that stops completing (request timeout) or asks for a reset
// (DEVICE_NEEDS_RESET) is reset, its requests in flight fail, and it is
// initialised again; one that breaks the ring protocol, or cannot be
// initialised again, is taken offline.
#include <new>

#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/format.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/spinlock.hpp>
#include <rtos/thread.hpp>
#include <rtos/timer.hpp>

#include "drivers/block/block_device.hpp"
#include "drivers/virtio/config.hpp"
#include "drivers/virtio/driver.hpp"
#include "drivers/virtio/hal.hpp"

#include <rtos/smp.hpp>

namespace virtio {
namespace {

// 5.2.3 Feature bits.
constexpr unsigned VIRTIO_BLK_F_SIZE_MAX = 1;
constexpr unsigned VIRTIO_BLK_F_SEG_MAX = 2;
constexpr unsigned VIRTIO_BLK_F_RO = 5;
constexpr unsigned VIRTIO_BLK_F_BLK_SIZE = 6;
constexpr unsigned VIRTIO_BLK_F_FLUSH = 9;
constexpr unsigned VIRTIO_BLK_F_MQ = 12;
constexpr FeatureName kFeatureNames[] = {{VIRTIO_BLK_F_SIZE_MAX, "size_max"},
                                         {VIRTIO_BLK_F_SEG_MAX, "seg_max"},
                                         {VIRTIO_BLK_F_RO, "ro"},
                                         {VIRTIO_BLK_F_BLK_SIZE, "blk_size"},
                                         {VIRTIO_BLK_F_FLUSH, "flush"},
                                         {VIRTIO_BLK_F_MQ, "mq"}};

// 5.2.4 Device configuration layout (byte offsets).
constexpr std::uint32_t kCfgCapacity = 0;
constexpr std::uint32_t kCfgSizeMax = 8;
constexpr std::uint32_t kCfgSegMax = 12;
constexpr std::uint32_t kCfgBlkSize = 20;
constexpr std::uint32_t kCfgNumQueues = 34;  // le16, with VIRTIO_BLK_F_MQ

constexpr unsigned kMaxQueues = CONFIG_VIRTIO_BLK_MAX_QUEUES;

// 5.2.6 Request types and status values.
constexpr std::uint32_t VIRTIO_BLK_T_IN = 0;
constexpr std::uint32_t VIRTIO_BLK_T_OUT = 1;
constexpr std::uint32_t VIRTIO_BLK_T_FLUSH = 4;
constexpr std::uint32_t VIRTIO_BLK_T_GET_ID = 8;
constexpr std::uint8_t VIRTIO_BLK_S_OK = 0;
constexpr std::uint8_t VIRTIO_BLK_S_IOERR = 1;
constexpr std::uint8_t VIRTIO_BLK_S_UNSUPP = 2;
constexpr std::uint8_t kStatusUnwritten = 0xff;
constexpr std::uint32_t kIdBytes = 20;

// Capacities beyond 2^48 sectors (128 PiB) are not a real disk.
constexpr std::uint64_t kMaxPlausibleSectors = std::uint64_t{1} << 48;
// Largest data segment of one request when the device sets no size_max.
constexpr std::uint32_t kDefaultMaxBytes = 128 * 1024;
constexpr std::uint32_t kRequestTimeoutMs = CONFIG_VIRTIO_BLK_TIMEOUT_MS;
#if defined(CONFIG_BLK_POLL)
constexpr std::uint64_t kPollNs = std::uint64_t{CONFIG_BLK_POLL_US} * 1000;
// A polled wait looks at the clock after this many passes, then about when
// half the rest of kPollNs is spent at the pace it measured: a few looks in
// a wait, none of them while a fast device completes. A counter read is not
// cheap everywhere: under QEMU's TCG an aarch64 CNTVCT_EL0 read takes QEMU's
// big lock, which its device models need to complete the request, and a
// spin reading it every pass held off the very completion it waited for
// (docs/performance.md#polled-completions-at-depth-1).
constexpr std::uint64_t kPollFirstLook = 1024;
#endif

constexpr std::uint64_t kDriverFeatures =
    feature_bit(VIRTIO_BLK_F_SIZE_MAX) | feature_bit(VIRTIO_BLK_F_SEG_MAX) |
    feature_bit(VIRTIO_BLK_F_RO) | feature_bit(VIRTIO_BLK_F_BLK_SIZE) |
    feature_bit(VIRTIO_BLK_F_FLUSH) | feature_bit(VIRTIO_BLK_F_MQ);

struct RequestHeader {  // 5.2.6: le32 type, le32 reserved, le64 sector
    std::uint32_t type;
    std::uint32_t reserved;
    std::uint64_t sector;
};
static_assert(sizeof(RequestHeader) == 16);

struct Lane;
class VirtioBlk;

// One request slot: one device request (a BlockRequest larger than the
// device's limit takes several). Lives in DMA memory (the header and status
// byte are read and written by the device).
struct Request {
    RequestHeader header;
    volatile std::uint8_t status;
    Lane* lane;  // the request queue it goes on, and whose free list it returns to
    rtos::block::BlockRequest* owner;
    Request* next_free;
};

// One request queue's slots (5.2.2 requestq<n>). Each queue has its own: a
// CPU takes, queues and frees them on its own queue only.
struct Lane {
    // Lock order 1 (docs/smp.md, driver locks): the queue (add, kick, pop,
    // reclaim, interrupt suppression), its free slots, waiters and pollers,
    // and the BlockRequests in flight on it (parts_left, status, their
    // completion). Taken alone; inside it only poll_lock_ and the kernel.
    rtos::SpinLock lock;
    VirtioBlk* blk = nullptr;  // the queue callback's context is its Lane
    Virtqueue* vq = nullptr;
    Request* free = nullptr;
    // Threads waiting for a free slot, and their wake-up: a slot is taken
    // and returned without a semaphore unless someone waits.
    unsigned slot_waiters = 0;
    rtos::Semaphore slot_freed{0};
    // Polled requests in flight on this queue (BlockRequest::polling): its
    // interrupts are off while there is one.
    unsigned pollers = 0;
};

class VirtioBlk final : public rtos::block::BlockDevice {
public:
    explicit VirtioBlk(Transport& t) : dev_(t) {}

    bool start(const Found& found);
    // Snapshots of counters other CPUs may be adding to (32-bit words: a
    // read sees an old or a new value).
    bool counters(Counters& c) const override {
        c = {};
        for (std::size_t i = 0; i < dev_.queue_count(); ++i) {
            const Virtqueue::Stats& s = dev_.queue(i).stats();
            c.kicks += s.kicks;
            c.irqs += s.irqs;
        }
        return true;
    }

protected:
    void do_submit(std::span<rtos::block::BlockRequest* const> requests) override;
    void do_submit_one(rtos::block::BlockRequest& r) override;
    void do_wait(rtos::block::BlockRequest& r) override;
    rtos::Status do_get_id(char* buf, std::size_t size) override;

private:
    static std::uint32_t type_of(const rtos::block::BlockRequest& r) {
        return r.op == rtos::block::BlockRequest::Op::read    ? VIRTIO_BLK_T_IN
               : r.op == rtos::block::BlockRequest::Op::write ? VIRTIO_BLK_T_OUT
                                                              : VIRTIO_BLK_T_FLUSH;
    }
    // The request queue of the CPU the caller runs on, picked once per
    // submission: a thread that moves to another CPU meanwhile finishes on
    // the queue it picked (still correct, only not local).
    Lane& this_cpu_lane() {
        return lanes_[lanes_count_ == 1 ? 0 : rtos::smp::cpu_id() % lanes_count_];
    }
    void not_queued(Lane& l, rtos::block::BlockRequest& r, std::uint32_t parts, bool had_slot);
    bool add_part(Request* slot, rtos::block::BlockRequest& r, std::uint32_t type,
                  std::uint64_t lba, std::uint8_t* p, std::uint32_t len, bool notify);
    bool queue_request(Lane& l, rtos::block::BlockRequest& r, std::uint32_t type, bool& pending,
                       bool last);
    // A free slot of queue l; inline up to the usual case, that one is free.
    Request* take_slot(Lane& l, bool& pending) {
        {
            rtos::SpinLockGuard g(l.lock);
            if (Request* slot = pop_slot(l)) return slot;
        }
        return wait_for_slot(l, pending);
    }
    Request* wait_for_slot(Lane& l, bool& pending);
    static Request* pop_slot(Lane& l) {  // l.lock held
        Request* slot = l.free;
        if (slot) l.free = slot->next_free;
        return slot;
    }
    static void put_slot(Request* slot) {  // its lane's lock held
        Lane& l = *slot->lane;
        slot->next_free = l.free;
        l.free = slot;
        if (l.slot_waiters) l.slot_freed.give_from_isr();
    }
    static void kick(Lane& l, bool& pending);
#if defined(CONFIG_BLK_POLL)
    // Out of line: the interrupt-driven path keeps its one test of a flag.
    [[gnu::noinline]] void arm_poll(Lane& l, rtos::block::BlockRequest& r);
    [[gnu::noinline]] bool disarm_poll(Lane& l, rtos::block::BlockRequest& r);
    [[gnu::noinline]] void poll_for(rtos::block::BlockRequest& r);
#endif
    static void finish(rtos::block::BlockRequest& r, std::uint32_t parts, rtos::Status s);
    bool broken() const { return __atomic_load_n(&broken_, __ATOMIC_ACQUIRE) != 0; }
    unsigned fail_in_flight(Lane& l);
    void fail_all(const char* why);
    void recover(const char* why);
    static void on_needs_reset(void* ctx) {
        static_cast<VirtioBlk*>(ctx)->recover("the device needs a reset (DEVICE_NEEDS_RESET)");
    }
    // What a queue's used ring holds, completed under its lock; the
    // printing and a reset for a broken ring come after it is dropped.
    void complete_used(Lane& l);
    static bool pop_all(Lane& l, unsigned& impossible);
    static void on_requestq(void* ctx, Virtqueue&) {
        Lane& l = *static_cast<Lane*>(ctx);
        l.blk->complete_used(l);
    }
    // Without an interrupt line, and while polled requests hold the
    // interrupt off: the used ring is checked every tick (so no request
    // waits for a poller that does not come).
    static void poll(rtos::Timer& t, void* ctx) {
        auto* self = static_cast<VirtioBlk*>(ctx);
        for (unsigned i = 0; i < self->lanes_count_; ++i) self->complete_used(self->lanes_[i]);
        rtos::SpinLockGuard g(self->poll_lock_);
        if (self->interrupts_ && self->polled_lanes_ == 0) t.stop();
    }
    unsigned queues_from_config();
    void route_queues(char* buf, std::size_t size);

    Device dev_;
    // More queues than a Device holds itself: lent to it (start()).
    Device::QueueSlot queue_table_[kMaxQueues > Device::kMaxQueues ? kMaxQueues : 1];
    Request* requests_ = nullptr;
    Lane lanes_[kMaxQueues];
    unsigned lanes_count_ = 1;
    std::uint32_t max_sectors_ = kDefaultMaxBytes / kSectorSize;
    bool interrupts_ = false;
    // Set once, by the first fail_all(); atomic, read unlocked (a word: riscv64
    // has no byte swap).
    unsigned broken_ = 0;
    // Lock order 1, taken inside a Lane's lock only (docs/smp.md): the poll
    // timer's start and stop, and how many queues have polled requests.
    rtos::SpinLock poll_lock_;
    // One recovery at a time (lock order 1, outside every Lane's lock: it
    // holds them all, in index order, while the device is reset and
    // initialised again).
    rtos::SpinLock recover_lock_;
    unsigned polled_lanes_ = 0;
    // kRequestTimeoutMs in ticks, converted once (start()).
    rtos::Tick timeout_ = 0;
    rtos::Timer poll_timer_{&VirtioBlk::poll, this};
};

// `impossible` counts statuses the spec does not have (logged by the
// caller, once the queue's lock is dropped).
rtos::Status status_of(std::uint8_t device_status, unsigned& impossible) {
    switch (device_status) {
    case VIRTIO_BLK_S_OK: [[likely]] return rtos::Status::ok;
    case VIRTIO_BLK_S_UNSUPP: return rtos::Status::unsupported;
    case VIRTIO_BLK_S_IOERR: return rtos::Status::io_error;
    default: ++impossible; return rtos::Status::io_error;
    }
}

// One device request of `r` ended: the first error is the request's, and
// the last part completes it. Its queue's lock held.
void VirtioBlk::finish(rtos::block::BlockRequest& r, std::uint32_t parts, rtos::Status s) {
    if (s != rtos::Status::ok && r.status == rtos::Status::ok) r.status = s;
    r.parts_left -= parts;
    if (r.parts_left == 0) complete(r, r.status);  // a polled one stays armed until its wait
}

// False when the device broke the ring protocol (logged by the queue).
// l.lock held.
bool VirtioBlk::pop_all(Lane& l, unsigned& impossible) {
    for (;;) {
        Result<Completion> c = l.vq->pop_used();
        if (c.error == Error::empty) return true;
        if (!c.ok()) return false;
        auto* slot = static_cast<Request*>(c.value.token);
        rtos::block::BlockRequest& r = *slot->owner;
        const rtos::Status st = status_of(slot->status, impossible);
        put_slot(slot);
        finish(r, 1, st);
    }
}

// From the queue's interrupt, the poll timer and a polling waiter, none
// holding a lock.
void VirtioBlk::complete_used(Lane& l) {
    unsigned impossible = 0;
    bool ok;
    {
        rtos::SpinLockGuard g(l.lock);
        ok = pop_all(l, impossible);
    }
    if (impossible) [[unlikely]]
        rtos::printk("%s: %u impossible request status(es)\n", name_, impossible);
    if (!ok) [[unlikely]]
        fail_all("the device broke the ring protocol");
}

// After a device reset: every request still in flight on l ends with
// io_error (its slot free again). Returns how many. l.lock held.
unsigned VirtioBlk::fail_in_flight(Lane& l) {
    unsigned n = 0;
    for (;; ++n) {
        Result<void*> t = l.vq->reclaim();
        if (!t.ok()) break;
        auto* slot = static_cast<Request*>(t.value);
        rtos::block::BlockRequest& r = *slot->owner;
        put_slot(slot);
        finish(r, 1, rtos::Status::io_error);
    }
    return n;
}

// The device broke the ring protocol: it is not to be believed again. Stops
// it (no more DMA into our buffers), fails every request in flight and
// every later one: offline. Holding no lock; from any context. The first
// call does it: a later one (another CPU's, meanwhile) finds the device
// broken and leaves it to the first, which completes every request.
void VirtioBlk::fail_all(const char* why) {
    if (__atomic_exchange_n(&broken_, 1u, __ATOMIC_ACQ_REL) != 0) return;
    dev_.reset();
    // Queue by queue: a submitter takes the lock after broken_ is set and
    // sees it (add_part()), one before has its request reclaimed here.
    unsigned n = 0;
    for (unsigned i = 0; i < lanes_count_; ++i) {
        rtos::SpinLockGuard g(lanes_[i].lock);
        n += fail_in_flight(lanes_[i]);
    }
    rtos::printk("%s: %s; device reset, %u requests failed, offline\n", name_, why, n);
}

// The device stopped completing or asked for a reset: reset it, fail what
// is in flight, and initialise it again on the same rings; offline when
// that fails. Holding no lock; from any context (the config interrupt).
void VirtioBlk::recover(const char* why) {
    unsigned n = 0;
    bool ok;
    {
        rtos::SpinLockGuard g(recover_lock_);
        if (broken()) return;
        // Every queue held still: no submission or completion meanwhile.
        for (unsigned i = 0; i < lanes_count_; ++i) lanes_[i].lock.lock();
        dev_.reset();
        for (unsigned i = 0; i < lanes_count_; ++i) n += fail_in_flight(lanes_[i]);
        ok = dev_.reinit() == Error::ok;
        if (!ok) {
            __atomic_store_n(&broken_, 1u, __ATOMIC_RELEASE);
            dev_.reset();
        }
        for (unsigned i = lanes_count_; i-- > 0;) lanes_[i].lock.unlock();
    }
    rtos::printk("%s: %s; device reset, %u requests failed, %s\n", name_, why, n,
                 ok ? "re-initialised" : "re-initialisation failed: offline");
}

#if defined(CONFIG_BLK_POLL)
// A polled request, before its first part reaches the device: the queue's
// interrupts go off (the device's completion would otherwise interrupt
// before its submitter even waits) until its waiter is done with it
// (poll_for(): BlockDevice::wait() always asks the driver while `polling`
// is set). Meanwhile the tick timer takes what completes, so nothing waits
// for a poller that does not come. Per queue: r's queue l (every part of r
// goes on it) keeps its interrupts off, the others do not notice. The timer
// is the device's, shared by the queues under poll_lock_. l.lock held.
void VirtioBlk::arm_poll(Lane& l, rtos::block::BlockRequest& r) {
    if (r.polling || r.on_done != nullptr || !interrupts_) return;
    r.polling = true;
    r.queue = static_cast<std::uint16_t>(&l - lanes_);  // for poll_for()
    if (l.pollers++ != 0) return;
    l.vq->disable_interrupts();
    rtos::SpinLockGuard g(poll_lock_);
    if (polled_lanes_++ == 0 && !poll_timer_.active()) poll_timer_.start_periodic(1);
}

// r no longer holds l's interrupt off. False when entries were used
// meanwhile (their interrupt is not coming: pop them). l.lock held.
bool VirtioBlk::disarm_poll(Lane& l, rtos::block::BlockRequest& r) {
    r.polling = false;
    if (--l.pollers != 0) return true;
    {
        rtos::SpinLockGuard g(poll_lock_);
        --polled_lanes_;  // the timer stops itself on its next tick
    }
    return l.vq->enable_interrupts();
}

// A polled request's wait: spin on its queue's used ring for about kPollNs,
// completing whatever finishes there (other threads' requests too), then
// hand the queue back to the interrupt (for r too, if it is still in
// flight). The queue it was armed on, not this CPU's: the thread may have
// moved since it submitted.
void VirtioBlk::poll_for(rtos::block::BlockRequest& r) {
    Lane& l = lanes_[r.queue];
    Virtqueue& q = *l.vq;
    const std::uint64_t start = rtos::clock::now_ns();
    std::uint64_t spins = 0, next_look = kPollFirstLook;
    while (!r.done() && !broken()) {
        if (q.has_used()) {
            complete_used(l);
            continue;
        }
        if (++spins < next_look) continue;
        const std::uint64_t spent = rtos::clock::now_ns() - start;
        if (spent >= kPollNs) break;
        // The next look when about half the rest is spent at this pace
        // (a counter too coarse to have moved: twice as far).
        next_look = spins + (spent ? spins * (kPollNs - spent) / (2 * spent) : spins);
    }
    bool used;
    {
        rtos::SpinLockGuard g(l.lock);
        used = !disarm_poll(l, r);
    }
    if (used) complete_used(l);
    // Its completion left a token for a waiter: collect it, or the next
    // wait on this object would end early.
    if (r.done()) r.completed.take(rtos::Timeout::none());
}
#endif

void VirtioBlk::do_wait(rtos::block::BlockRequest& r) {
#if defined(CONFIG_BLK_POLL)
    if (r.polling) [[unlikely]]
        poll_for(r);
#endif
    // A token left by an earlier completion of this object (never waited
    // for) ends one take early: the loop checks done() again.
    while (!r.done())
        if (r.completed.take(rtos::Timeout::ticks(timeout_)) != rtos::Status::ok) break;
    if (r.done()) return;
    recover("request timed out");
    // recover() completed it as io_error (or another CPU's recover() or
    // fail_all() is doing so): every request in flight completes.
    while (!r.done()) r.completed.take(rtos::Timeout::ticks(timeout_));
    r.status = rtos::Status::timeout;
}

void VirtioBlk::kick(Lane& l, bool& pending) {
    if (!pending) return;
    rtos::SpinLockGuard g(l.lock);
    l.vq->kick();
    pending = false;
}

// None was free: notifies the device of what this batch queued (else we
// could wait for our own requests) and waits for a slot.
Request* VirtioBlk::wait_for_slot(Lane& l, bool& pending) {
    kick(l, pending);
    for (;;) {
        {
            rtos::SpinLockGuard g(l.lock);
            if (Request* slot = pop_slot(l)) return slot;
            ++l.slot_waiters;
        }
        // A token left for a waiter that timed out ends a later take early:
        // the loop looks at the free list again.
        const rtos::Status s = l.slot_freed.take(rtos::Timeout::ticks(timeout_));
        rtos::SpinLockGuard g(l.lock);
        --l.slot_waiters;
        if (s != rtos::Status::ok) return pop_slot(l);  // nullptr: timed out
    }
}

// The last `parts` device requests of r could not be queued: no free slot
// within the timeout (`had_slot` false on a working device), else the
// device broke.
void VirtioBlk::not_queued(Lane& l, rtos::block::BlockRequest& r, std::uint32_t parts,
                           bool had_slot) {
    rtos::SpinLockGuard g(l.lock);  // its earlier parts may be completing
    finish(r, parts, !had_slot && !broken() ? rtos::Status::timeout : rtos::Status::io_error);
}

// Puts one device request of r (`len` bytes at p, from `lba`) in `slot` and
// on its queue, the batch's notification under the same lock when `notify`.
// False when the device broke (the slot is free again).
bool VirtioBlk::add_part(Request* slot, rtos::block::BlockRequest& r, std::uint32_t type,
                         std::uint64_t lba, std::uint8_t* p, std::uint32_t len, bool notify) {
    slot->header = {type, 0, lba};
    slot->status = kStatusUnwritten;
    slot->owner = &r;

    OutSegment out[2] = {{&slot->header, sizeof(slot->header)}};
    InSegment in[2];
    std::size_t n_out = 1, n_in = 0;
    if (len && type == VIRTIO_BLK_T_OUT) out[n_out++] = {p, len};
    if (len && type != VIRTIO_BLK_T_OUT) in[n_in++] = {p, len};
    in[n_in++] = {const_cast<std::uint8_t*>(&slot->status), 1};

    rtos::SpinLockGuard g(slot->lane->lock);
#if defined(CONFIG_BLK_POLL)
    if (r.poll) [[unlikely]]
        arm_poll(*slot->lane, r);  // before the device can complete it
#endif
    // The device may have been taken offline (fail_all) while this thread
    // waited for a free slot: a reset does not mark the queue broken, so
    // add_buffer() would succeed and the kick would go to a reset device.
    Result<std::uint16_t> added{Error::broken, 0};
    Virtqueue& q = *slot->lane->vq;
    if (!broken())
        added = q.add_buffer(std::span<const OutSegment>(out, n_out),
                             std::span<const InSegment>(in, n_in), slot);
    if (!added.ok()) {
        put_slot(slot);
        return false;
    }
    if (notify) q.kick();
    return true;
}

// Queues r as one device request per max_sectors_ (not yet notified:
// `pending` says some are). False when r was failed instead (its parts
// already queued still complete it).
bool VirtioBlk::queue_request(Lane& l, rtos::block::BlockRequest& r, std::uint32_t type,
                              bool& pending, bool last) {
    const bool has_data = type != VIRTIO_BLK_T_FLUSH;
    std::uint32_t left = has_data ? r.count : 0;
    std::uint64_t lba = r.lba;
    auto* p = static_cast<std::uint8_t*>(r.buf);
    // GET_ID passes its byte count as `count` (no sectors).
    const bool bytes = type == VIRTIO_BLK_T_GET_ID;
    std::uint32_t parts =
        bytes || left <= max_sectors_ ? 1 : (left + max_sectors_ - 1) / max_sectors_;
    r.status = rtos::Status::ok;
    r.parts_left = parts;
    while (parts) {
        Request* slot = broken() ? nullptr : take_slot(l, pending);
        const std::uint32_t n = bytes ? left : (left < max_sectors_ ? left : max_sectors_);
        const std::uint32_t len = bytes ? n : n * kSectorSize;
        const bool notify = last && parts == 1;  // the batch's last device request
        if (!slot || !add_part(slot, r, type, lba, p, len, notify)) {
            not_queued(l, r, parts, slot != nullptr);
            return false;
        }
        pending = !notify;
        --parts;
        lba += n;
        p += len;
        left -= n;
    }
    return true;
}

// A blocking call's request: within one device request (the usual case),
// straight to add_part(); larger ones as a batch of one.
void VirtioBlk::do_submit_one(rtos::block::BlockRequest& r) {
    const std::uint32_t type = type_of(r);
    Lane& l = this_cpu_lane();
    bool pending = false;
    if (type == VIRTIO_BLK_T_FLUSH || r.count <= max_sectors_) {
        r.status = rtos::Status::ok;
        r.parts_left = 1;
        Request* slot = broken() ? nullptr : take_slot(l, pending);
        const std::uint32_t len = type == VIRTIO_BLK_T_FLUSH ? 0 : r.count * kSectorSize;
        if (!slot || !add_part(slot, r, type, r.lba, static_cast<std::uint8_t*>(r.buf), len, true))
            not_queued(l, r, 1, slot != nullptr);
        return;
    }
    queue_request(l, r, type, pending, true);  // kicks after the last part
    kick(l, pending);                          // parts queued before a failure
}

void VirtioBlk::do_submit(std::span<rtos::block::BlockRequest* const> requests) {
    Lane& l = this_cpu_lane();
    bool pending = false;
    const std::size_t n = requests.size();
    for (std::size_t i = 0; i < n; ++i) {
        rtos::block::BlockRequest* r = requests[i];
        if (r->done()) continue;  // refused by the block layer
        queue_request(l, *r, type_of(*r), pending, i + 1 == n);
    }
    kick(l, pending);  // one notification for the whole batch (if not sent yet)
}

rtos::Status VirtioBlk::do_get_id(char* buf, std::size_t size) {
    char* id = static_cast<char*>(hal::dma_alloc(kIdBytes, 16));
    if (!id) return rtos::Status::no_memory;
    rtos::block::BlockRequest r;
    r.count = kIdBytes;
    r.buf = id;
    Lane& l = this_cpu_lane();
    bool pending = false;
    queue_request(l, r, VIRTIO_BLK_T_GET_ID, pending, true);
    kick(l, pending);
    rtos::Status s = wait(r);
    if (s == rtos::Status::ok) {
        // The ID is NUL-terminated only when shorter than 20 bytes.
        std::size_t i = 0;
        for (; i + 1 < size && i < kIdBytes && id[i]; ++i)
            buf[i] = (id[i] >= 0x20 && id[i] < 0x7f) ? id[i] : '?';
        buf[i] = '\0';
    }
    hal::dma_free(id);
    return s;
}

// 5.2.4 num_queues with VIRTIO_BLK_F_MQ (else one), at most kMaxQueues: the
// device serves the rest idle. 0 is not a device: one, logged.
unsigned VirtioBlk::queues_from_config() {
    if (!dev_.has_feature(VIRTIO_BLK_F_MQ)) return 1;
    const unsigned n = dev_.transport().config_read16(kCfgNumQueues);
    if (n == 0) {
        rtos::printk("%s: ignoring impossible num_queues 0\n", dev_.name());
        return 1;
    }
    return n < kMaxQueues ? n : kMaxQueues;
}

// Queue i to CPU i (its submitter, this_cpu_lane()) where each queue has an
// interrupt of its own; says in `buf` where each queue's interrupt goes, for
// the boot line: " irq-cpus 0,1,2,3", or " (one irq, cpu 0)" when they share
// one. Nothing until a second CPU has started (the boot line stays as
// without SMP).
void VirtioBlk::route_queues(char* buf, std::size_t size) {
    buf[0] = '\0';
    if (!rtos::smp::active() || !interrupts_) return;
    if (lanes_count_ > 1)  // a CPU that is not online refuses its queue (irq::route())
        for (unsigned i = 0; i < lanes_count_ && i < rtos::kMaxCpus; ++i) dev_.route_queue(i, i);
    unsigned cpu = 0;
    bool own = false;
    if (!dev_.queue_cpu(0, cpu, own)) return;
    if (!own) {
        snprintf(buf, size, " (one irq, cpu %u)", cpu);
        return;
    }
    std::size_t at = static_cast<std::size_t>(snprintf(buf, size, " irq-cpus %u", cpu));
    for (unsigned i = 1; i < lanes_count_ && at < size; ++i) {
        if (!dev_.queue_cpu(i, cpu, own)) break;
        at += static_cast<std::size_t>(snprintf(buf + at, size - at, ",%u", cpu));
    }
}

bool VirtioBlk::start(const Found& found) {
    snprintf(name_, sizeof(name_), "vd%c", 'a' + static_cast<char>(found.index % 26));
    if constexpr (kMaxQueues > Device::kMaxQueues) dev_.use_queue_table(queue_table_);
    // 3.1.1 by steps: num_queues is read between FEATURES_OK and the queues.
    dev_.set_needs_reset_callback(&VirtioBlk::on_needs_reset, this);
    if (dev_.negotiate(kDriverFeatures) != Error::ok) return false;
    lanes_count_ = queues_from_config();
    Device::QueueSpec queues[kMaxQueues];
    for (unsigned i = 0; i < lanes_count_; ++i) {
        lanes_[i].blk = this;
        queues[i] = {config::blk_queue_size, &VirtioBlk::on_requestq, &lanes_[i]};
    }
    if (dev_.setup_queues(std::span<const Device::QueueSpec>(queues, lanes_count_)) != Error::ok) {
        dev_.fail();
        return false;
    }
    dev_.driver_ok();

    timeout_ = rtos::clock::ms_to_ticks(kRequestTimeoutMs);
    std::uint64_t capacity = 0;
    std::uint32_t size_max = 0, seg_max = 0, blk_size = 0;
    Error e = dev_.read_config_consistent([&](Transport& t) {
        capacity = t.config_read64(kCfgCapacity);
        if (dev_.has_feature(VIRTIO_BLK_F_SIZE_MAX)) size_max = t.config_read32(kCfgSizeMax);
        if (dev_.has_feature(VIRTIO_BLK_F_SEG_MAX)) seg_max = t.config_read32(kCfgSegMax);
        if (dev_.has_feature(VIRTIO_BLK_F_BLK_SIZE)) blk_size = t.config_read32(kCfgBlkSize);
    });
    if (e != Error::ok || capacity > kMaxPlausibleSectors) {
        rtos::printk("%s: impossible configuration (capacity %llu sectors), device refused\n",
                     dev_.name(), static_cast<unsigned long long>(capacity));
        dev_.fail();
        dev_.shutdown();
        return false;
    }
    (void)seg_max;  // one data segment per request: always within seg_max (>= 1)
    if (size_max) {
        if (size_max < kSectorSize) {
            rtos::printk("%s: ignoring impossible size_max %u\n", dev_.name(), size_max);
        } else if (size_max / kSectorSize < max_sectors_) {
            max_sectors_ = size_max / kSectorSize;
        }
    }
    if (blk_size && (blk_size < kSectorSize || blk_size > 65536 || (blk_size & (blk_size - 1)))) {
        rtos::printk("%s: ignoring impossible block size %u\n", dev_.name(), blk_size);
        blk_size = 0;
    }
    info_ = {capacity, blk_size ? blk_size : kSectorSize, dev_.has_feature(VIRTIO_BLK_F_RO),
             dev_.has_feature(VIRTIO_BLK_F_FLUSH)};

    // Requests in flight per queue: one descriptor each with indirect
    // tables, else up to three (header, data, status).
    Virtqueue& q = dev_.queue(0);  // every queue has the same size and features
    unsigned slots = q.uses_indirect() ? q.size() : q.size() / 3;
    if (slots == 0) slots = 1;
    requests_ = static_cast<Request*>(hal::dma_alloc(sizeof(Request) * slots * lanes_count_, 64));
    if (!requests_) {
        rtos::printk("%s: out of memory for %u request slots\n", dev_.name(), slots * lanes_count_);
        dev_.fail();
        dev_.shutdown();
        return false;
    }
    for (unsigned i = 0; i < lanes_count_; ++i) lanes_[i].vq = &dev_.queue(i);
    for (unsigned i = 0; i < slots * lanes_count_; ++i) {
        Request* r = new (&requests_[i]) Request{};
        r->lane = &lanes_[i / slots];
        r->next_free = r->lane->free;
        r->lane->free = r;
    }
#if defined(CONFIG_VIRTIO_BLK_POLLED)
    interrupts_ = false;  // completions are polled every tick
#else
    interrupts_ = dev_.attach_interrupts();
    if (!interrupts_) rtos::printk("%s: no interrupt, polling\n", dev_.name());
#endif
    if (!interrupts_) poll_timer_.start_periodic(1);
    // Every request completes on its own: at depth, one interrupt per half
    // of those in flight (EVENT_IDX), one per request at depth 1.
    for (std::size_t i = 0; i < dev_.queue_count(); ++i)
        dev_.queue(i).set_interrupt_batching(interrupts_);

    char cpus[64];
    route_queues(cpus, sizeof(cpus));
    char extra[128];  // a read-only disk shows the feature word ro
    snprintf(extra, sizeof(extra), " %s %llu sectors queues %u%s", name_,
             static_cast<unsigned long long>(capacity), lanes_count_, cpus);
    announce(found, dev_, kFeatureNames, extra);
    rtos::block::BlockDevice::add(this);
    return true;
}

bool probe(const Found& found) { return start_in_dma_memory<VirtioBlk>(found) != nullptr; }

}  // namespace

VIRTIO_DRIVER(blk, VIRTIO_ID_BLOCK, probe);

}  // namespace virtio
