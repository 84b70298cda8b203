// Packed virtqueue (2.8 Packed Virtqueues) behind the Virtqueue calls:
// 2.8.21 Supplying Buffers, 2.8.22 Receiving Used Buffers, 2.8.10 Driver and
// Device Event Suppression. The split ring (virtqueue.cpp) dispatches here
// when VIRTIO_F_RING_PACKED was negotiated.
//
// One descriptor ring both sides write. The driver makes a list of
// descriptors available at next_avail_ (AVAIL = its wrap counter, USED = the
// inverse, the first descriptor's flags written last); the device writes one
// used descriptor per list, in completion order, at the driver's next_used_
// (AVAIL = USED = its wrap counter) and skips the rest of the list. The
// driver therefore remembers each Buffer ID's descriptor count (Slot::count)
// and skips as many. Buffer IDs come from a free list (Slot::next, head
// free_head_); num_free_ counts free ring descriptors. While requests are in
// flight the descriptor at next_used_ is always one the driver wrote in the
// device's current lap (AVAIL = the device's wrap counter, USED = its
// inverse) until the device uses it, so any other AVAIL/USED pair there is
// the device's mistake. With nothing in flight it holds what the last lap
// left (a used or a skipped descriptor), which is not looked at.
#include "drivers/virtio/barrier.hpp"
#include "drivers/virtio/hal.hpp"
#include "drivers/virtio/transport/transport.hpp"
#include "drivers/virtio/virtqueue.hpp"

namespace virtio {

namespace {

template <typename T>
T read_once(const T* p) {
    return *static_cast<const volatile T*>(p);
}
template <typename T>
void write_once(T* p, T v) {
    *static_cast<volatile T*>(p) = v;
}

std::uint64_t phys(const void* p) { return hal::virt_to_phys(p); }

// 2.8.1: the AVAIL/USED marks of a descriptor the device used in the lap of
// wrap counter 1; in a lap of 0 both are clear. A descriptor the driver makes
// available has them different: the used marks with USED flipped.
constexpr std::uint16_t kMarks = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;

// A PvirtqEventSuppress read as one 32-bit word: desc in the low half,
// flags in the high half (2.8.14, little-endian like every VirtIO 1.x
// structure and both our targets).
using EventWord = std::uint32_t __attribute__((may_alias));
static_assert(sizeof(PvirtqEventSuppress) == sizeof(EventWord) &&
              offsetof(PvirtqEventSuppress, flags) == 2 &&
              __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__);

}  // namespace

Error Virtqueue::arm_packed() {
    next_avail_ = next_used_ = 0;
    avail_marks_ = VIRTQ_DESC_F_AVAIL;  // 2.8.1: both wrap counters start at 1
    used_marks_ = kMarks;
    watch_next_ = {kMarks, VIRTQ_DESC_F_AVAIL};  // our available marks in the lap of 1
    watch_ = &ring_[0].flags;
    watch_nothing();  // nothing in flight
    // 2.8.10: interrupts on; with EVENT_IDX at the first used descriptor.
    write_once(&driver_event_->desc, pvirtq_off_wrap(0, true));
    write_once(&driver_event_->flags, event_idx_ ? RING_EVENT_FLAGS_DESC : RING_EVENT_FLAGS_ENABLE);
    return transport_->setup_queue(index_, size_, phys(ring_), phys(driver_event_),
                                   phys(device_event_));
}

// The off_wrap (2.8.14) of the descriptor whose use should interrupt us:
// the next one, or with batching the one where half the requests in flight
// end if they are of one size (the split ring's half of them; never beyond
// the last of them, or the interrupt would never come). Only this file uses it.
inline std::uint16_t Virtqueue::next_used_event_packed() const {
    // The wrap bit of off_wrap is where USED is in the used marks (bit 15).
    static_assert(VIRTQ_DESC_F_USED == 1u << RING_EVENT_WRAP_SHIFT);
    const auto next = static_cast<std::uint16_t>(next_used_ | (used_marks_ & VIRTQ_DESC_F_USED));
    if (in_flight_ < 2 || !batch_interrupts_) return next;
    const std::uint32_t descs = size_ - num_free_;
    std::uint32_t pos = next_used_ + (in_flight_ / 2u) * descs / in_flight_ - 1;
    bool wrap = used_marks_ != 0;
    if (pos >= size_) {
        pos -= size_;
        wrap = !wrap;
    }
    return pvirtq_off_wrap(static_cast<std::uint16_t>(pos), wrap);
}

Result<std::uint16_t> Virtqueue::add_packed(std::span<const OutSegment> out,
                                            std::span<const InSegment> in, void* token) {
    if (broken_) return {Error::broken, 0};  // (packed_ implies rings)
    std::uint64_t writable;
    if (!fits(out, in, writable)) return {Error::invalid_argument, 0};
    const std::size_t total = out.size() + in.size();
    const bool indirect = indirect_pool_ != nullptr && total > 1 && total <= kIndirectMax;
    const auto needed = static_cast<std::uint16_t>(indirect ? 1 : total);
    if (num_free_ < needed) return {Error::no_space, 0};
    // Keep kick()'s old..new distance within one ring (pvirtq_need_event()).
    if (num_added_ > size_ - needed) kick();

    const std::uint16_t id = free_head_;  // one is free while a descriptor is
    free_head_ = slots_[id].next;
    const std::uint16_t head = next_avail_;
    // Element k of the request into d (2.8.4 Write Flag, 2.8.5 Address and Length).
    auto element = [&](std::size_t k, PvirtqDesc& d) -> std::uint16_t {
        const bool is_out = k < out.size();
        d.addr = phys(is_out ? out[k].data : in[k - out.size()].data);
        d.len = is_out ? out[k].len : in[k - out.size()].len;
        d.id = id;
        return is_out ? 0 : VIRTQ_DESC_F_WRITE;
    };
    std::uint16_t head_flags;
    if (indirect) {
        // 2.8.7: a table whose only flag is WRITE, in one ring descriptor.
        auto* table =
            reinterpret_cast<PvirtqDesc*>(indirect_pool_) + std::size_t{id} * kIndirectMax;
        for (std::size_t k = 0; k < total; ++k) table[k].flags = element(k, table[k]);
        PvirtqDesc& d = ring_[head];
        d.addr = phys(table);
        d.len = static_cast<std::uint32_t>(sizeof(PvirtqDesc) * total);
        d.id = id;
        head_flags = VIRTQ_DESC_F_INDIRECT | avail_marks_;
        if (++next_avail_ == size_) {
            next_avail_ = 0;
            avail_marks_ ^= kMarks;
        }
    } else {
        // 2.8.6: NEXT on all but the last, the Buffer ID in each (the device
        // reads it from the last), the wrap counter's marks as each is made
        // available; the head's flags wait until the list is written.
        std::uint16_t pos = head;
        head_flags = 0;
        for (std::size_t k = 0; k < total; ++k) {
            PvirtqDesc& d = ring_[pos];
            std::uint16_t flags = element(k, d) | avail_marks_;
            if (k + 1 < total) flags |= VIRTQ_DESC_F_NEXT;
            if (k == 0) head_flags = flags;
            else d.flags = flags;
            if (++pos == size_) {
                pos = 0;
                avail_marks_ ^= kMarks;
            }
        }
        next_avail_ = pos;
    }
    num_free_ = static_cast<std::uint16_t>(num_free_ - needed);
    Slot& s = slots_[id];
    s.token = token;
    s.writable = writable;
    s.count = needed;
    s.in_flight = true;
    // Watch the next used descriptor (watch_ is on it): ours, about to be
    // made available.
    if (in_flight_++ == 0) watching_ = watch_next_;
    if (in_flight_ > stats_.inflight_max) stats_.inflight_max = in_flight_;

    // 2.8.21.1: the list, a barrier, then the head's flags that publish it
    // (store-store: dmb ishst on aarch64, as Linux's virtio_wmb()).
    barrier::write();
    write_once(&ring_[head].flags, head_flags);
    num_added_ = static_cast<std::uint16_t>(num_added_ + needed);
    return {Error::ok, id};
}

// 2.8.21.3: the device's event word says DISABLE, ENABLE, or with EVENT_IDX
// the descriptor whose availability it waits for.
bool Virtqueue::kick_packed() {
    if (broken_ || num_added_ == 0) return false;
    // Batched interrupts wait for more of the requests now in flight (as in
    // the split ring's kick()).
    if (in_flight_ >= 4 && batch_interrupts_ && event_idx_ && interrupts_on_)
        write_once(&driver_event_->desc, next_used_event_packed());
    // 2.8.21.3.1: the flags we published before the device's event word
    // (a store then a load: only a full barrier orders those, dmb ish on
    // aarch64, as Linux's virtio_mb()).
    barrier::full();
    const auto old_pos = static_cast<std::uint16_t>(next_avail_ - num_added_);
    num_added_ = 0;
    // The device's structure in one read (as Linux's snapshot in
    // virtqueue_kick_prepare_packed()): a desc and flags the device wrote
    // together.
    const std::uint32_t event = read_once(reinterpret_cast<const EventWord*>(device_event_));
    const auto flags = static_cast<std::uint16_t>(event >> 16);
    // DESC is only for EVENT_IDX; a device that uses it anyway is taken at
    // its word (at worst it misses a notification it asked not to get).
    bool needed = flags != RING_EVENT_FLAGS_DISABLE;  // ENABLE, or nonsense
    if (flags == RING_EVENT_FLAGS_DESC)
        needed = pvirtq_need_event(static_cast<std::uint16_t>(event), size_,
                                   (avail_marks_ & VIRTQ_DESC_F_AVAIL) != 0, next_avail_, old_pos);
    return notify(needed);
}

// pop_used() once has_used(): broken, or the descriptor at next_used_ (at
// watch_; its flags read once here, whatever has_used() saw) is not the one
// we made available there.
Result<Completion> Virtqueue::take_used_packed() {
    if (broken_) return {Error::broken, {nullptr, 0}};
    const std::uint16_t marks = watched() & kMarks;
    if (marks != used_marks_) {
        // Still ours (the device changed it back since has_used()), or not
        // a descriptor of this lap.
        if (marks == watching_.idle) return {Error::empty, {nullptr, 0}};
        rtos::printk(
            "%s: queue %u broken: descriptor %u has AVAIL %u USED %u, ring wrap counter "
            "%u\n",
            transport_->name(), index_, next_used_, (marks & VIRTQ_DESC_F_AVAIL) != 0,
            (marks & VIRTQ_DESC_F_USED) != 0, used_marks_ != 0);
        return break_queue();
    }
    // 2.8.22: the rest of the used descriptor once its flags say it is used
    // (a load-load order: dmb ishld on aarch64, as Linux's virtio_rmb()).
    barrier::read();
    const PvirtqDesc& d = ring_[next_used_];
    const std::uint16_t id = read_once(&d.id);
    const std::uint32_t len = read_once(&d.len);  // also without WRITE: QEMU sets none
    if (id >= size_) {
        rtos::printk("%s: queue %u broken: used id %u out of range (size %u)\n", transport_->name(),
                     index_, id, size_);
        return break_queue();
    }
    Slot& s = slots_[id];
    if (!s.in_flight) {
        rtos::printk("%s: queue %u broken: used id %u is not in flight\n", transport_->name(),
                     index_, id);
        return break_queue();
    }
    if (len > s.writable) {
        rtos::printk("%s: queue %u broken: used len %u above the %llu writable bytes of id %u\n",
                     transport_->name(), index_, len, static_cast<unsigned long long>(s.writable),
                     id);
        return break_queue();
    }
    // 2.8.6: the device skipped the rest of the list.
    next_used_ = static_cast<std::uint16_t>(next_used_ + s.count);
    if (next_used_ >= size_) {
        next_used_ = static_cast<std::uint16_t>(next_used_ - size_);
        used_marks_ ^= kMarks;
        watch_next_.idle ^= kMarks;  // our available marks flip with the lap
    }
    void* token = s.token;
    free_id(id);
    watch_ = &ring_[next_used_].flags;
    watching_ = in_flight_ == 0 ? Watch{0, 0} : watch_next_;
    ++stats_.used;
    if (event_idx_ && interrupts_on_) {
        // Interrupt us at the next used descriptor (or, batching, the next
        // half of those in flight); visible before our next look at the
        // ring (a store then a load: full barrier, Linux's virtio_store_mb()).
        write_once(&driver_event_->desc, next_used_event_packed());
        barrier::full();
    }
    return {Error::ok, {token, len}};
}

// The Buffer ID and its descriptors are free again.
void Virtqueue::free_id(std::uint16_t id) {
    Slot& s = slots_[id];
    num_free_ = static_cast<std::uint16_t>(num_free_ + s.count);
    s.in_flight = false;
    s.next = free_head_;
    free_head_ = id;
    --in_flight_;
}

// 2.8.10: DISABLE; ENABLE, or with EVENT_IDX DESC at the next used
// descriptor (its offset written before the flags that make it count).
void Virtqueue::set_interrupts_packed(bool on) {
    if (on && event_idx_) {
        write_once(&driver_event_->desc, next_used_event_packed());
        barrier::write();
        write_once(&driver_event_->flags, RING_EVENT_FLAGS_DESC);
    } else {
        write_once(&driver_event_->flags, on ? RING_EVENT_FLAGS_ENABLE : RING_EVENT_FLAGS_DISABLE);
    }
}

}  // namespace virtio
