// The device side of a packed ring (2.8) in the device model; see
// fake_mmio_device.hpp. QEMU's hw/virtio/virtio.c is the reference for what
// a device does: virtqueue_packed_pop() (take descriptors in ring order while
// they are available in the device's lap), virtqueue_packed_fill_desc() (one
// used descriptor per buffer at the used position, flags written last),
// virtio_queue_packed_set_notification() (the Device Event Suppression word)
// and virtio_packed_should_notify() (the interrupt).
#include <atomic>
#include <cstring>

#include "fake_mmio_device.hpp"

namespace fake {

using namespace virtio;

namespace {

template <typename T>
T load(std::uint64_t addr) {
    T v;
    std::memcpy(&v, reinterpret_cast<const void*>(static_cast<std::uintptr_t>(addr)), sizeof(T));
    return v;
}
template <typename T>
void store(std::uint64_t addr, T v) {
    std::memcpy(reinterpret_cast<void*>(static_cast<std::uintptr_t>(addr)), &v, sizeof(T));
}

constexpr std::uint16_t kMarks = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;

// 2.8.1: the marks of a descriptor made available / used in a lap.
constexpr std::uint16_t avail_marks(bool wrap) {
    return wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED;
}
constexpr std::uint16_t used_marks(bool wrap) { return wrap ? kMarks : 0; }

PvirtqDesc desc_at(std::uint64_t ring, std::uint16_t pos) {
    return load<PvirtqDesc>(ring + sizeof(PvirtqDesc) * pos);
}

// Advances a ring position, flipping the wrap counter past the end.
void advance(std::uint16_t& pos, bool& wrap, std::uint32_t by, std::uint16_t num) {
    std::uint32_t p = pos + by;
    while (p >= num) {
        p -= num;
        wrap = !wrap;
    }
    pos = static_cast<std::uint16_t>(p);
}

}  // namespace

void FakeMmioDevice::process_packed(std::uint16_t index, Queue& q) {
    std::vector<std::pair<Chain, std::uint32_t>> finished;  // held back when reversing
    for (;;) {
        const std::uint16_t flags = desc_at(q.desc, q.last_avail_idx).flags;
        std::atomic_thread_fence(std::memory_order_acquire);
        if ((flags & kMarks) != avail_marks(q.avail_wrap)) break;  // not (yet) available
        if (has_work && !has_work(index)) break;
        Chain chain;
        if (!walk_packed(q, chain)) {
            broken_ = true;  // QEMU's virtio_error(): the device stops
            return;
        }
        const std::uint32_t len = behaviour(index, chain);
        if (len == kNotYet) break;  // left available for a later process()
        advance(q.last_avail_idx, q.avail_wrap, chain.ring_slots, q.num);
        if (!q.outstanding.insert(chain.head).second)
            violation("Buffer ID " + std::to_string(chain.head) + " made available twice");
        if (complete_in_reverse) finished.emplace_back(std::move(chain), len);
        else push_used_packed(q, chain, len);
    }
    for (auto it = finished.rbegin(); it != finished.rend(); ++it)
        push_used_packed(q, it->first, it->second);
    // Notifications back on: with EVENT_IDX at the next descriptor to take.
    if (q.no_notify) {
        store<std::uint16_t>(q.used + 2, RING_EVENT_FLAGS_DISABLE);
    } else if (negotiated(VIRTIO_RING_F_EVENT_IDX)) {
        store<std::uint16_t>(q.used, pvirtq_off_wrap(q.last_avail_idx, q.avail_wrap));
        std::atomic_thread_fence(std::memory_order_release);
        store<std::uint16_t>(q.used + 2, RING_EVENT_FLAGS_DESC);
    } else {
        store<std::uint16_t>(q.used + 2, RING_EVENT_FLAGS_ENABLE);
    }
}

// Reads the buffer at last_avail_idx: a list linked by NEXT through the ring
// (each descriptor available in its own lap), or one INDIRECT descriptor.
bool FakeMmioDevice::walk_packed(Queue& q, Chain& chain) {
    std::uint16_t pos = q.last_avail_idx;
    bool wrap = q.avail_wrap;
    std::size_t slots = 0;
    for (;;) {
        if (++slots > q.num) return violation("descriptor list longer than the ring"), false;
        const PvirtqDesc d = desc_at(q.desc, pos);
        if ((d.flags & kMarks) != avail_marks(wrap))
            return violation("descriptor " + std::to_string(pos) + " of a list is not available"),
                   false;
        chain.head = d.id;  // 2.8.6: the device takes the Buffer ID from the last one
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!negotiated(VIRTIO_RING_F_INDIRECT_DESC))
                violation("INDIRECT descriptor not negotiated");
            if (d.flags & VIRTQ_DESC_F_NEXT) return violation("INDIRECT together with NEXT"), false;
            if (slots != 1) return violation("INDIRECT inside a list"), false;
            if (d.len == 0 || d.len % sizeof(PvirtqDesc) != 0)
                return violation("indirect table length " + std::to_string(d.len)), false;
            chain.indirect = true;
            for (std::uint32_t k = 0; k < d.len / sizeof(PvirtqDesc); ++k) {
                const PvirtqDesc e = desc_at(d.addr, static_cast<std::uint16_t>(k));
                if ((e.flags & ~VIRTQ_DESC_F_WRITE) != 0)
                    return violation("indirect entry with flags other than WRITE (2.8.19)"), false;
                if (e.len == 0) return violation("zero-length descriptor"), false;
                auto* p = reinterpret_cast<std::uint8_t*>(static_cast<std::uintptr_t>(e.addr));
                if (e.flags & VIRTQ_DESC_F_WRITE) {
                    chain.writable.emplace_back(p, e.len);
                } else {
                    if (!chain.writable.empty())
                        return violation("readable descriptor after a writable one"), false;
                    chain.readable.emplace_back(p, e.len);
                }
            }
            chain.descriptors = d.len / sizeof(PvirtqDesc);
            break;
        }
        if (d.len == 0) return violation("zero-length descriptor"), false;
        auto* p = reinterpret_cast<std::uint8_t*>(static_cast<std::uintptr_t>(d.addr));
        if (d.flags & VIRTQ_DESC_F_WRITE) {
            chain.writable.emplace_back(p, d.len);
        } else {
            if (!chain.writable.empty())
                return violation("readable descriptor after a writable one"), false;
            chain.readable.emplace_back(p, d.len);
        }
        chain.descriptors = slots;
        advance(pos, wrap, 1, q.num);
        if ((d.flags & VIRTQ_DESC_F_NEXT) == 0) break;
    }
    if (chain.head >= q.num)
        return violation("Buffer ID " + std::to_string(chain.head) + " out of range"), false;
    chain.ring_slots = static_cast<std::uint16_t>(slots);
    return true;
}

// One used descriptor at the used position (flags last), which then moves on
// by `slots` descriptors.
void FakeMmioDevice::write_used_packed(Queue& q, std::uint16_t id, std::uint32_t len,
                                       std::uint16_t slots, bool wrong_wrap) {
    const std::uint64_t at = q.desc + sizeof(PvirtqDesc) * q.used_idx;
    store<std::uint16_t>(at + offsetof(PvirtqDesc, id), id);
    store<std::uint32_t>(at + offsetof(PvirtqDesc, len), len);
    std::atomic_thread_fence(std::memory_order_release);
    store<std::uint16_t>(at + offsetof(PvirtqDesc, flags),
                         used_marks(wrong_wrap ? !q.used_wrap : q.used_wrap));
    advance(q.used_idx, q.used_wrap, slots, q.num);
}

void FakeMmioDevice::push_used_packed(Queue& q, const Chain& chain, std::uint32_t len) {
    std::uint16_t id = chain.head;
    const UsedFault fault = take_fault();
    switch (fault) {
    case UsedFault::none:
    case UsedFault::idx_jump:
    case UsedFault::wrong_wrap: break;
    case UsedFault::id_out_of_range: id = static_cast<std::uint16_t>(q.num + 3u); break;
    case UsedFault::id_not_in_flight: id = pick_not_in_flight(q, chain.head); break;
    case UsedFault::len_too_big:
        len = static_cast<std::uint32_t>(chain.writable_bytes() + 1);
        break;
    }
    write_used_packed(q, id, len, chain.ring_slots, fault == UsedFault::wrong_wrap);
    if (fault == UsedFault::idx_jump) {  // used descriptors for buffers it never had
        // Only the last lap of them is left in the ring: the laps before are
        // skipped (same descriptors, same position and wrap counter after).
        std::uint32_t n = fault_jump_;
        if (n > q.num) {
            advance(q.used_idx, q.used_wrap, n - q.num, q.num);
            n = q.num;
        }
        for (std::uint32_t k = 0; k < n; ++k) write_used_packed(q, id, len, 1);
    }
    if (id == chain.head) q.outstanding.erase(chain.head);
    count_chain(q, chain);
    if (should_notify_packed(q)) {
        isr_ |= VIRTIO_INT_USED_BUFFER;
        ++interrupts_raised_;
    }
}

// QEMU's virtio_packed_should_notify(): the Driver Event Suppression word.
bool FakeMmioDevice::should_notify_packed(Queue& q) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const auto off_wrap = load<std::uint16_t>(q.avail);
    const auto flags = load<std::uint16_t>(q.avail + 2);
    const std::uint16_t old = q.signalled_used;
    const bool valid = q.signalled_used_valid;
    q.signalled_used = q.used_idx;
    q.signalled_used_valid = true;
    if (flags == RING_EVENT_FLAGS_DISABLE) return false;
    if (flags == RING_EVENT_FLAGS_ENABLE) return true;
    if (flags != RING_EVENT_FLAGS_DESC) {
        violation("Driver Event Suppression flags " + std::to_string(flags));
        return true;
    }
    if (!negotiated(VIRTIO_RING_F_EVENT_IDX)) violation("RING_EVENT_FLAGS_DESC without EVENT_IDX");
    if ((off_wrap & 0x7fff) >= q.num)
        violation("Driver Event Suppression offset " + std::to_string(off_wrap & 0x7fff) +
                  " beyond the ring");
    return !valid || pvirtq_need_event(off_wrap, q.num, q.used_wrap, q.used_idx, old);
}

}  // namespace fake
