// One virtqueue, used by every device driver: a split ring (2.7 Split
// Virtqueues, here) or, when VIRTIO_F_RING_PACKED was negotiated, a packed
// ring (2.8 Packed Virtqueues, virtqueue_packed.cpp) behind the same calls.
//
// The device is not trusted: what it writes to the used ring (the
// descriptor ring, packed) is checked before use, and a violation marks the
// queue broken (logged once) instead of touching memory on the device's
// word. Driver-side bookkeeping (free list, chain links, tokens) lives in
// private memory the device never sees.
//
// Not thread-safe: a driver serialises calls on one queue (with a
// SpinLock when its interrupt callback also pops: docs/smp.md).
// add_buffer(), kick() and pop_used() do not allocate and may run in
// interrupt context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#if !defined(RTOS_HOST_TEST)
#include <rtos/config.hpp>
#endif

#include "drivers/virtio/error.hpp"
#include "drivers/virtio/spec.hpp"
#include "drivers/virtio/transport/transport.hpp"

// The packed ring is built in with CONFIG_VIRTIO_RING_PACKED (and always in
// host tests, whose Kconfig variants only change what the core offers).
#if defined(CONFIG_VIRTIO_RING_PACKED) || defined(RTOS_HOST_TEST)
#define VIRTIO_RING_PACKED_BUILT 1
#endif

namespace virtio {

/// A device-readable part of a request (driver to device).
struct OutSegment {
    const void* data;
    std::uint32_t len;
};

/// A device-writable part of a request (device to driver).
struct InSegment {
    void* data;
    std::uint32_t len;
};

/// A request the device has finished: the caller's token and the number of
/// bytes the device wrote into the request's InSegments (checked <= their sum).
struct Completion {
    void* token;
    std::uint32_t len;
};

class Virtqueue {
    // The words has_used() watches when there is no ring word to watch.
    static constexpr std::uint16_t kWatchQuiet = 0;
    static constexpr std::uint16_t kWatchBroken = 0xffff;

public:
    /// Indirect tables are preallocated, one per descriptor, of this many
    /// entries; longer requests use a direct chain.
    static constexpr std::uint16_t kIndirectMax = 16;

    constexpr Virtqueue() = default;
    Virtqueue(const Virtqueue&) = delete;
    Virtqueue& operator=(const Virtqueue&) = delete;

    /// Allocates the rings of queue `index` and hands them to the device
    /// (2.7; modern parts aligned 16/2/4, legacy as one block with the used
    /// ring on the next 4096 boundary, 2.7.2; packed: the descriptor ring
    /// and the two event suppression words, 2.8.10.1). `wanted_size` (a
    /// power of two) is clamped to QueueNumMax with a logged notice.
    /// `event_idx`, `indirect` and `packed` say what was negotiated (packed:
    /// a modern device only).
    /// Errors: invalid_argument (size not a power of two, already
    /// initialised, packed on a legacy transport or not built in),
    /// queue_unavailable (QueueNumMax 0), no_memory, and the transport's
    /// queue_in_use / bad_layout. On error nothing stays allocated.
    Error init(Transport& transport, std::uint16_t index, std::uint16_t wanted_size, bool event_idx,
               bool indirect, bool packed = false);

    /// After a device reset and reclaim() of every request: the same rings,
    /// emptied, handed to the device again (re-initialisation after a
    /// failure). Allocates nothing: callable with interrupts masked or from
    /// an ISR. Errors: invalid_argument (not initialised, requests still in
    /// flight), the transport's queue setup errors.
    Error rearm();
    /// Frees the rings. Only once the device is reset: until then it may
    /// still access them. Safe on an uninitialised queue.
    void release();

    /// Exposes one request: `out` segments (device-readable) then `in`
    /// segments (device-writable), as one chain (2.7.13, 2.8.6) or, when
    /// negotiated and 2..kIndirectMax segments, one indirect descriptor
    /// (2.7.5.3, 2.8.7). Returns the head descriptor index (packed: the
    /// Buffer ID).
    /// `token` comes back from pop_used(). Makes the request visible to the
    /// device but does not notify it: call kick(). Errors:
    ///   invalid_argument  no segment, a zero length or null segment, more
    ///                     segments than the queue size, or 4 GiB or more in total;
    ///   no_space          not enough free descriptors (nothing was changed);
    ///   broken            the queue is broken (see pop_used()).
    /// Inline: a branch on the layout at the call, then the ring's own code.
    Result<std::uint16_t> add_buffer(std::span<const OutSegment> out, std::span<const InSegment> in,
                                     void* token) {
        return packed_ ? add_packed(out, in, token) : add_split(out, in, token);
    }

    /// Notifies the device of the requests added since the last kick, unless
    /// it asked not to be (avail_event with EVENT_IDX, else
    /// VIRTQ_USED_F_NO_NOTIFY, 2.7.10; packed: the Device Event Suppression
    /// structure, 2.8.10). Returns whether it notified.
    bool kick() { return packed_ ? kick_packed() : kick_split(); }

    /// Takes the next finished request (2.7.14, 2.8.21). Returns the
    /// completion, or
    ///   empty         nothing finished yet;
    ///   device_error  the device wrote a used entry that cannot be right (id
    ///                 out of range or not in flight, length above the
    ///                 writable bytes, used idx ahead of what is in flight;
    ///                 packed: a used descriptor whose AVAIL/USED bits do
    ///                 not match the ring wrap counter).
    ///                 Logged; the queue is now broken;
    ///   broken        the queue broke earlier.
    /// After device_error / broken: reset the device, then reclaim().
    /// Inline up to the empty check: every drain loop ends with it.
    Result<Completion> pop_used() {
        if (!has_used()) return {Error::empty, {nullptr, 0}};
        return packed_ ? take_used_packed() : take_used();
    }

    /// True when pop_used() has something to return (or an error to report).
    /// Inline: every interrupt asks it of every queue. One device-written
    /// word, whatever the layout (see watch_).
    bool has_used() const { return (watched() & watching_.mask) != watching_.idle; }

    /// Used buffer notifications (interrupts) off / on (2.7.7). With EVENT_IDX
    /// "off" puts used_event half the index space ahead of the next entry
    /// (and keeps it there as entries are popped), so the device's check
    /// never fires; else VIRTQ_AVAIL_F_NO_INTERRUPT (a hint the device may
    /// ignore). Packed (2.8.10): the Driver Event Suppression flags DISABLE
    /// for "off"; ENABLE or, with EVENT_IDX, DESC at the next used descriptor
    /// for "on". has_used() and pop_used() work either way (polling).
    /// enable_interrupts() returns false when buffers were used meanwhile:
    /// poll again before waiting.
    void disable_interrupts();
    [[nodiscard]] bool enable_interrupts();
    bool interrupts_enabled() const { return interrupts_on_; }

    /// With EVENT_IDX: ask for the used buffer notification only once half
    /// of the requests in flight (at least one) are used, not at the next
    /// one: one interrupt per several completions at high queue depth, the
    /// same one per request at depth 1. Only for queues whose every request
    /// completes on its own (block I/O), never for receive queues that wait
    /// for outside events. Off by default.
    void set_interrupt_batching(bool on) { batch_interrupts_ = on; }

    /// After a device reset: returns the token of one request still in flight
    /// and frees its descriptors; empty when none is left.
    Result<void*> reclaim();

    bool initialised() const { return memory_ != nullptr; }
    bool broken() const { return broken_; }
    std::uint16_t index() const { return index_; }
    std::uint16_t size() const { return size_; }
    std::uint16_t num_free() const { return num_free_; }
    std::uint16_t in_flight() const { return in_flight_; }
    bool uses_event_idx() const { return event_idx_; }
    bool uses_indirect() const { return indirect_pool_ != nullptr; }
    bool packed() const { return packed_; }
    /// Per-queue counters (`virtio stat`, tests, benchmarks): plain
    /// increments under the caller's serialisation of the queue.
    struct Stats {
        std::uint32_t kicks;         ///< available buffer notifications sent
        std::uint32_t suppressed;    ///< kick() calls the device asked us to skip
        std::uint32_t irqs;          ///< interrupts that found used entries here (interrupts on)
        std::uint32_t used;          ///< used entries taken by pop_used()
        std::uint32_t inflight_max;  ///< most requests in flight at once
    };
    const Stats& stats() const { return stats_; }
    /// Zeroes the counters; inflight_max restarts at what is in flight now.
    void reset_stats() { stats_ = {0, 0, 0, 0, in_flight_}; }
    /// The device core counts an interrupt that found used entries here
    /// while the queue asked for interrupts (a queue that keeps them off
    /// and is drained elsewhere is not counted for another queue's line).
    void count_interrupt() {
        if (interrupts_on_) ++stats_.irqs;
    }

private:
    // Per descriptor (split) or Buffer ID (packed), private to the driver.
    struct Slot {
        void* token;             // heads only
        std::uint64_t writable;  // heads only: bytes the device may write
        std::uint16_t next;      // chain link, or free-list link when free
        std::uint16_t count;     // heads only: descriptors the chain holds
        bool in_flight;          // heads only: exposed and not yet used
    };

    // The split ring (virtqueue.cpp).
    Result<std::uint16_t> add_split(std::span<const OutSegment> out, std::span<const InSegment> in,
                                    void* token);
    bool kick_split();
    Result<Completion> take_used();  // pop_used() once has_used()
    void free_chain(std::uint16_t head);
    std::uint16_t next_used_event() const;
    // Interrupts off with EVENT_IDX: an entry the device reaches only after
    // 2^15 more completions (QEMU then signals once; the index wraps).
    // (Split only: watching_.idle is its last used index, see watch_.)
    std::uint16_t far_used_event() const {
        return static_cast<std::uint16_t>(watching_.idle + 0x8000);
    }
    Result<Completion> break_queue();
    void free_memory();
    // has_used() with nothing to watch (false: any word is 0 under mask 0;
    // watch_ stays on a readable word), or on a broken queue (true).
    void watch_nothing() { watching_ = {0, 0}; }
    void watch_broken() {
        watch_ = &kWatchBroken;  // not 0 under mask 0xffff
        watching_ = {0xffff, 0};
    }
    std::uint16_t watched() const { return *static_cast<const volatile std::uint16_t*>(watch_); }
    Error arm();

    // The packed ring (virtqueue_packed.cpp); called where packed_ is set.
    Error arm_packed();
    Result<std::uint16_t> add_packed(std::span<const OutSegment> out, std::span<const InSegment> in,
                                     void* token);
    bool kick_packed();
    Result<Completion> take_used_packed();  // pop_used() once has_used()
    void set_interrupts_packed(bool on);
    std::uint16_t next_used_event_packed() const;
    void free_id(std::uint16_t id);

    // kick()'s end, both layouts: the notification, or a count of the skip.
    bool notify(bool needed) {
        if (needed) {
            transport_->notify_queue(index_);
            ++stats_.kicks;
        } else {
            ++stats_.suppressed;
        }
        return needed;
    }

    // add_buffer()'s checks, the same for both layouts: at least one
    // segment, none empty or null, no more than the queue size (2.7.5.3,
    // 2.8.18), less than 4 GiB in all (2.7.5). Sets the device-writable bytes.
    bool fits(std::span<const OutSegment> out, std::span<const InSegment> in,
              std::uint64_t& writable) const {
        const std::size_t total = out.size() + in.size();
        if (total == 0 || total > size_) return false;
        std::uint64_t bytes = 0;
        writable = 0;
        for (const OutSegment& s : out) {
            if (s.data == nullptr || s.len == 0) return false;
            bytes += s.len;
        }
        for (const InSegment& s : in) {
            if (s.data == nullptr || s.len == 0) return false;
            bytes += s.len;
            writable += s.len;
        }
        return bytes <= 0xffffffffu;
    }

    Transport* transport_ = nullptr;
    void* memory_ = nullptr;
    std::size_t memory_bytes_ = 0;
    Slot* slots_ = nullptr;
    VirtqDesc* indirect_pool_ = nullptr;  // size_ * kIndirectMax, or nullptr

    // has_used() is (*watch_ & watching_.mask) != watching_.idle: split,
    // used->idx against the index read up to (mask 0xffff; idle is the
    // split ring's last_used_idx); packed, the flags of the descriptor at
    // next_used_ against those of the driver's own available one (mask
    // AVAIL|USED), masked to nothing while nothing is in flight (what the
    // last lap left there is not looked at); a queue without rings
    // watches kWatchQuiet under mask 0, a broken one a word that always
    // differs. No branch on the layout in the hottest call. The pair is
    // one 4-byte value, so that switching it is one store (packed: twice
    // per request at queue depth 1, from watch_next_).
    struct alignas(4) Watch {
        std::uint16_t mask;
        std::uint16_t idle;
    };
    const std::uint16_t* watch_ = &kWatchQuiet;
    Watch watching_{0xffff, 0};

    VirtqDesc* desc_ = nullptr;
    VirtqAvail* avail_ = nullptr;
    std::uint16_t* avail_ring_ = nullptr;
    std::uint16_t* used_event_ = nullptr;
    VirtqUsed* used_ = nullptr;
    VirtqUsedElem* used_ring_ = nullptr;
    std::uint16_t* avail_event_ = nullptr;

    std::uint16_t index_ = 0;
    std::uint16_t size_ = 0;
    std::uint16_t free_head_ = 0;
    std::uint16_t num_free_ = 0;
    std::uint16_t in_flight_ = 0;
    std::uint16_t avail_idx_ = 0;  // shadow of avail->idx (we are its only writer)
    std::uint16_t num_added_ = 0;  // added since the last kick (packed: descriptors)
    std::uint16_t avail_flags_ = 0;
    bool event_idx_ = false;
    bool interrupts_on_ = true;
    bool batch_interrupts_ = false;
    bool broken_ = false;
#if defined(VIRTIO_RING_PACKED_BUILT)
    static constexpr bool kPackedBuilt = true;
    bool packed_ = false;
#else
    static constexpr bool kPackedBuilt = false;
    static constexpr bool packed_ = false;  // every packed branch folds away
#endif
    Stats stats_{};

    // Packed ring state (2.8.1): positions in the descriptor ring, and the
    // Driver / Device Ring Wrap Counters kept as the AVAIL/USED marks they
    // give (avail_marks_: a descriptor we make available now; used_marks_:
    // the next one the device uses). free_head_ heads the free Buffer IDs
    // (linked through Slot::next); num_free_ counts free descriptors.
    PvirtqDesc* ring_ = nullptr;
    PvirtqEventSuppress* driver_event_ = nullptr;        // ours: used buffer notifications
    const PvirtqEventSuppress* device_event_ = nullptr;  // the device's: our kicks
    std::uint16_t next_avail_ = 0;
    std::uint16_t next_used_ = 0;
    std::uint16_t avail_marks_ = 0;
    std::uint16_t used_marks_ = 0;
    Watch watch_next_{0, 0};  // watching_ while requests are in flight (follows used_marks_)
};

}  // namespace virtio
