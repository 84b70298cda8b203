// Device model for host tests; see fake_mmio_device.hpp.
#include "fake_mmio_device.hpp"

#include <atomic>
#include <cstdio>
#include <cstring>

namespace fake {

using namespace virtio;
namespace reg = virtio::mmio::reg;

namespace {

// Guest memory is host memory: a physical address is a host pointer.
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

std::string hex(std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

constexpr std::size_t kRecentChains = 64;

}  // namespace

std::size_t Chain::readable_bytes() const {
    std::size_t n = 0;
    for (auto s : readable) n += s.size();
    return n;
}

std::size_t Chain::writable_bytes() const {
    std::size_t n = 0;
    for (auto s : writable) n += s.size();
    return n;
}

std::uint32_t echo(std::uint16_t, Chain& chain) {
    std::size_t copied = 0;
    std::size_t wi = 0, woff = 0;
    for (auto r : chain.readable) {
        for (std::size_t k = 0; k < r.size();) {
            if (wi == chain.writable.size()) return static_cast<std::uint32_t>(copied);
            auto w = chain.writable[wi];
            const std::size_t n = std::min(r.size() - k, w.size() - woff);
            std::memcpy(w.data() + woff, r.data() + k, n);
            k += n;
            woff += n;
            copied += n;
            if (woff == w.size()) {
                ++wi;
                woff = 0;
            }
        }
    }
    return static_cast<std::uint32_t>(copied);
}

FakeMmioDevice::FakeMmioDevice(const Options& options) : options_(options) {
    if (!legacy() && options_.offer_version_1) options_.features |= feature_bit(VIRTIO_F_VERSION_1);
    queues_.resize(options_.num_queues);
    for (Queue& q : queues_) q.num_max = options_.queue_num_max;
    config_.resize(options_.config_size);
    for (std::size_t i = 0; i < config_.size(); ++i)
        config_[i] = static_cast<std::uint8_t>(0x10 + i);
}

void FakeMmioDevice::violation(const std::string& what) { violations_.push_back(what); }

std::string FakeMmioDevice::violations_text() const {
    std::string s;
    for (const auto& v : violations_) s += v + "\n";
    return s;
}

bool FakeMmioDevice::negotiated(unsigned bit) const {
    return (driver_features() & feature_bit(bit)) != 0;
}

std::uint64_t FakeMmioDevice::driver_features() const {
    if (legacy()) return driver_features_[0];
    return driver_features_[0] | (std::uint64_t{driver_features_[1]} << 32);
}

FakeMmioDevice::QueueView FakeMmioDevice::queue(std::uint16_t index) const {
    const Queue& q = queues_.at(index);
    const bool live = legacy() ? (q.pfn != 0 && q.used != 0) : q.ready;
    return {q.num,
            q.align,
            q.desc,
            q.avail,
            q.used,
            live,
            q.last_avail_idx,
            q.used_idx,
            q.chains,
            q.indirect_chains,
            q.longest_chain,
            q.avail_wrap,
            q.used_wrap};
}

// ---- knobs ----------------------------------------------------------------------

void FakeMmioDevice::set_queue_num_max(std::uint16_t queue, std::uint32_t max) {
    queues_.at(queue).num_max = max;
}

void FakeMmioDevice::inject(UsedFault fault, std::uint16_t jump) {
    fault_ = fault;
    fault_jump_ = jump;
}

void FakeMmioDevice::set_no_notify(std::uint16_t queue, bool on) {
    Queue& q = queues_.at(queue);
    q.no_notify = on;
    if (q.used == 0) return;
    if (packed())  // the Device Event Suppression flags
        store<std::uint16_t>(q.used + 2, on ? RING_EVENT_FLAGS_DISABLE : RING_EVENT_FLAGS_ENABLE);
    else store<std::uint16_t>(q.used, on ? VIRTQ_USED_F_NO_NOTIFY : 0);
}

void FakeMmioDevice::bump_used_idx(std::uint16_t queue, std::uint16_t by) {
    Queue& q = queues_.at(queue);
    if (packed()) return write_used_packed(q, 0, 0, 0);  // (by: any move is a jump)
    q.used_idx = static_cast<std::uint16_t>(q.used_idx + by);
    store<std::uint16_t>(q.used + 2, q.used_idx);
}

void FakeMmioDevice::change_config(std::uint32_t offset, std::span<const std::uint8_t> bytes) {
    std::memcpy(config_.data() + offset, bytes.data(), bytes.size());
    ++generation_;
}

void FakeMmioDevice::raise_config_change() {
    ++generation_;
    isr_ |= VIRTIO_INT_CONFIG_CHANGE;
    ++interrupts_raised_;
}

void FakeMmioDevice::set_needs_reset() {
    broken_ = true;
    status_ |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
    raise_config_change();
}

// ---- registers --------------------------------------------------------------------

std::uint32_t FakeMmioDevice::config_read(std::uint32_t offset, unsigned size) {
    if (on_config_read) on_config_read(offset);
    if (offset % size != 0) violation("unaligned config read at " + hex(offset));
    if (offset + size > config_.size()) {
        violation("config read beyond the config space at " + hex(offset));
        return 0xffffffffu;  // QEMU's answer
    }
    std::uint32_t v = 0;
    for (unsigned i = 0; i < size; ++i) v |= std::uint32_t{config_[offset + i]} << (8 * i);
    return v;
}

void FakeMmioDevice::config_write(std::uint32_t offset, unsigned size, std::uint32_t value) {
    if (offset % size != 0) violation("unaligned config write at " + hex(offset));
    if (offset + size > config_.size()) {
        violation("config write beyond the config space at " + hex(offset));
        return;
    }
    for (unsigned i = 0; i < size; ++i)
        config_[offset + i] = static_cast<std::uint8_t>(value >> (8 * i));
    if (on_config_write) on_config_write(offset);
}

std::uint8_t FakeMmioDevice::read8(std::uint32_t offset) {
    if (offset >= reg::Config)
        return static_cast<std::uint8_t>(config_read(offset - reg::Config, 1));
    violation("8-bit read of control register " + hex(offset));
    return 0;
}

std::uint16_t FakeMmioDevice::read16(std::uint32_t offset) {
    if (offset >= reg::Config)
        return static_cast<std::uint16_t>(config_read(offset - reg::Config, 2));
    violation("16-bit read of control register " + hex(offset));
    return 0;
}

void FakeMmioDevice::write8(std::uint32_t offset, std::uint8_t value) {
    if (offset >= reg::Config) return config_write(offset - reg::Config, 1, value);
    violation("8-bit write of control register " + hex(offset));
}

void FakeMmioDevice::write16(std::uint32_t offset, std::uint16_t value) {
    if (offset >= reg::Config) return config_write(offset - reg::Config, 2, value);
    violation("16-bit write of control register " + hex(offset));
}

std::uint32_t FakeMmioDevice::read32(std::uint32_t offset) {
    if (offset >= reg::Config) return config_read(offset - reg::Config, 4);
    Queue* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
    switch (offset) {
    case reg::MagicValue: return magic;
    case reg::Version: return options_.version;
    case reg::DeviceID: return options_.device_id;
    case reg::VendorID: return options_.vendor_id;
    case reg::DeviceFeatures: {
        // 4.2.2: DeviceFeaturesSel is written before each read.
        if (!device_features_sel_written_)
            violation("DeviceFeatures read without DeviceFeaturesSel");
        device_features_sel_written_ = false;
        if (legacy())
            return device_features_sel_ ? 0 : static_cast<std::uint32_t>(options_.features);
        return static_cast<std::uint32_t>(options_.features >> (32 * device_features_sel_));
    }
    case reg::QueueNumMax: return q ? q->num_max : 0;
    case reg::QueuePFN:
        if (!legacy()) break;
        return q ? q->pfn : 0;
    case reg::QueueReady:
        if (legacy()) break;
        return q && q->ready ? 1 : 0;
    case reg::InterruptStatus: return isr_;
    case reg::Status: return status_;
    case reg::ConfigGeneration:
        if (legacy()) break;
        ++generation_reads_;
        return generation_;
    default: break;
    }
    violation("read of register " + hex(offset) + (legacy() ? " (legacy)" : " (modern)"));
    return 0;
}

void FakeMmioDevice::write32(std::uint32_t offset, std::uint32_t value) {
    if (offset >= reg::Config) return config_write(offset - reg::Config, 4, value);
    Queue* q = queue_sel_ < queues_.size() ? &queues_[queue_sel_] : nullptr;
    const bool modern_only = offset == reg::QueueReady || offset == reg::QueueDescLow ||
                             offset == reg::QueueDescHigh || offset == reg::QueueDriverLow ||
                             offset == reg::QueueDriverHigh || offset == reg::QueueDeviceLow ||
                             offset == reg::QueueDeviceHigh;
    const bool legacy_only =
        offset == reg::GuestPageSize || offset == reg::QueueAlign || offset == reg::QueuePFN;
    if ((legacy() && modern_only) || (!legacy() && legacy_only)) {
        violation("write of register " + hex(offset) + (legacy() ? " (legacy)" : " (modern)"));
        return;
    }
    const bool queue_reg = offset == reg::QueueNum || legacy_only || modern_only;
    if (queue_reg && offset != reg::GuestPageSize && q == nullptr) {
        violation("queue register " + hex(offset) + " written for missing queue " +
                  std::to_string(queue_sel_));
        return;
    }
    // 4.2.2: ring registers are off limits while the queue is ready.
    if (!legacy() && q != nullptr && q->ready && offset != reg::QueueReady && queue_reg) {
        violation("queue register " + hex(offset) + " written while QueueReady");
        return;
    }

    switch (offset) {
    case reg::DeviceFeaturesSel:
        device_features_sel_ = value ? 1 : 0;
        device_features_sel_written_ = true;
        return;
    case reg::DriverFeaturesSel:
        driver_features_sel_ = value ? 1 : 0;
        driver_features_sel_written_ = true;
        return;
    case reg::DriverFeatures:
        if (!driver_features_sel_written_)
            violation("DriverFeatures written without DriverFeaturesSel");
        driver_features_sel_written_ = false;
        if ((status_ & VIRTIO_STATUS_DRIVER) == 0)
            violation("DriverFeatures written before DRIVER");
        if (!legacy() && (status_ & VIRTIO_STATUS_FEATURES_OK) != 0)
            violation("DriverFeatures written after FEATURES_OK");
        if (legacy() && driver_features_sel_ != 0) {
            violation("legacy GuestFeatures written with GuestFeaturesSel 1");
            return;
        }
        driver_features_[driver_features_sel_] = value;
        return;
    case reg::GuestPageSize:
        guest_page_size_ = value;
        guest_page_shift_ = value ? static_cast<std::uint32_t>(__builtin_ctz(value)) : 0;
        return;
    case reg::QueueSel:
        if (value < 1024) queue_sel_ = value;  // QEMU's VIRTIO_QUEUE_MAX
        return;
    case reg::QueueNum:
        if (value == 0 || value > q->num_max) {  // QEMU ignores these
            violation("QueueNum " + std::to_string(value) + " above QueueNumMax");
            return;
        }
        if (legacy() && q->pfn != 0) violation("QueueNum written while the queue is live");
        q->num = static_cast<std::uint16_t>(value);
        if (legacy()) update_legacy_rings(*q);
        return;
    case reg::QueueAlign:
        q->align = value;
        update_legacy_rings(*q);
        return;
    case reg::QueuePFN:
        if (value == 0) {  // QEMU: stops the device
            reset_device();
            return;
        }
        if (guest_page_size_ == 0) violation("QueuePFN written before GuestPageSize");
        q->pfn = value;
        q->desc = std::uint64_t{value} << guest_page_shift_;
        update_legacy_rings(*q);
        return;
    case reg::QueueReady:
        if (value == 0) {
            q->ready = false;
            return;
        }
        if (q->num == 0) violation("QueueReady without QueueNum");
        q->desc = q->desc_lo | (std::uint64_t{q->desc_hi} << 32);
        q->avail = q->avail_lo | (std::uint64_t{q->avail_hi} << 32);
        q->used = q->used_lo | (std::uint64_t{q->used_hi} << 32);
        if (q->desc % VIRTQ_DESC_ALIGN || q->avail % VIRTQ_AVAIL_ALIGN ||
            q->used % VIRTQ_USED_ALIGN)
            violation("misaligned ring part (2.7)");
        q->ready = true;
        return;
    case reg::QueueDescLow: q->desc_lo = value; return;
    case reg::QueueDescHigh: q->desc_hi = value; return;
    case reg::QueueDriverLow: q->avail_lo = value; return;
    case reg::QueueDriverHigh: q->avail_hi = value; return;
    case reg::QueueDeviceLow: q->used_lo = value; return;
    case reg::QueueDeviceHigh: q->used_hi = value; return;
    case reg::QueueNotify:
        if ((status_ & VIRTIO_STATUS_DRIVER_OK) == 0) {
            violation("QueueNotify before DRIVER_OK");
            return;
        }
        if (value >= queues_.size()) {
            violation("QueueNotify for missing queue " + std::to_string(value));
            return;
        }
        ++queues_[value].notifies;
        if (process_on_notify) process(static_cast<std::uint16_t>(value));
        return;
    case reg::InterruptACK:
        if ((value & ~(VIRTIO_INT_USED_BUFFER | VIRTIO_INT_CONFIG_CHANGE)) != 0)
            violation("InterruptACK with undefined bits");
        isr_ &= ~value;
        return;
    case reg::Status: write_status(value); return;
    default: break;
    }
    violation("write of register " + hex(offset));
}

void FakeMmioDevice::update_legacy_rings(Queue& q) {
    // QEMU virtio_queue_update_rings(): the device computes avail and used.
    if (q.num == 0 || q.desc == 0 || q.align == 0) {
        q.avail = q.used = 0;
        return;
    }
    q.avail = q.desc + std::uint64_t{q.num} * sizeof(VirtqDesc);
    q.used =
        (q.avail + sizeof(VirtqAvail) + 2u * q.num + q.align - 1) & ~std::uint64_t{q.align - 1};
}

void FakeMmioDevice::reset_device() {
    status_ = 0;
    isr_ = 0;
    driver_features_[0] = driver_features_[1] = 0;
    broken_ = false;
    for (Queue& q : queues_) {
        const std::uint32_t max = q.num_max;
        q = Queue{};
        q.num_max = max;
    }
}

void FakeMmioDevice::write_status(std::uint32_t value) {
    status_writes_.push_back(static_cast<std::uint8_t>(value));
    if (value == 0) {
        reset_device();
        return;
    }
    auto v = static_cast<std::uint8_t>(value);
    if (v & VIRTIO_STATUS_DEVICE_NEEDS_RESET) violation("the driver wrote DEVICE_NEEDS_RESET");
    v |= status_ & VIRTIO_STATUS_DEVICE_NEEDS_RESET;  // the device's bit, until a reset
    if ((status_ & ~v) != 0) violation("status bits cleared without a reset");
    if ((v & VIRTIO_STATUS_DRIVER) && !(v & VIRTIO_STATUS_ACKNOWLEDGE))
        violation("DRIVER without ACKNOWLEDGE");
    if (legacy() && (v & VIRTIO_STATUS_FEATURES_OK)) violation("FEATURES_OK on a legacy device");
    if (!legacy() && (v & VIRTIO_STATUS_FEATURES_OK) && !(status_ & VIRTIO_STATUS_FEATURES_OK)) {
        bool accept = !refuse_features_ok;
        if ((driver_features() & ~options_.features) != 0) {
            violation("driver accepted features the device does not offer: " +
                      hex(driver_features() & ~options_.features));
            accept = false;
        }
        if (!negotiated(VIRTIO_F_VERSION_1)) accept = false;
        if (!accept) v = static_cast<std::uint8_t>(v & ~VIRTIO_STATUS_FEATURES_OK);
    }
    if (!legacy() && (v & VIRTIO_STATUS_DRIVER_OK) && !(v & VIRTIO_STATUS_FEATURES_OK) &&
        !(v & VIRTIO_STATUS_FAILED))
        violation("DRIVER_OK without FEATURES_OK");
    status_ = v;
}

// ---- the ring, device side ----------------------------------------------------------

void FakeMmioDevice::process(std::uint16_t index) {
    Queue& q = queues_.at(index);
    if (broken_) return;
    const bool live = legacy() ? (q.pfn != 0 && q.used != 0) : q.ready;
    if (!live) {
        violation("queue " + std::to_string(index) + " used before it was set up");
        return;
    }
    if (packed()) return process_packed(index, q);
    if (!negotiated(VIRTIO_RING_F_EVENT_IDX))
        store<std::uint16_t>(q.used, q.no_notify ? VIRTQ_USED_F_NO_NOTIFY : 0);
    std::vector<std::pair<Chain, std::uint32_t>> finished;  // held back when reversing
    std::uint16_t avail_idx = load<std::uint16_t>(q.avail + 2);
    std::atomic_thread_fence(std::memory_order_acquire);
    while (q.last_avail_idx != avail_idx && (!has_work || has_work(index))) {
        if (static_cast<std::uint16_t>(avail_idx - q.last_avail_idx) > q.num) {
            violation("avail idx ahead of the device by more than the queue size");
            broken_ = true;
            return;
        }
        const auto head =
            load<std::uint16_t>(q.avail + sizeof(VirtqAvail) + 2u * (q.last_avail_idx % q.num));
        Chain chain;
        if (!walk_chain(q, head, chain)) {
            broken_ = true;  // QEMU's virtio_error(): the device stops
            return;
        }
        const std::uint32_t len = behaviour(index, chain);
        if (len == kNotYet) break;  // left available for a later process()
        ++q.last_avail_idx;
        if (negotiated(VIRTIO_RING_F_EVENT_IDX))  // QEMU: avail_event = last_avail_idx
            store<std::uint16_t>(q.used + virtq_avail_event_offset(q.num), q.last_avail_idx);
        q.outstanding.insert(head);
        if (complete_in_reverse) finished.emplace_back(std::move(chain), len);
        else push_used(index, q, chain, len);
        avail_idx = load<std::uint16_t>(q.avail + 2);
        std::atomic_thread_fence(std::memory_order_acquire);
    }
    for (auto it = finished.rbegin(); it != finished.rend(); ++it)
        push_used(index, q, it->first, it->second);
}

bool FakeMmioDevice::walk_chain(Queue& q, std::uint16_t head, Chain& chain) {
    chain.head = head;
    if (head >= q.num) {
        violation("avail entry " + std::to_string(head) + " out of range");
        return false;
    }
    std::uint64_t table = q.desc;
    std::uint32_t max = q.num;
    std::uint32_t i = head;
    std::size_t count = 0;
    for (;;) {
        if (i >= max) {
            violation("descriptor index " + std::to_string(i) + " out of range");
            return false;
        }
        const auto d = load<VirtqDesc>(table + sizeof(VirtqDesc) * i);
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (!negotiated(VIRTIO_RING_F_INDIRECT_DESC))
                violation("INDIRECT descriptor not negotiated");
            if (chain.indirect) return violation("indirect inside an indirect table"), false;
            if (d.flags & VIRTQ_DESC_F_NEXT) return violation("INDIRECT together with NEXT"), false;
            if (d.len == 0 || d.len % sizeof(VirtqDesc) != 0)
                return violation("indirect table length " + std::to_string(d.len)), false;
            table = d.addr;
            max = d.len / sizeof(VirtqDesc);
            i = 0;
            count = 0;
            chain.indirect = true;
            continue;
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
        if (++count > max) return violation("descriptor chain loops"), false;
        if ((d.flags & VIRTQ_DESC_F_NEXT) == 0) break;
        i = d.next;
    }
    chain.descriptors = count;
    return true;
}

unsigned FakeMmioDevice::buffers_on_ring(std::uint16_t index) const {
    const Queue& q = queues_.at(index);
    if (!packed()) return static_cast<std::uint16_t>(load<std::uint16_t>(q.avail + 2) - q.used_idx);
    // Packed: the lists still available at last_avail_idx (one per
    // descriptor without NEXT), and those taken and not yet used.
    unsigned n = static_cast<unsigned>(q.outstanding.size());
    std::uint16_t pos = q.last_avail_idx;
    bool wrap = q.avail_wrap;
    for (std::uint16_t k = 0; k < q.num; ++k) {
        const auto d = load<PvirtqDesc>(q.desc + sizeof(PvirtqDesc) * pos);
        if ((d.flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) !=
            (wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED))
            break;
        if ((d.flags & VIRTQ_DESC_F_NEXT) == 0) ++n;
        if (++pos == q.num) {
            pos = 0;
            wrap = !wrap;
        }
    }
    return n;
}

std::uint16_t FakeMmioDevice::pick_not_in_flight(const Queue& q, std::uint16_t head) const {
    std::set<std::uint16_t> busy = q.outstanding;
    busy.insert(head);
    if (packed()) {  // Buffer IDs still to be taken from the ring
        std::uint16_t pos = q.last_avail_idx;
        bool wrap = q.avail_wrap;
        for (std::uint16_t n = 0; n < q.num; ++n) {
            const auto d = load<PvirtqDesc>(q.desc + sizeof(PvirtqDesc) * pos);
            if ((d.flags & (VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED)) !=
                (wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED))
                break;
            busy.insert(d.id);
            if (++pos == q.num) {
                pos = 0;
                wrap = !wrap;
            }
        }
    } else {
        const auto avail_idx = load<std::uint16_t>(q.avail + 2);
        for (std::uint16_t k = q.last_avail_idx; k != avail_idx; ++k)
            busy.insert(load<std::uint16_t>(q.avail + sizeof(VirtqAvail) + 2u * (k % q.num)));
    }
    for (std::uint16_t i = 0; i < q.num; ++i)
        if (busy.count(i) == 0) return i;
    return static_cast<std::uint16_t>(q.num + 1);
}

UsedFault FakeMmioDevice::take_fault() {
    const UsedFault f = fault_;
    fault_ = UsedFault::none;
    return f;
}

void FakeMmioDevice::count_chain(Queue& q, const Chain& chain) {
    ++q.chains;
    if (chain.indirect) ++q.indirect_chains;
    q.longest_chain = std::max(q.longest_chain, chain.descriptors);
    if (recent_.size() == kRecentChains) recent_.erase(recent_.begin());
    recent_.push_back(chain);
}

void FakeMmioDevice::push_used(std::uint16_t index, Queue& q, const Chain& chain,
                               std::uint32_t len) {
    (void)index;
    std::uint32_t id = chain.head;
    std::uint16_t advance = 1;
    switch (take_fault()) {
    case UsedFault::none: break;
    case UsedFault::id_out_of_range: id = q.num + 3u; break;
    case UsedFault::id_not_in_flight: id = pick_not_in_flight(q, chain.head); break;
    case UsedFault::len_too_big:
        len = static_cast<std::uint32_t>(chain.writable_bytes() + 1);
        break;
    case UsedFault::idx_jump: advance = static_cast<std::uint16_t>(1 + fault_jump_); break;
    case UsedFault::wrong_wrap: break;  // a packed ring's fault
    }

    // 2.7.8: the entry, then (after a barrier) the idx that publishes it.
    const std::uint64_t elem =
        q.used + sizeof(VirtqUsed) + sizeof(VirtqUsedElem) * (q.used_idx % q.num);
    store<std::uint32_t>(elem, id);
    store<std::uint32_t>(elem + 4, len);
    std::atomic_thread_fence(std::memory_order_release);
    q.used_idx = static_cast<std::uint16_t>(q.used_idx + advance);
    store<std::uint16_t>(q.used + 2, q.used_idx);
    if (id == chain.head) q.outstanding.erase(chain.head);
    count_chain(q, chain);

    // QEMU virtio_should_notify().
    std::atomic_thread_fence(std::memory_order_seq_cst);
    bool notify;
    if (negotiated(VIRTIO_RING_F_EVENT_IDX)) {
        const auto used_event = load<std::uint16_t>(q.avail + virtq_used_event_offset(q.num));
        const bool valid = q.signalled_used_valid;
        q.signalled_used_valid = true;
        const std::uint16_t old = q.signalled_used;
        q.signalled_used = q.used_idx;
        notify = !valid || vring_need_event(used_event, q.used_idx, old);
    } else {
        notify = (load<std::uint16_t>(q.avail) & VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
    }
    if (notify) {
        isr_ |= VIRTIO_INT_USED_BUFFER;
        ++interrupts_raised_;
    }
}

}  // namespace fake
