// Split virtqueue: 2.7.13 Supplying Buffers, 2.7.14 Receiving Used Buffers,
// 2.7.7 / 2.7.10 notification suppression.
#include "drivers/virtio/virtqueue.hpp"

#include <cstring>

#include "drivers/virtio/barrier.hpp"
#include "drivers/virtio/hal.hpp"
#include "drivers/virtio/transport/transport.hpp"

namespace virtio {

namespace {

// Shared ring words are read and written exactly once per access: the device
// may change them at any time, so the compiler must not re-read or merge.
template <typename T>
T read_once(const T* p) {
    return *static_cast<const volatile T*>(p);
}
template <typename T>
void write_once(T* p, T v) {
    *static_cast<volatile T*>(p) = v;
}

std::uint16_t floor_power_of_two(std::uint32_t x) {
    std::uint32_t p = 1;
    while (p * 2 <= x) p *= 2;
    return static_cast<std::uint16_t>(p);
}

std::uint64_t phys(const void* p) { return hal::virt_to_phys(p); }

}  // namespace

Error Virtqueue::init(Transport& transport, std::uint16_t index, std::uint16_t wanted_size,
                      bool event_idx, bool indirect, bool packed) {
    if (memory_ != nullptr) return Error::invalid_argument;
    if (!is_power_of_two(wanted_size)) {
        rtos::printk("%s: queue %u: size %u is not a power of two\n", transport.name(), index,
                     wanted_size);
        return Error::invalid_argument;
    }
    // 2.8: packed rings are for modern devices (VIRTIO_F_RING_PACKED needs
    // VERSION_1), and only when built in.
    if (packed && (transport.is_legacy() || !kPackedBuilt)) {
        rtos::printk("%s: queue %u: no packed ring for this device\n", transport.name(), index);
        return Error::invalid_argument;
    }
    std::uint32_t max = transport.queue_max_size(index);
    if (max == 0) {
        rtos::printk("%s: queue %u unavailable (QueueNumMax 0)\n", transport.name(), index);
        return Error::queue_unavailable;
    }
    if (transport.queue_size_fixed() && (max > VIRTQ_MAX_SIZE || !is_power_of_two(max))) {
        rtos::printk("%s: queue %u: fixed size %u is not a power of two up to %u\n",
                     transport.name(), index, max, static_cast<unsigned>(VIRTQ_MAX_SIZE));
        return Error::queue_unavailable;
    }
    if (max > VIRTQ_MAX_SIZE) max = VIRTQ_MAX_SIZE;  // also PVIRTQ_MAX_SIZE
    std::uint16_t size = wanted_size;
    if (transport.queue_size_fixed()) {
        size = static_cast<std::uint16_t>(max);  // the legacy PCI device decides, not us
    } else if (size > max) {
        size = floor_power_of_two(max);
        rtos::printk("%s: queue %u: size %u clamped to %u (QueueNumMax %u)\n", transport.name(),
                     index, wanted_size, size, max);
    }

    // 2.7 alignment of each part; 2.7.2 for legacy: one block, used ring on
    // the Queue Align boundary where the device computes it. Packed (2.8.10.1):
    // the descriptor ring, then the driver's and the device's event words.
    const bool legacy = transport.is_legacy();
    const std::size_t avail_off = virtq_desc_size(size);
    const std::size_t used_off =
        legacy ? virtq_legacy_used_offset(size, VIRTIO_LEGACY_QUEUE_ALIGN)
               : align_up(avail_off + virtq_avail_size(size), VIRTQ_USED_ALIGN);
    const std::size_t total = packed   ? avail_off + 2 * sizeof(PvirtqEventSuppress)
                              : legacy ? virtq_legacy_size(size, VIRTIO_LEGACY_QUEUE_ALIGN)
                                       : used_off + virtq_used_size(size);
    const std::size_t align = legacy ? VIRTIO_LEGACY_QUEUE_ALIGN : VIRTQ_DESC_ALIGN;

    transport_ = &transport;
    index_ = index;
    size_ = size;
    memory_ = hal::dma_alloc(total, align);
    memory_bytes_ = total;
    slots_ = static_cast<Slot*>(hal::dma_alloc(sizeof(Slot) * size, alignof(Slot)));
    if (memory_ == nullptr || slots_ == nullptr) {
        rtos::printk("%s: queue %u: no memory for %u entries\n", transport.name(), index, size);
        free_memory();
        return Error::no_memory;
    }
    if (indirect) {
        // One table per descriptor (split) or Buffer ID (packed): a
        // PvirtqDesc has the size and alignment of a VirtqDesc.
        indirect_pool_ = static_cast<VirtqDesc*>(
            hal::dma_alloc(sizeof(VirtqDesc) * kIndirectMax * size, VIRTQ_DESC_ALIGN));
        if (indirect_pool_ == nullptr)
            rtos::printk("%s: queue %u: no memory for indirect tables, using chains\n",
                         transport.name(), index);
    }

    auto* base = static_cast<unsigned char*>(memory_);
    if (packed) {
        ring_ = reinterpret_cast<PvirtqDesc*>(base);
        driver_event_ = reinterpret_cast<PvirtqEventSuppress*>(base + avail_off);
        device_event_ = driver_event_ + 1;
    } else {
        desc_ = reinterpret_cast<VirtqDesc*>(base);
        avail_ = reinterpret_cast<VirtqAvail*>(base + avail_off);
        avail_ring_ = reinterpret_cast<std::uint16_t*>(base + avail_off + sizeof(VirtqAvail));
        used_event_ =
            reinterpret_cast<std::uint16_t*>(base + avail_off + virtq_used_event_offset(size));
        used_ = reinterpret_cast<VirtqUsed*>(base + used_off);
        used_ring_ = reinterpret_cast<VirtqUsedElem*>(base + used_off + sizeof(VirtqUsed));
        avail_event_ =
            reinterpret_cast<std::uint16_t*>(base + used_off + virtq_avail_event_offset(size));
    }
#if defined(VIRTIO_RING_PACKED_BUILT)
    packed_ = packed;
#endif
    event_idx_ = event_idx;
    stats_ = {};
    const Error e = arm();
    if (e != Error::ok) free_memory();
    return e;
}

// Empty rings and bookkeeping, handed to the device.
Error Virtqueue::arm() {
    for (std::uint16_t i = 0; i < size_; ++i) slots_[i].next = static_cast<std::uint16_t>(i + 1);
    free_head_ = 0;
    num_free_ = size_;
    in_flight_ = 0;
    num_added_ = 0;
    avail_flags_ = 0;
    interrupts_on_ = true;
    broken_ = false;
    Error e;
    if (packed_) {
        e = arm_packed();
    } else {
        avail_idx_ = 0;
        watch_ = &used_->idx;
        watching_ = {0xffff, 0};  // idle: the split ring's last_used_idx
        e = transport_->setup_queue(index_, size_, phys(desc_), phys(avail_), phys(used_));
    }
    if (e != Error::ok)
        rtos::printk("%s: queue %u: setup failed (%s)\n", transport_->name(), index_,
                     error_name(e));
    return e;
}

Error Virtqueue::rearm() {
    if (memory_ == nullptr || in_flight_ != 0) return Error::invalid_argument;
    std::memset(memory_, 0, memory_bytes_);
    return arm();
}

void Virtqueue::free_memory() {
    watch_ = &kWatchQuiet;  // not the rings about to be freed
    watch_nothing();
    hal::dma_free(memory_);
    hal::dma_free(slots_);
    hal::dma_free(indirect_pool_);
    memory_ = nullptr;
    memory_bytes_ = 0;
    slots_ = nullptr;
    indirect_pool_ = nullptr;
    desc_ = nullptr;
    avail_ = nullptr;
    avail_ring_ = used_event_ = avail_event_ = nullptr;
    used_ = nullptr;
    used_ring_ = nullptr;
    ring_ = nullptr;
    driver_event_ = nullptr;
    device_event_ = nullptr;
    size_ = num_free_ = in_flight_ = num_added_ = 0;
#if defined(VIRTIO_RING_PACKED_BUILT)
    packed_ = false;  // packed_ implies rings
#endif
}

void Virtqueue::release() { free_memory(); }

Result<std::uint16_t> Virtqueue::add_split(std::span<const OutSegment> out,
                                           std::span<const InSegment> in, void* token) {
    if (broken_) return {Error::broken, 0};
    std::uint64_t writable;  // fits() also refuses every request without rings (size_ 0)
    if (!fits(out, in, writable)) return {Error::invalid_argument, 0};
    const std::size_t total = out.size() + in.size();
    const bool indirect = indirect_pool_ != nullptr && total > 1 && total <= kIndirectMax;
    const std::uint16_t needed = indirect ? 1 : static_cast<std::uint16_t>(total);
    if (num_free_ < needed) return {Error::no_space, 0};
    // Keep kick()'s old..new distance below 2^16 (2.7.10 arithmetic).
    if (num_added_ == 0xffff) kick();

    const std::uint16_t head = free_head_;
    // Fills entry k of the request into `d`, linking to `next` unless last.
    auto fill = [&](VirtqDesc& d, std::size_t k, std::uint16_t next) {
        const bool is_out = k < out.size();
        const void* data = is_out ? out[k].data : in[k - out.size()].data;
        d.addr = phys(data);
        d.len = is_out ? out[k].len : in[k - out.size()].len;
        d.flags = is_out ? 0 : VIRTQ_DESC_F_WRITE;
        d.next = 0;
        if (k + 1 < total) {
            d.flags |= VIRTQ_DESC_F_NEXT;
            d.next = next;
        }
    };
    if (indirect) {
        // 2.7.5.3: the table is the chain, indices relative to the table.
        VirtqDesc* table = indirect_pool_ + std::size_t{head} * kIndirectMax;
        for (std::size_t k = 0; k < total; ++k)
            fill(table[k], k, static_cast<std::uint16_t>(k + 1));
        desc_[head].addr = phys(table);
        desc_[head].len = static_cast<std::uint32_t>(sizeof(VirtqDesc) * total);
        desc_[head].flags = VIRTQ_DESC_F_INDIRECT;
        desc_[head].next = 0;
        free_head_ = slots_[head].next;
    } else {
        std::uint16_t i = head;
        for (std::size_t k = 0; k < total; ++k) {
            const std::uint16_t next = slots_[i].next;
            fill(desc_[i], k, next);
            i = next;
        }
        free_head_ = i;
    }
    num_free_ = static_cast<std::uint16_t>(num_free_ - needed);
    Slot& s = slots_[head];
    s.token = token;
    s.writable = writable;
    s.count = needed;
    s.in_flight = true;
    ++in_flight_;
    if (in_flight_ > stats_.inflight_max) stats_.inflight_max = in_flight_;

    // 2.7.13: ring entry, barrier, then the idx that publishes it.
    avail_ring_[avail_idx_ & (size_ - 1)] = head;
    barrier::write();
    ++avail_idx_;
    write_once(&avail_->idx, avail_idx_);
    ++num_added_;
    return {Error::ok, head};
}

bool Virtqueue::kick_split() {
    if (broken_ || num_added_ == 0) return false;  // none added without rings
    // 2.7.13.4: the new idx must be visible before we read the suppression.
    barrier::full();
    const std::uint16_t new_idx = avail_idx_;
    const auto old_idx = static_cast<std::uint16_t>(avail_idx_ - num_added_);
    num_added_ = 0;
    // More in flight: the interrupt may wait for more of them. Only ever
    // raised here (pops do not run meanwhile), so no completion is skipped.
    // Below four in flight the batched used_event equals the one the last
    // pop_used() wrote: nothing to raise (keeps depth 1 as cheap as before).
    if (in_flight_ >= 4 && batch_interrupts_ && event_idx_ && interrupts_on_)
        write_once(used_event_, next_used_event());
    bool needed;
    if (event_idx_) needed = vring_need_event(read_once(avail_event_), new_idx, old_idx);
    else needed = (read_once(&used_->flags) & VIRTQ_USED_F_NO_NOTIFY) == 0;
    return notify(needed);
}

Result<Completion> Virtqueue::break_queue() {
    broken_ = true;
    watch_broken();
    return {Error::device_error, {nullptr, 0}};
}

Result<Completion> Virtqueue::take_used() {
    if (broken_) return {Error::broken, {nullptr, 0}};
    std::uint16_t& last_used = watching_.idle;  // see watch_
    const std::uint16_t used_idx = read_once(&used_->idx);
    if (used_idx == last_used) return {Error::empty, {nullptr, 0}};
    // 2.7.14: entries are valid once idx covers them.
    barrier::read();

    const char* name = transport_->name();
    const auto pending = static_cast<std::uint16_t>(used_idx - last_used);
    if (pending > in_flight_) {
        rtos::printk("%s: queue %u broken: used idx jumped from %u to %u with %u in flight\n", name,
                     index_, last_used, used_idx, in_flight_);
        return break_queue();
    }
    const VirtqUsedElem* elem = &used_ring_[last_used & (size_ - 1)];
    const std::uint32_t id = read_once(&elem->id);
    const std::uint32_t len = read_once(&elem->len);
    if (id >= size_) {
        rtos::printk("%s: queue %u broken: used id %u out of range (size %u)\n", name, index_, id,
                     size_);
        return break_queue();
    }
    Slot& s = slots_[id];
    if (!s.in_flight) {
        rtos::printk("%s: queue %u broken: used id %u is not in flight\n", name, index_, id);
        return break_queue();
    }
    if (len > s.writable) {
        rtos::printk("%s: queue %u broken: used len %u above the %llu writable bytes of id %u\n",
                     name, index_, len, static_cast<unsigned long long>(s.writable), id);
        return break_queue();
    }
    void* token = s.token;
    free_chain(static_cast<std::uint16_t>(id));
    ++last_used;
    ++stats_.used;
    if (event_idx_) {
        if (interrupts_on_) {
            // 2.7.7: interrupt us again when the next entry (or, batching,
            // the next half of those in flight) is used.
            write_once(used_event_, next_used_event());
            barrier::full();
        } else {
            write_once(used_event_, far_used_event());  // still never reached
        }
    }
    return {Error::ok, {token, len}};
}

std::uint16_t Virtqueue::next_used_event() const {
    // used_event is the index of the used entry that triggers the interrupt:
    // never beyond the last request in flight, or it would never come.
    const std::uint16_t ahead = batch_interrupts_ ? static_cast<std::uint16_t>(in_flight_ / 2) : 0;
    return static_cast<std::uint16_t>(watching_.idle + (ahead ? ahead - 1 : 0));
}

// inline: part of every take_used().
inline void Virtqueue::free_chain(std::uint16_t head) {
    Slot& h = slots_[head];
    std::uint16_t tail = head;
    for (std::uint16_t k = 1; k < h.count; ++k) tail = slots_[tail].next;
    slots_[tail].next = free_head_;
    free_head_ = head;
    num_free_ = static_cast<std::uint16_t>(num_free_ + h.count);
    h.in_flight = false;
    h.token = nullptr;
    h.count = 0;
    --in_flight_;
}

void Virtqueue::disable_interrupts() {
    interrupts_on_ = false;
    if (memory_ == nullptr) return;
    if (packed_) return set_interrupts_packed(false);
    if (event_idx_) {  // 2.7.7: flags stay 0 with EVENT_IDX
        write_once(used_event_, far_used_event());
        return;
    }
    avail_flags_ |= VIRTQ_AVAIL_F_NO_INTERRUPT;
    write_once(&avail_->flags, avail_flags_);
}

bool Virtqueue::enable_interrupts() {
    interrupts_on_ = true;
    if (memory_ == nullptr) return true;
    if (packed_) {
        set_interrupts_packed(true);
    } else if (event_idx_) {
        write_once(used_event_, next_used_event());
    } else {
        avail_flags_ &= static_cast<std::uint16_t>(~VIRTQ_AVAIL_F_NO_INTERRUPT);
        write_once(&avail_->flags, avail_flags_);
    }
    // Publish before re-checking, or a completion in between is missed.
    barrier::full();
    return !has_used();
}

Result<void*> Virtqueue::reclaim() {
    for (std::uint16_t i = 0; i < size_ && in_flight_ > 0; ++i) {
        if (!slots_[i].in_flight) continue;
        void* token = slots_[i].token;
        if (packed_) free_id(i);
        else free_chain(i);
        return {Error::ok, token};
    }
    return {Error::empty, nullptr};
}

}  // namespace virtio
