// virtio-net (5.1 Network Device) on the link-layer interface of
// components/drivers/net/netdev.hpp: one receive and one transmit queue, MTU 1500.
//
// Receive: every buffer is preallocated at probe time and always on the
// queue; the interrupt only wakes the driver's receive thread, which checks
// each used buffer, hands the frame to the stack (it copies) and puts the
// same buffer straight back. Transmit: frames are copied into preallocated
// slots; completed slots are recycled before each send. Nothing is allocated
// after probe. Every length and id the device returns is checked (the
// virtqueue checks ids and lengths against the chain; this file the header
// and frame sizes); a bad one is dropped and counted. A ring-protocol
// violation resets and restarts the device.
#include <new>

#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/critical.hpp>
#include <rtos/format.hpp>
#include <rtos/mutex.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

#include "drivers/virtio/config.hpp"
#include "drivers/virtio/driver.hpp"
#include "drivers/virtio/hal.hpp"
#include "drivers/virtio/net/virtio_net_hdr.hpp"
#include "drivers/net/netdev.hpp"

namespace virtio {
namespace {

using rtos::net::Fragment;

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

/// Receive-thread priority: above the network stack's thread, below the
/// kernel's timer thread.
constexpr unsigned kRxThreadPriority = 6;
constexpr std::size_t kRxThreadStack = 4096;
/// Most transmit slots, however large the queue.
constexpr unsigned kMaxTxSlots = 64;

// One receive buffer: the header in its own descriptor (what legacy devices
// without ANY_LAYOUT expect), then room for a whole frame. DMA memory.
struct RxBuffer {
    net::NetHdr hdr;
    std::uint8_t frame[net::kRxFrameRoom];
};

struct TxSlot {
    net::NetHdr hdr;
    std::uint8_t frame[rtos::net::kMaxFrameLen];
    TxSlot* next_free;
};

class VirtioNet final : public rtos::net::NetDevice {
public:
    explicit VirtioNet(Transport& t) : dev_(t) {}

    bool start(const Found& found);
    rtos::Status transmit(std::span<const Fragment> fragments, rtos::Timeout timeout) override;
    bool attached() const { return interrupts_; }

private:
    Error bring_up();
    void fill_rx();
    void drain_rx();
    void reclaim_tx();
    void restart(const char* why);
    bool read_link();
    static void rx_main(void* arg);
    static void on_rx(void* ctx, Virtqueue&) {
        static_cast<VirtioNet*>(ctx)->rx_wake_.give_from_isr();
    }
    static void on_tx(void* ctx, Virtqueue&) {
        static_cast<VirtioNet*>(ctx)->tx_wake_.give_from_isr();
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

    Device dev_;
    net::Layout layout_{};
    RxBuffer* rx_ = nullptr;
    unsigned rx_count_ = 0;
    // Buffers still to come of a refused frame that spans several
    // (num_buffers > 1): payload only, never read as frames. Receive thread only.
    unsigned rx_continuation_ = 0;
    TxSlot* tx_ = nullptr;
    unsigned tx_count_ = 0;
    TxSlot* tx_free_ = nullptr;
    rtos::Mutex tx_lock_;  // the transmit queue and tx_free_; restart() takes it too
    rtos::BinarySemaphore rx_wake_;
    rtos::BinarySemaphore tx_wake_;
    volatile bool config_changed_ = false;
    volatile bool needs_restart_ = false;
    const char* volatile restart_why_ = "";
    volatile bool dead_ = false;  // a restart failed: the queues are gone
    bool interrupts_ = false;
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
    return Error::ok;
}

// Puts every receive buffer on the (empty) queue: at start and after a reset.
void VirtioNet::fill_rx() {
    Virtqueue& q = dev_.queue(kRxQueue);
    rx_continuation_ = 0;
    for (unsigned i = 0; i < rx_count_; ++i) {
        RxBuffer& b = rx_[i];
        const InSegment in[] = {{&b.hdr, layout_.hdr_len}, {b.frame, sizeof(b.frame)}};
        if (!q.add_buffer({}, in, &b).ok()) break;
    }
    q.kick();
}

void VirtioNet::drain_rx() {
    Virtqueue& q = dev_.queue(kRxQueue);
    unsigned returned = 0;
    for (;;) {
        Result<Completion> c = q.pop_used();
        if (c.error == Error::empty) break;
        if (!c.ok()) {  // logged by the queue
            {
                rtos::IrqLock lock;
                ++counters_.rx_errors;
            }
            restart("the device broke the receive ring");
            return;
        }
        auto* b = static_cast<RxBuffer*>(c.value.token);
        const net::RxCheck r = rx_continuation_ > 0
                                   ? net::RxCheck{net::RxVerdict::continuation, 0, false}
                                   : net::check_rx(layout_, b->hdr, c.value.len, sizeof(b->frame));
        if (r.verdict == net::RxVerdict::ok) {
            if (r.needs_csum) net::complete_checksum(b->frame, r.frame_len, b->hdr);
            {
                rtos::IrqLock lock;
                ++counters_.rx_packets;
                counters_.rx_bytes += r.frame_len;
            }
            deliver(b->frame, r.frame_len);
        } else if (r.verdict == net::RxVerdict::continuation) {
            --rx_continuation_;
        } else {
            // A frame over several buffers (only a back-end that ignores the
            // MTU sends one) is refused whole: its other buffers hold payload
            // where a header would be (5.1.6.4.2), never to be read as frames.
            if (r.verdict == net::RxVerdict::multi_buffer && b->hdr.num_buffers > 1)
                rx_continuation_ = b->hdr.num_buffers - 1u < rx_count_ - 1u
                                       ? b->hdr.num_buffers - 1u
                                       : rx_count_ - 1u;
            rtos::IrqLock lock;
            ++counters_.rx_errors;
        }
        // Recycle at once: the same buffer, same segments.
        const InSegment in[] = {{&b->hdr, layout_.hdr_len}, {b->frame, sizeof(b->frame)}};
        if (!q.add_buffer({}, in, b).ok()) break;  // only if broken meanwhile
        if (++returned % 16 == 0) q.kick();
    }
    q.kick();
}

// Takes back the transmit slots the device has finished. tx_lock_ held.
void VirtioNet::reclaim_tx() {
    Virtqueue& q = dev_.queue(kTxQueue);
    for (;;) {
        Result<Completion> c = q.pop_used();
        if (c.error == Error::empty) return;
        if (!c.ok()) {
            ++counters_.tx_errors;
            restart_why_ = "the device broke the transmit ring";
            needs_restart_ = true;
            rx_wake_.give();
            return;
        }
        auto* s = static_cast<TxSlot*>(c.value.token);
        s->next_free = tx_free_;
        tx_free_ = s;
    }
}

rtos::Status VirtioNet::transmit(std::span<const Fragment> fragments, rtos::Timeout timeout) {
    std::size_t total = 0;
    for (const Fragment& f : fragments) total += f.len;
    rtos::LockGuard guard(tx_lock_);
    if (total == 0 || total > rtos::net::kMaxFrameLen) {
        ++counters_.tx_errors;
        return rtos::Status::invalid;
    }
    const rtos::Tick deadline =
        timeout.is_forever() ? ~rtos::Tick{0} : rtos::clock::ticks() + timeout.count();
    for (;;) {
        if (needs_restart_ || dead_) {
            ++counters_.tx_dropped;
            return rtos::Status::io_error;
        }
        reclaim_tx();
        if (tx_free_ != nullptr) break;
        const rtos::Tick now = rtos::clock::ticks();
        if (now >= deadline) {
            ++counters_.tx_dropped;
            return rtos::Status::timeout;
        }
        // Completions arrive by interrupt; poll each tick without one.
        tx_wake_.take(rtos::Timeout::ticks(interrupts_ ? deadline - now : 1));
    }
    TxSlot* s = tx_free_;
    tx_free_ = s->next_free;
    s->hdr = {};
    std::size_t off = 0;
    for (const Fragment& f : fragments) {
        memcpy(s->frame + off, f.data, f.len);
        off += f.len;
    }
    const OutSegment out[] = {{&s->hdr, layout_.hdr_len},
                              {s->frame, static_cast<std::uint32_t>(total)}};
    Virtqueue& q = dev_.queue(kTxQueue);
    if (!q.add_buffer(out, {}, s).ok()) {
        s->next_free = tx_free_;
        tx_free_ = s;
        ++counters_.tx_errors;
        return rtos::Status::io_error;
    }
    q.kick();
    ++counters_.tx_packets;
    counters_.tx_bytes += total;
    return rtos::Status::ok;
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
// buffers), take every buffer back and start again with the same buffers.
// Receive thread only.
void VirtioNet::restart(const char* why) {
    rtos::LockGuard guard(tx_lock_);
    rtos::printk("%s: %s; resetting the device\n", name_, why);
    dev_.reset();
    for (std::uint16_t qi : {kRxQueue, kTxQueue}) {
        for (;;) {
            Result<void*> t = dev_.queue(qi).reclaim();
            if (!t.ok()) break;
            if (qi == kTxQueue) {
                auto* s = static_cast<TxSlot*>(t.value);
                s->next_free = tx_free_;
                tx_free_ = s;
                ++counters_.tx_dropped;
            }
        }
    }
    if (bring_up() != Error::ok) {
        rtos::printk("%s: restart failed; interface down\n", name_);
        dead_ = true;
        needs_restart_ = false;
        set_link(false);
        return;
    }
    needs_restart_ = false;
    dev_.driver_ok();
    fill_rx();
    rtos::printk("%s: re-initialised\n", name_);
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

    // Buffers per queue: one descriptor each with indirect tables, else two.
    Virtqueue& rq = dev_.queue(kRxQueue);
    Virtqueue& tq = dev_.queue(kTxQueue);
    rx_count_ = rq.uses_indirect() ? rq.size() : rq.size() / 2;
    tx_count_ = tq.uses_indirect() ? tq.size() : tq.size() / 2;
    if (tx_count_ > kMaxTxSlots) tx_count_ = kMaxTxSlots;
    if (rx_count_ == 0) rx_count_ = 1;
    if (tx_count_ == 0) tx_count_ = 1;
    rx_ = static_cast<RxBuffer*>(hal::dma_alloc(sizeof(RxBuffer) * rx_count_, 64));
    tx_ = static_cast<TxSlot*>(hal::dma_alloc(sizeof(TxSlot) * tx_count_, 64));
    if (rx_ == nullptr || tx_ == nullptr) {
        rtos::printk("%s: out of memory for %u+%u buffers\n", dev_.name(), rx_count_, tx_count_);
        hal::dma_free(rx_);
        hal::dma_free(tx_);
        dev_.fail();
        dev_.shutdown();
        return false;
    }
    for (unsigned i = 0; i < tx_count_; ++i) {
        tx_[i].next_free = tx_free_;
        tx_free_ = &tx_[i];
    }
    dev_.set_config_callback(&VirtioNet::on_config, this);
    dev_.set_needs_reset_callback(&VirtioNet::on_needs_reset, this);
    interrupts_ = dev_.attach_interrupts();
    if (!interrupts_) rtos::printk("%s: no interrupt, polling\n", dev_.name());

    dev_.driver_ok();
    fill_rx();
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
