// A virtio-mmio device model for host tests: the register file of Version 2
// (4.2.2) or Version 1 (4.2.4), chosen at construction, and the device side
// of the split ring (2.7) behaving as QEMU's hw/virtio does:
//   * legacy rings are located the way QEMU's virtio-mmio legacy code does:
//     desc = QueuePFN << log2(GuestPageSize), avail = desc + 16 * num,
//     used = align_up(avail + 4 + 2 * num, QueueAlign); a driver laying the
//     ring out differently sees no completions;
//   * on QueueNotify it walks the new avail entries, follows chains and
//     indirect tables in guest memory (physical address == host pointer),
//     lets the test's behaviour consume readable / fill writable segments,
//     writes used entries, updates avail_event and raises the interrupt as
//     QEMU's virtio_should_notify() decides.
// With VIRTIO_F_RING_PACKED negotiated the queue is a packed ring (2.8,
// fake_packed_ring.cpp), again as QEMU's hw/virtio does it: descriptors taken
// in ring order while their AVAIL/USED marks say available in the device's
// lap, one used descriptor per buffer written at the device's used position
// (which then skips the buffer's descriptors), the Device Event Suppression
// word written as QEMU's virtio_queue_set_notification() does and the
// interrupt decided as its virtio_packed_should_notify().
// Misbehaviour knobs let tests play an untrusted device. Protocol mistakes of
// the driver are collected in violations(), which tests expect to be empty.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "drivers/virtio/transport/mmio_regs.hpp"
#include "drivers/virtio/transport/register_window.hpp"
#include "drivers/virtio/spec.hpp"

namespace fake {

/// One available chain as the device sees it.
struct Chain {
    std::uint16_t head = 0;  ///< split: head descriptor; packed: Buffer ID
    std::vector<std::span<const std::uint8_t>> readable;
    std::vector<std::span<std::uint8_t>> writable;
    bool indirect = false;
    std::size_t descriptors = 0;   ///< descriptors walked (table entries when indirect)
    std::uint16_t ring_slots = 1;  ///< packed: ring descriptors the buffer takes

    std::size_t readable_bytes() const;
    std::size_t writable_bytes() const;
};

/// What the device does with a chain; returns the used length it reports,
/// or kNotYet to leave the chain (and every later one) available for a later
/// process() call: a device with nothing to put into a receive buffer yet.
using Behaviour = std::function<std::uint32_t(std::uint16_t queue, Chain& chain)>;
inline constexpr std::uint32_t kNotYet = 0xffffffffu;

/// Copies the readable bytes, in order, into the writable segments (as far
/// as they go) and reports the bytes copied.
std::uint32_t echo(std::uint16_t queue, Chain& chain);

/// One-shot faults applied to the next used entry the device writes.
enum class UsedFault {
    none,
    id_out_of_range,   ///< id = queue size + 3
    id_not_in_flight,  ///< id of a descriptor that is not an outstanding head
    len_too_big,       ///< len = writable bytes of the chain + 1
    idx_jump,          ///< used idx advanced by 1 + fault_jump instead of 1 (packed: fault_jump
                       ///< more used descriptors repeating the Buffer ID follow)
    wrong_wrap,        ///< packed: AVAIL/USED marks of the other lap
};

class FakeMmioDevice final : public virtio::RegisterWindow {
public:
    struct Options {
        std::uint32_t version = virtio::mmio::VERSION_MODERN;
        std::uint32_t device_id = virtio::VIRTIO_ID_BLOCK;
        std::uint32_t vendor_id = 0x554d4551;  // "QEMU"
        std::uint64_t features = 0;            ///< offered; VERSION_1 added for version 2
        bool offer_version_1 = true;           ///< false: a broken "modern" device
        std::uint16_t num_queues = 2;
        std::uint32_t queue_num_max = 1024;  ///< QEMU's VIRTQUEUE_MAX_SIZE
        std::size_t config_size = 64;
        std::uint64_t base = 0x10008000;
    };

    explicit FakeMmioDevice(const Options& options);

    // virtio::RegisterWindow
    std::uint8_t read8(std::uint32_t offset) override;
    std::uint16_t read16(std::uint32_t offset) override;
    std::uint32_t read32(std::uint32_t offset) override;
    void write8(std::uint32_t offset, std::uint8_t value) override;
    void write16(std::uint32_t offset, std::uint16_t value) override;
    void write32(std::uint32_t offset, std::uint32_t value) override;
    std::uint64_t base() const override { return options_.base; }

    // ---- knobs ----
    std::uint32_t magic = virtio::mmio::MAGIC_VALUE;
    bool refuse_features_ok = false;
    bool process_on_notify = true;  ///< false: notifications are only counted
    /// Complete each process() batch in reverse order (devices may finish
    /// requests in any order, 2.7.14).
    bool complete_in_reverse = false;
    Behaviour behaviour = echo;
    /// When set, process() takes the next available chain only while this
    /// returns true (a receive queue: buffers wait for packets to arrive).
    std::function<bool(std::uint16_t queue)> has_work;
    /// Called before every config-space read with its offset (to change the
    /// config "meanwhile"; see change_config()).
    std::function<void(std::uint32_t offset)> on_config_read;
    /// Called after every config-space write with its offset: a device whose
    /// answer depends on what the driver wrote (virtio-input's select) sets
    /// its config_space() bytes here.
    std::function<void(std::uint32_t offset)> on_config_write;
    /// The config bytes, changed without a generation bump (unlike
    /// change_config()): what a device does in answer to a driver's write.
    std::span<std::uint8_t> config_space() { return config_; }

    void set_queue_num_max(std::uint16_t queue, std::uint32_t max);
    void inject(UsedFault fault, std::uint16_t jump = 0);
    /// used.flags VIRTQ_USED_F_NO_NOTIFY (honoured by drivers without EVENT_IDX).
    void set_no_notify(std::uint16_t queue, bool on);
    /// Bumps used.idx without writing an entry (a device making things up;
    /// packed: marks the next descriptor used, Buffer ID 0, staying there).
    void bump_used_idx(std::uint16_t queue, std::uint16_t by);
    /// Writes config bytes and bumps ConfigGeneration.
    void change_config(std::uint32_t offset, std::span<const std::uint8_t> bytes);
    /// Config change notification: ConfigGeneration++, InterruptStatus bit 1.
    void raise_config_change();
    /// What QEMU's virtio_error() does to a modern device: it stops
    /// processing, sets DEVICE_NEEDS_RESET and sends a config change
    /// notification. A reset (status 0) makes it work again.
    void set_needs_reset();

    /// Consumes every available chain of `queue` (what a notify triggers).
    void process(std::uint16_t queue);

    // ---- observations ----
    const std::vector<std::uint8_t>& status_writes() const { return status_writes_; }
    std::uint8_t status() const { return status_; }
    std::uint64_t driver_features() const;
    std::uint64_t offered_features() const { return options_.features; }
    std::uint32_t notifications(std::uint16_t queue) const { return queues_[queue].notifies; }
    std::uint32_t interrupts_raised() const { return interrupts_raised_; }
    bool irq_pending() const { return isr_ != 0; }
    std::uint32_t isr() const { return isr_; }
    std::uint32_t generation_reads() const { return generation_reads_; }
    std::uint32_t guest_page_size() const { return guest_page_size_; }
    const std::vector<std::string>& violations() const { return violations_; }
    std::string violations_text() const;

    struct QueueView {
        std::uint16_t num;
        std::uint32_t align;              ///< legacy QueueAlign
        std::uint64_t desc, avail, used;  ///< packed: ring, driver area, device area
        bool live;                        ///< ready (modern) / PFN set and rings computed (legacy)
        std::uint16_t last_avail_idx, used_idx;  ///< packed: ring positions
        std::uint64_t chains;                    ///< chains completed so far
        std::uint64_t indirect_chains;
        std::size_t longest_chain;
        bool avail_wrap, used_wrap;  ///< packed: the Device Ring Wrap Counters
    };
    /// VIRTIO_F_RING_PACKED negotiated: the queues are packed rings.
    bool packed() const { return negotiated(virtio::VIRTIO_F_RING_PACKED); }
    QueueView queue(std::uint16_t index) const;
    /// Buffers the driver has on queue `index` now: available (not yet
    /// taken) or taken and not yet used; either layout.
    unsigned buffers_on_ring(std::uint16_t index) const;
    /// The last chains the behaviour saw (bounded history, newest last).
    const std::vector<Chain>& recent_chains() const { return recent_; }

private:
    struct Queue {
        std::uint32_t num_max = 0;
        std::uint16_t num = 0;
        std::uint32_t align = 0;  // legacy
        std::uint32_t pfn = 0;    // legacy
        std::uint32_t desc_lo = 0, desc_hi = 0, avail_lo = 0, avail_hi = 0, used_lo = 0,
                      used_hi = 0;  // modern, staged until QueueReady
        bool ready = false;
        std::uint64_t desc = 0, avail = 0, used = 0;
        std::uint16_t last_avail_idx = 0;
        std::uint16_t used_idx = 0;
        bool avail_wrap = true;  // packed (2.8.1: start at 1)
        bool used_wrap = true;
        std::uint16_t signalled_used = 0;
        bool signalled_used_valid = false;
        bool no_notify = false;
        std::uint32_t notifies = 0;
        std::uint64_t chains = 0;
        std::uint64_t indirect_chains = 0;
        std::size_t longest_chain = 0;
        std::set<std::uint16_t> outstanding;  // heads taken from avail, not yet used
    };

    bool legacy() const { return options_.version == virtio::mmio::VERSION_LEGACY; }
    bool negotiated(unsigned bit) const;
    void violation(const std::string& what);
    void reset_device();
    void update_legacy_rings(Queue& q);
    void write_status(std::uint32_t value);
    bool walk_chain(Queue& q, std::uint16_t head, Chain& chain);
    void push_used(std::uint16_t index, Queue& q, const Chain& chain, std::uint32_t len);
    std::uint16_t pick_not_in_flight(const Queue& q, std::uint16_t head) const;
    UsedFault take_fault();
    void count_chain(Queue& q, const Chain& chain);
    // The packed ring (fake_packed_ring.cpp).
    void process_packed(std::uint16_t index, Queue& q);
    bool walk_packed(Queue& q, Chain& chain);
    void push_used_packed(Queue& q, const Chain& chain, std::uint32_t len);
    void write_used_packed(Queue& q, std::uint16_t id, std::uint32_t len, std::uint16_t slots,
                           bool wrong_wrap = false);
    bool should_notify_packed(Queue& q);
    std::uint32_t config_read(std::uint32_t offset, unsigned size);
    void config_write(std::uint32_t offset, unsigned size, std::uint32_t value);

    Options options_;
    std::vector<Queue> queues_;
    std::vector<std::uint8_t> config_;
    std::uint32_t generation_ = 0;
    std::uint32_t generation_reads_ = 0;
    std::uint8_t status_ = 0;
    std::uint32_t isr_ = 0;
    std::uint32_t device_features_sel_ = 0;
    bool device_features_sel_written_ = false;
    std::uint32_t driver_features_sel_ = 0;
    bool driver_features_sel_written_ = false;
    std::uint32_t driver_features_[2] = {0, 0};
    std::uint32_t queue_sel_ = 0;
    std::uint32_t guest_page_size_ = 0;
    std::uint32_t guest_page_shift_ = 0;
    std::uint32_t interrupts_raised_ = 0;
    UsedFault fault_ = UsedFault::none;
    std::uint16_t fault_jump_ = 0;
    bool broken_ = false;  // like QEMU's virtio_error(): stop processing
    std::vector<std::uint8_t> status_writes_;
    std::vector<std::string> violations_;
    std::vector<Chain> recent_;
};

}  // namespace fake
