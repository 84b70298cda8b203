// virtio-net (5.1 Network Device) on the link-layer interface of
// components/drivers/net/netdev.hpp: one receive and one transmit queue, MTU 1500.
//
// Receive: every buffer is preallocated at probe time. The interrupt only
// wakes the driver's receive thread, which takes every used buffer in one
// pass (interrupts off meanwhile), checks each and hands the good frames to
// the stack as one batch. The stack copies a frame or keeps its buffer
// (zero-copy, up to a loan limit that keeps a quarter of the buffers on
// the ring) and gives it back later; every other buffer goes straight back
// on the ring. Transmit: no copy; each frame's fragments become one
// descriptor chain behind a per-slot header, and the stack's cookie comes
// back when the device is done. With CONFIG_VIRTIO_NET_QUIET_TX the
// transmit queue raises no completion interrupt: finished slots are taken
// back when the next frame goes out, when the ring is full (then with the
// interrupt, to wait) and by the receive thread (a timer bounds how long a
// frame stays unreclaimed). The device is notified once per output burst
// (flush()). Nothing is allocated after probe. Every length and id the
// device returns is checked (the virtqueue checks ids and lengths against
// the chain; this file the header and frame sizes); a bad one is dropped
// and counted. A ring-protocol violation resets and restarts the device.
#include <new>

#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/format.hpp>
#include <rtos/mutex.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/spinlock.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>
#include <rtos/timer.hpp>

#include "drivers/virtio/config.hpp"
#include "drivers/virtio/driver.hpp"
#include "drivers/virtio/hal.hpp"
#include "drivers/virtio/net/virtio_net_hdr.hpp"
#include "drivers/net/netdev.hpp"

namespace virtio {
namespace {

using rtos::net::Fragment;
using rtos::net::RxFrame;

constexpr std::uint16_t kRxQueue = 0;
constexpr std::uint16_t kTxQueue = 1;

// 5.1.4 Device configuration layout (byte offsets).
constexpr std::uint32_t kCfgMac = 0;
constexpr std::uint32_t kCfgStatus = 6;
constexpr std::uint16_t VIRTIO_NET_S_LINK_UP = 1;

constexpr std::uint64_t kDriverFeatures = feature_bit(net::VIRTIO_NET_F_MAC) |
                                          feature_bit(net::VIRTIO_NET_F_STATUS)
#if defined(CONFIG_VIRTIO_NET_MRG_RXBUF)
                                          | feature_bit(net::VIRTIO_NET_F_MRG_RXBUF)
#endif
#if defined(CONFIG_VIRTIO_NET_GUEST_CSUM)
                                          | feature_bit(net::VIRTIO_NET_F_GUEST_CSUM)
#endif
    ;
constexpr FeatureName kFeatureNames[] = {{net::VIRTIO_NET_F_GUEST_CSUM, "guest_csum"},
                                         {net::VIRTIO_NET_F_MAC, "mac"},
                                         {net::VIRTIO_NET_F_MRG_RXBUF, "mrg_rxbuf"},
                                         {net::VIRTIO_NET_F_STATUS, "status"}};

#if defined(CONFIG_VIRTIO_NET_QUIET_TX)
constexpr bool kQuietTx = true;
#else
constexpr bool kQuietTx = false;
#endif

/// Receive-thread priority: above the network stack's thread, below the
/// kernel's timer thread.
constexpr unsigned kRxThreadPriority = 6;
/// The stack's input (TCP included) runs on this thread: lwIP's own
/// thread has the same.
constexpr std::size_t kRxThreadStack = 8192;
/// Most transmit slots, however large the queue.
constexpr unsigned kMaxTxSlots = 128;
/// Quiet transmit: longest a finished frame waits to be reclaimed when
/// nothing else is sent or received (the stack cannot retransmit a
/// segment the driver still holds).
constexpr std::uint32_t kTxReclaimMs = 10;

// One receive buffer: the header in its own descriptor (what legacy devices
// without ANY_LAYOUT expect), then room for a whole frame. DMA memory.
struct RxBuffer {
    net::NetHdr hdr;
    std::uint8_t frame[net::kRxFrameRoom];
};

// One frame in flight: the header the device reads (DMA memory) and the
// stack's cookie for its fragments.
struct TxSlot {
    net::NetHdr hdr;
    void* cookie;
    TxSlot* next_free;
};

class VirtioNet final : public rtos::net::NetDevice {
public:
    explicit VirtioNet(Transport& t) : dev_(t) {}

    bool start(const Found& found);
    rtos::Status transmit(std::span<const Fragment> fragments, void* cookie,
                          rtos::Timeout timeout) override;
    void flush() override;
    void give_back(std::uint32_t id) override;
    std::uint32_t rx_buffers() const override { return rx_count_; }
    bool attached() const { return interrupts_; }

private:
    Error bring_up();
    bool post_rx(std::uint32_t id);
    void fill_rx();
    void drain_rx();
    void reclaim_tx();
    void arm_reclaim();
    void restart(const char* why);
    bool read_link();
    static void rx_main(void* arg);
    static void on_rx(void* ctx, Virtqueue&) {
        static_cast<VirtioNet*>(ctx)->rx_wake_.give_from_isr();
    }
    static void on_tx(void* ctx, Virtqueue& q) {
        // Quiet transmit: only a sender waiting for room turns it on.
        if (q.interrupts_enabled()) static_cast<VirtioNet*>(ctx)->tx_wake_.give_from_isr();
    }
    static void on_config(void* ctx) {
        auto* self = static_cast<VirtioNet*>(ctx);
        self->config_changed_ = true;
        self->rx_wake_.give_from_isr();
    }
    // DEVICE_NEEDS_RESET: the receive thread restarts the device.
    static void on_needs_reset(void* ctx) {
        auto* self = static_cast<VirtioNet*>(ctx);
        self->restart_why_ = "the device needs a reset (DEVICE_NEEDS_RESET)";
        self->needs_restart_ = true;
        self->rx_wake_.give_from_isr();
    }
    static void on_reclaim_timer(rtos::Timer&, void* ctx) {
        auto* self = static_cast<VirtioNet*>(ctx);
        self->reclaim_due_ = true;
        self->rx_wake_.give();
    }

    Device dev_;
    net::Layout layout_{};
    bool trust_data_valid_ = false;  // GUEST_CSUM negotiated: DATA_VALID means something
    RxBuffer* rx_ = nullptr;
    unsigned rx_count_ = 0;
    unsigned loan_limit_ = 0;  // buffers the stack may keep at once
    // rx_lock_: the receive queue, rx_lent_, lent_ and restarting_; taken
    // by the receive thread and by give_back() from any thread on any CPU
    // (lwIP freeing a loaned buffer). Level 1 of docs/smp.md's lock order,
    // a driver lock: only the virtqueue's own calls and kick() inside it.
    rtos::SpinLock rx_lock_;
    std::uint8_t* rx_lent_ = nullptr;  // per buffer: kept by the stack (rx_lock_)
    unsigned lent_ = 0;                // rx_lock_
    bool restarting_ = false;          // rx_lock_: give_back() leaves the queue alone
    RxFrame* batch_ = nullptr;         // receive thread only
    TxSlot* tx_ = nullptr;
    unsigned tx_count_ = 0;
    // tx_lock_: the transmit queue, tx_free_, tx_busy_, tx_pending_ and the
    // reclaim timer; restart() takes it too. A mutex (senders may wait for
    // room), so it works across CPUs as it is. Order: tx_lock_, then
    // rx_lock_ (a reclaimed frame may return a received buffer to the
    // stack's pool, and lwIP's SYS_ARCH_PROTECT is taken and dropped on the
    // way).
    rtos::Mutex tx_lock_;
    TxSlot* tx_free_ = nullptr;
    unsigned tx_busy_ = 0;              // frames the device has not given back
    volatile bool tx_pending_ = false;  // queued since the last notification
    rtos::Timer reclaim_timer_{&VirtioNet::on_reclaim_timer, this};
    rtos::BinarySemaphore rx_wake_;
    rtos::BinarySemaphore tx_wake_;
    // Flags an interrupt, the timer or a sender raises before giving
    // rx_wake_; the receive thread reads them after taking it (the
    // semaphore's kernel lock orders the two, whichever CPUs they run on).
    volatile bool reclaim_due_ = false;
    volatile bool config_changed_ = false;
    volatile bool needs_restart_ = false;
    const char* volatile restart_why_ = "";
    volatile bool dead_ = false;  // a restart failed: the queues are gone
    bool interrupts_ = false;
    unsigned rx_skip_ = 0;  // buffers left of a frame dropped for spanning several
};

Error VirtioNet::bring_up() {
    const Device::QueueSpec queues[] = {
        {config::net_queue_size, &VirtioNet::on_rx, this},
        {config::net_queue_size, &VirtioNet::on_tx, this},
    };
    Error e = dev_.negotiate(kDriverFeatures);
    if (e != Error::ok) return e;
    e = dev_.setup_queues(queues);
    if (e != Error::ok) {
        dev_.fail();
        return e;
    }
    layout_ =
        net::layout(dev_.transport().is_legacy(), dev_.has_feature(net::VIRTIO_NET_F_MRG_RXBUF));
    trust_data_valid_ = dev_.has_feature(net::VIRTIO_NET_F_GUEST_CSUM);
    if (kQuietTx) dev_.queue(kTxQueue).disable_interrupts();
    return Error::ok;
}

// Puts buffer `id` on the receive queue. rx_lock_ held.
bool VirtioNet::post_rx(std::uint32_t id) {
    RxBuffer& b = rx_[id];
    const InSegment in[] = {{&b.hdr, layout_.hdr_len}, {b.frame, sizeof(b.frame)}};
    return dev_.queue(kRxQueue).add_buffer({}, in, &b).ok();
}

// Puts every buffer the stack does not hold on the (empty) queue: at start
// and after a reset. rx_lock_ held.
void VirtioNet::fill_rx() {
    for (unsigned i = 0; i < rx_count_; ++i)
        if (!rx_lent_[i] && !post_rx(i)) break;
    dev_.queue(kRxQueue).kick();
}

void VirtioNet::give_back(std::uint32_t id) {
    if (id >= rx_count_) return;  // not one of ours
    rtos::SpinLockGuard guard(rx_lock_);
    if (!rx_lent_[id]) return;
    rx_lent_[id] = 0;
    --lent_;
    if (dead_ || restarting_) return;  // fill_rx() posts it
    if (post_rx(id)) dev_.queue(kRxQueue).kick();
}

void VirtioNet::drain_rx() {
    Virtqueue& q = dev_.queue(kRxQueue);
    for (;;) {
        unsigned n = 0;
        bool broken = false;
        {
            rtos::SpinLockGuard guard(rx_lock_);
            q.disable_interrupts();  // one pass, one batch: no interrupt per frame meanwhile
            while (n < rx_count_) {
                Result<Completion> c = q.pop_used();
                if (c.error == Error::empty) break;
                if (!c.ok()) {  // logged by the queue
                    count(counters_.rx_errors);
                    broken = true;
                    break;
                }
                auto* b = static_cast<RxBuffer*>(c.value.token);
                const auto id = static_cast<std::uint32_t>(b - rx_);
                const net::RxCheck r =
                    rx_skip_ > 0 ? net::RxCheck{net::RxVerdict::multi_buffer, 0, false, false}
                                 : net::check_rx(layout_, b->hdr, c.value.len, sizeof(b->frame));
                if (rx_skip_ > 0) {
                    // The rest of a frame spread over several buffers (5.1.6.4):
                    // its own first bytes are frame data, not a header to believe.
                    --rx_skip_;
                } else if (r.verdict == net::RxVerdict::multi_buffer && b->hdr.num_buffers > 1) {
                    rx_skip_ = b->hdr.num_buffers - 1u;
                }
                if (r.verdict != net::RxVerdict::ok) {
                    count(counters_.rx_errors);
                    (void)post_rx(id);  // the same buffer, same segments
                    continue;
                }
                count(counters_.rx_packets);
                count(counters_.rx_bytes, r.frame_len);
                // Counted as lent from here: the stack may give it back
                // before deliver() returns.
                const bool loan = lent_ < loan_limit_;
                if (loan) {
                    rx_lent_[id] = 1;
                    ++lent_;
                }
                batch_[n++] = {b->frame, static_cast<std::uint16_t>(r.frame_len),
                               loan,     r.needs_csum || (trust_data_valid_ && r.data_valid),
                               false,    id};
            }
        }
        for (unsigned i = 0; i < n; ++i) {
            const RxBuffer& b = rx_[batch_[i].id];
            if (b.hdr.flags & net::VIRTIO_NET_HDR_F_NEEDS_CSUM)  // fields checked by check_rx()
                net::complete_checksum(batch_[i].data, batch_[i].len, b.hdr);
        }
        if (n) deliver({batch_, n});
        {
            rtos::SpinLockGuard guard(rx_lock_);
            for (unsigned i = 0; i < n; ++i) {
                const RxFrame& f = batch_[i];
                if (f.kept) continue;  // the stack's until give_back()
                if (f.loanable) {
                    rx_lent_[f.id] = 0;
                    --lent_;
                }
                if (!restarting_) (void)post_rx(f.id);  // fails only once broken
            }
            q.kick();
        }
        if (broken) {
            restart("the device broke the receive ring");
            return;
        }
        if (n == rx_count_) continue;  // a full batch: more may wait
        rtos::SpinLockGuard guard(rx_lock_);
        if (q.enable_interrupts()) return;  // else used meanwhile: another pass
    }
}

// Takes back the transmit slots the device has finished and returns their
// frames to the stack. tx_lock_ held.
void VirtioNet::reclaim_tx() {
    Virtqueue& q = dev_.queue(kTxQueue);
    for (;;) {
        Result<Completion> c = q.pop_used();
        if (c.error == Error::empty) return;
        if (!c.ok()) {
            count(counters_.tx_errors);
            restart_why_ = "the device broke the transmit ring";
            needs_restart_ = true;
            rx_wake_.give();
            return;
        }
        auto* s = static_cast<TxSlot*>(c.value.token);
        --tx_busy_;
        tx_done(s->cookie);
        s->next_free = tx_free_;
        tx_free_ = s;
    }
}

// Quiet transmit: frames stay on the ring until something reclaims them;
// bound that by a timer while any are there. tx_lock_ held.
void VirtioNet::arm_reclaim() {
    if (kQuietTx && tx_busy_ && !reclaim_timer_.active())
        reclaim_timer_.start_once(rtos::clock::ms_to_ticks(kTxReclaimMs) + 1);
}

rtos::Status VirtioNet::transmit(std::span<const Fragment> fragments, void* cookie,
                                 rtos::Timeout timeout) {
    std::size_t total = 0;
    for (const Fragment& f : fragments) total += f.len;
    rtos::LockGuard guard(tx_lock_);
    if (fragments.empty() || fragments.size() > rtos::net::kMaxTxFragments || total == 0 ||
        total > rtos::net::kMaxFrameLen) {
        count(counters_.tx_errors);
        return rtos::Status::invalid;
    }
    // The header, then one descriptor per fragment: one chain per frame.
    OutSegment out[1 + rtos::net::kMaxTxFragments];
    std::size_t n_out = 1;
    for (const Fragment& f : fragments)
        if (f.len) out[n_out++] = {f.data, static_cast<std::uint32_t>(f.len)};
    Virtqueue& q = dev_.queue(kTxQueue);
    const rtos::Tick deadline =
        timeout.is_forever() ? ~rtos::Tick{0} : rtos::clock::ticks() + timeout.count();
    for (;;) {
        if (needs_restart_ || dead_) {
            count(counters_.tx_dropped);
            return rtos::Status::io_error;
        }
        reclaim_tx();
        if (TxSlot* s = tx_free_) {
            s->hdr = {};
            s->cookie = cookie;
            out[0] = {&s->hdr, layout_.hdr_len};
            const Result<std::uint16_t> added =
                q.add_buffer(std::span<const OutSegment>(out, n_out), {}, s);
            if (added.ok()) {
                tx_free_ = s->next_free;
                ++tx_busy_;
                tx_pending_ = true;
                count(counters_.tx_packets);
                count(counters_.tx_bytes, total);
                return rtos::Status::ok;
            }
            if (added.error != Error::no_space) {
                count(counters_.tx_errors);
                return rtos::Status::io_error;
            }
        }
        // No room: the device must see what is queued, then we wait.
        const rtos::Tick now = rtos::clock::ticks();
        if (now >= deadline) {
            count(counters_.tx_dropped);
            return rtos::Status::timeout;
        }
        if (tx_pending_) {
            q.kick();
            tx_pending_ = false;
        }
        if (!interrupts_) {  // completions are polled each tick without one
            tx_wake_.take(rtos::Timeout::ticks(1));
            continue;
        }
        if (!q.enable_interrupts()) {  // some finished meanwhile: no need to wait
            if (kQuietTx) q.disable_interrupts();
            continue;
        }
        tx_wake_.take(rtos::Timeout::ticks(deadline - now));
        if (kQuietTx) q.disable_interrupts();
    }
}

void VirtioNet::flush() {
    // Read without the lock: a frame another thread queued is flushed by
    // that thread (the stack flushes after each output burst).
    if (!tx_pending_) return;
    rtos::LockGuard guard(tx_lock_);
    const bool pending = tx_pending_;  // false if a sender notified meanwhile
    tx_pending_ = false;
    if (!pending) return;
    dev_.queue(kTxQueue).kick();
    arm_reclaim();
}

bool VirtioNet::read_link() {
    if (!dev_.has_feature(net::VIRTIO_NET_F_STATUS)) return true;
    std::uint16_t status = 0;
    if (dev_.read_config_consistent([&](Transport& t) { status = t.config_read16(kCfgStatus); }) !=
        Error::ok)
        return link_up_;
    return (status & VIRTIO_NET_S_LINK_UP) != 0;
}

// After a ring-protocol violation: reset (the device stops touching our
// buffers), take every buffer back and start again with the same buffers;
// those the stack holds go back on the ring when it gives them back.
// Receive thread only.
void VirtioNet::restart(const char* why) {
    rtos::LockGuard guard(tx_lock_);
    rtos::printk("%s: %s; resetting the device\n", name_, why);
    {
        rtos::SpinLockGuard guard(rx_lock_);
        restarting_ = true;
    }
    dev_.reset();
    while (dev_.queue(kRxQueue).reclaim().ok()) {
    }
    for (;;) {
        Result<void*> t = dev_.queue(kTxQueue).reclaim();
        if (!t.ok()) break;
        auto* s = static_cast<TxSlot*>(t.value);
        --tx_busy_;
        tx_done(s->cookie);  // dropped, but the stack's fragments are free again
        s->next_free = tx_free_;
        tx_free_ = s;
        count(counters_.tx_dropped);
    }
    tx_pending_ = false;
    if (bring_up() != Error::ok) {
        rtos::printk("%s: restart failed; interface down\n", name_);
        dead_ = true;
        needs_restart_ = false;
        set_link(false);
        return;
    }
    needs_restart_ = false;
    rx_skip_ = 0;
    dev_.driver_ok();
    {
        rtos::SpinLockGuard rx_guard(rx_lock_);
        restarting_ = false;
        fill_rx();
    }
    rtos::printk("%s: re-initialised\n", name_);  // never under a spinlock (docs/smp.md)
}

void VirtioNet::rx_main(void* arg) {
    auto* self = static_cast<VirtioNet*>(arg);
    for (;;) {
        // Without an interrupt line, poll every tick.
        self->rx_wake_.take(self->interrupts_ ? rtos::Timeout::forever() : rtos::Timeout::ticks(1));
        if (self->dead_) continue;
        if (self->needs_restart_) self->restart(self->restart_why_);
        if (self->config_changed_) {
            self->config_changed_ = false;
            const bool up = self->read_link();
            if (up != self->link_up_)
                rtos::printk("%s: link %s\n", self->name_, up ? "up" : "down");
            self->set_link(up);
        }
        if (!self->interrupts_) self->tx_wake_.give();
        // Quiet transmit: finished frames go back to the stack here too.
        if (kQuietTx && (self->reclaim_due_ || self->dev_.queue(kTxQueue).has_used())) {
            self->reclaim_due_ = false;
            rtos::LockGuard guard(self->tx_lock_);
            self->reclaim_tx();
            self->arm_reclaim();
        }
        self->drain_rx();
    }
}

bool VirtioNet::start(const Found& found) {
    snprintf(name_, sizeof(name_), "eth%u", found.index);
    if (bring_up() != Error::ok) {
        dev_.shutdown();
        return false;
    }

    if (dev_.has_feature(net::VIRTIO_NET_F_MAC)) {
        (void)dev_.read_config_consistent([&](Transport& t) {
            for (unsigned i = 0; i < rtos::net::kMacLen; ++i) mac_[i] = t.config_read8(kCfgMac + i);
        });
    } else {
        // Locally administered, unicast; varies with boot timing.
        std::uint64_t x = rtos::clock::now_ns() * 0x9e3779b97f4a7c15ull + found.address;
        for (unsigned i = 0; i < rtos::net::kMacLen; ++i)
            mac_[i] = static_cast<std::uint8_t>(x >> (8 * i + 3));
        mac_[0] = static_cast<std::uint8_t>((mac_[0] | 0x02) & ~0x01);
    }

    // Buffers per queue: one descriptor each with indirect tables, else two
    // (receive) or up to 1 + kMaxTxFragments (transmit).
    Virtqueue& rq = dev_.queue(kRxQueue);
    Virtqueue& tq = dev_.queue(kTxQueue);
    rx_count_ = rq.uses_indirect() ? rq.size() : rq.size() / 2;
    tx_count_ = tq.uses_indirect() ? tq.size() : tq.size() / 2;
    if (tx_count_ > kMaxTxSlots) tx_count_ = kMaxTxSlots;
    if (rx_count_ == 0) rx_count_ = 1;
    if (tx_count_ == 0) tx_count_ = 1;
    // A quarter of the buffers (at least one) always stays on the ring.
    loan_limit_ = rx_count_ - (rx_count_ / 4 ? rx_count_ / 4 : 1);
    rx_ = static_cast<RxBuffer*>(hal::dma_alloc(sizeof(RxBuffer) * rx_count_, 64));
    tx_ = static_cast<TxSlot*>(hal::dma_alloc(sizeof(TxSlot) * tx_count_, 64));
    rx_lent_ = static_cast<std::uint8_t*>(hal::dma_alloc(rx_count_, 8));
    batch_ = static_cast<RxFrame*>(hal::dma_alloc(sizeof(RxFrame) * rx_count_, alignof(RxFrame)));
    if (rx_ == nullptr || tx_ == nullptr || rx_lent_ == nullptr || batch_ == nullptr) {
        rtos::printk("%s: out of memory for %u+%u buffers\n", dev_.name(), rx_count_, tx_count_);
        hal::dma_free(rx_);
        hal::dma_free(tx_);
        hal::dma_free(rx_lent_);
        hal::dma_free(batch_);
        dev_.fail();
        dev_.shutdown();
        return false;
    }
    memset(rx_lent_, 0, rx_count_);
    for (unsigned i = 0; i < tx_count_; ++i) {
        tx_[i].next_free = tx_free_;
        tx_free_ = &tx_[i];
    }
    dev_.set_config_callback(&VirtioNet::on_config, this);
    dev_.set_needs_reset_callback(&VirtioNet::on_needs_reset, this);
    interrupts_ = dev_.attach_interrupts();
    if (!interrupts_) rtos::printk("%s: no interrupt, polling\n", dev_.name());

    dev_.driver_ok();
    {
        rtos::SpinLockGuard guard(rx_lock_);
        fill_rx();
    }
    link_up_ = read_link();

    rtos::Thread* t = rtos::Thread::create({.name = "net-rx", .priority = kRxThreadPriority},
                                           &VirtioNet::rx_main, this, kRxThreadStack, true);
    if (t == nullptr) {
        rtos::printk("%s: cannot start the receive thread\n", dev_.name());
        dev_.fail();
        return false;  // the device is left reset-free but FAILED: it never gets our buffers back
    }

    char extra[96];
    snprintf(extra, sizeof(extra), " mac %02x:%02x:%02x:%02x:%02x:%02x hdr %u rx %u tx %u link %s",
             mac_[0], mac_[1], mac_[2], mac_[3], mac_[4], mac_[5], layout_.hdr_len, rx_count_,
             tx_count_, link_up_ ? "up" : "down");
    announce(found, dev_, kFeatureNames, extra);
    rtos::net::NetDevice::add(this);
    return true;
}

bool probe(const Found& found) {
    void* mem = hal::dma_alloc(sizeof(VirtioNet), alignof(VirtioNet));
    if (!mem) return false;
    auto* n = new (mem) VirtioNet(found.transport);
    if (n->start(found)) return true;
    // Kept when the interrupt handler was attached to it (it is never detached).
    if (!n->attached()) {
        n->~VirtioNet();
        hal::dma_free(mem);
    }
    return false;
}

}  // namespace

VIRTIO_DRIVER(net, VIRTIO_ID_NET, probe);

}  // namespace virtio
