// One split virtqueue (2.7 Split Virtqueues), used by every device driver.
//
// The device is not trusted: what it writes to the used ring is checked
// before use, and a violation marks the queue broken (logged once) instead of
// touching memory on the device's word. Driver-side bookkeeping (free list,
// chain links, tokens) lives in private memory the device never sees.
//
// Not thread-safe: a driver serialises calls on one queue (e.g. with an
// IrqLock when its interrupt callback also pops). add_buffer(), kick() and
// pop_used() do not allocate and may run in interrupt context.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "drivers/virtio/error.hpp"
#include "drivers/virtio/spec.hpp"

namespace virtio {

class Transport;

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
public:
    /// Indirect tables are preallocated, one per descriptor, of this many
    /// entries; longer requests use a direct chain.
    static constexpr std::uint16_t kIndirectMax = 16;

    constexpr Virtqueue() = default;
    Virtqueue(const Virtqueue&) = delete;
    Virtqueue& operator=(const Virtqueue&) = delete;

    /// Allocates the rings of queue `index` and hands them to the device
    /// (2.7; modern parts aligned 16/2/4, legacy as one block with the used
    /// ring on the next 4096 boundary, 2.7.2). `wanted_size` (a power of two)
    /// is clamped to QueueNumMax with a logged notice. `event_idx` and
    /// `indirect` say what was negotiated.
    /// Errors: invalid_argument (size not a power of two, already initialised),
    /// queue_unavailable (QueueNumMax 0), no_memory, and the transport's
    /// queue_in_use / bad_layout. On error nothing stays allocated.
    Error init(Transport& transport, std::uint16_t index, std::uint16_t wanted_size, bool event_idx,
               bool indirect);

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
    /// segments (device-writable), as one chain (2.7.13) or, when negotiated
    /// and 2..kIndirectMax segments, one indirect descriptor (2.7.5.3).
    /// `token` comes back from pop_used(). Makes the request visible to the
    /// device but does not notify it: call kick().
    /// Returns the head descriptor index, or
    ///   invalid_argument  no segment, a zero length or null segment, more
    ///                     segments than the queue size, or 4 GiB or more in total;
    ///   no_space          not enough free descriptors (nothing was changed);
    ///   broken            the queue is broken (see pop_used()).
    Result<std::uint16_t> add_buffer(std::span<const OutSegment> out, std::span<const InSegment> in,
                                     void* token);

    /// Notifies the device of the requests added since the last kick, unless
    /// it asked not to be (avail_event with EVENT_IDX, else
    /// VIRTQ_USED_F_NO_NOTIFY; 2.7.10). Returns whether it notified.
    bool kick();

    /// Takes the next finished request (2.7.14). Returns the completion, or
    ///   empty         nothing finished yet;
    ///   device_error  the device wrote a used entry that cannot be right (id
    ///                 out of range or not in flight, length above the
    ///                 writable bytes, used idx ahead of what is in flight).
    ///                 Logged; the queue is now broken;
    ///   broken        the queue broke earlier.
    /// After device_error / broken: reset the device, then reclaim().
    /// Inline up to the empty check: every drain loop ends with it.
    Result<Completion> pop_used() {
        if (!has_used()) return {Error::empty, {nullptr, 0}};
        return take_used();
    }

    /// True when pop_used() has something to return (or an error to report).
    bool has_used() const {  // inline: every interrupt asks it of every queue
        return memory_ != nullptr && (broken_ || *static_cast<const volatile std::uint16_t*>(
                                                     &used_->idx) != last_used_idx_);
    }

    /// Used buffer notifications (interrupts) off / on (2.7.7). With EVENT_IDX
    /// "off" puts used_event half the index space ahead of the next entry
    /// (and keeps it there as entries are popped), so the device's check
    /// never fires; else VIRTQ_AVAIL_F_NO_INTERRUPT (a hint the device may
    /// ignore). enable_interrupts() returns false when buffers were used
    /// meanwhile: poll again before waiting.
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
    // Per descriptor, private to the driver.
    struct Slot {
        void* token;             // heads only
        std::uint64_t writable;  // heads only: bytes the device may write
        std::uint16_t next;      // chain link, or free-list link when free
        std::uint16_t count;     // heads only: descriptors the chain holds
        bool in_flight;          // heads only: exposed and not yet used
    };

    Result<Completion> take_used();  // pop_used() once has_used()
    void free_chain(std::uint16_t head);
    std::uint16_t next_used_event() const;
    // Interrupts off with EVENT_IDX: an entry the device reaches only after
    // 2^15 more completions (QEMU then signals once; the index wraps).
    std::uint16_t far_used_event() const {
        return static_cast<std::uint16_t>(last_used_idx_ + 0x8000);
    }
    Result<Completion> break_queue();
    void free_memory();
    Error arm();

    Transport* transport_ = nullptr;
    void* memory_ = nullptr;
    std::size_t memory_bytes_ = 0;
    Slot* slots_ = nullptr;
    VirtqDesc* indirect_pool_ = nullptr;  // size_ * kIndirectMax, or nullptr

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
    std::uint16_t avail_idx_ = 0;      // shadow of avail->idx (we are its only writer)
    std::uint16_t last_used_idx_ = 0;  // next used entry to read
    std::uint16_t num_added_ = 0;      // added since the last kick
    std::uint16_t avail_flags_ = 0;
    bool event_idx_ = false;
    bool interrupts_on_ = true;
    bool batch_interrupts_ = false;
    bool broken_ = false;
    Stats stats_{};
};

}  // namespace virtio
