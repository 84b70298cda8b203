// The block device class (rtos::block): the generic block-device interface
// that examples and (future) file systems use, independent of the bus.
// Addresses are 512-byte sectors. Requests outside the device, or writes to a
// read-only device, are refused here, before they reach a driver.
//
// Two ways in, one path: submit() queues asynchronous BlockRequests (many in
// flight from one thread, handed to the device as one batch); read(),
// write() and flush() submit one request and wait() for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <rtos/list.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/types.hpp>

namespace rtos::block {

/// One asynchronous request. The caller fills the first fields, owns the
/// object and the buffer, and must not touch either until it completed
/// (done()). Reusable once done.
struct BlockRequest {
    enum class Op : uint8_t { read, write, flush };
    /// Runs once when the request completes, in interrupt context (or in a
    /// polling thread): must not block or submit. nullptr: wait for the
    /// request with BlockDevice::wait().
    using Callback = void (*)(BlockRequest& request);

    Op op = Op::read;
    uint64_t lba = 0;
    uint32_t count = 0;  ///< sectors (ignored for flush)
    void* buf = nullptr;
    Callback on_done = nullptr;
    void* context = nullptr;  ///< for the callback's use
    /// Completed by polling (CONFIG_BLK_POLL): the device's interrupt is
    /// held off from submission on, and wait() spins on its completion ring
    /// for up to CONFIG_BLK_POLL_US before it falls back to the interrupt
    /// and sleeps. For a request the submitting thread waits for at once;
    /// ignored with a callback and by drivers that cannot poll.
    bool poll = false;

    /// The result, valid once done(): ok, or per request io_error,
    /// unsupported, out_of_range, invalid, timeout.
    Status status = Status::ok;
    // Acquire: what the completing CPU wrote (status, the data) is seen.
    bool done() const { return __atomic_load_n(&done_, __ATOMIC_ACQUIRE) != kPending; }

    // Bookkeeping of the block layer and the driver.
    // Atomic once submitted (done(), complete()). kDone: the status is
    // written, but the completer (an interrupt on another CPU) may still be
    // giving `completed`; kSettled: it no longer touches the request, which
    // its waiter may then free (BlockDevice::settle()).
    static constexpr uint8_t kPending = 0, kDone = 1, kSettled = 2;
    uint8_t done_ = kPending;
    /// Driver: polled for (the device's interrupt held off) until wait()
    /// hands it to the driver, also once done.
    bool polling = false;
    uint16_t queue = 0;       ///< driver: the device queue it was polled on
    uint32_t parts_left = 0;  ///< driver: device requests still in flight
    BinarySemaphore completed;
};

class BlockDevice {
public:
    static constexpr uint32_t kSectorSize = 512;

    struct Info {
        uint64_t sectors;     ///< capacity in 512-byte sectors
        uint32_t block_size;  ///< the device's preferred I/O size in bytes
        bool read_only;
        bool flush;  ///< a write cache that flush() drains
    };

    /// Queues every request of `requests` (thread context only) and makes
    /// them visible to the device as one batch (virtio-blk: one notification
    /// at most). When the device's queue is full it waits for free slots
    /// (notifying the device of what it queued first); a request it could
    /// not queue within the driver's timeout completes with `timeout`. Every
    /// request completes exactly once, also one refused at once (checked as
    /// read()/write() do, or the device broke: io_error). Returns ok when
    /// all were queued, else the first refusal's status.
    Status submit(std::span<BlockRequest* const> requests);
    Status submit(BlockRequest& request) {
        BlockRequest* one = &request;
        return submit(std::span<BlockRequest* const>(&one, 1));
    }
    /// Waits for a request submitted without a callback and returns its
    /// status. A request the device does not complete within the driver's
    /// timeout fails the device (every request in flight completes with an
    /// error) and returns timeout.
    Status wait(BlockRequest& request);

    /// Reads `count` sectors at `lba` into `buf` (count * 512 bytes).
    Status read(uint64_t lba, uint32_t count, void* buf);
    Status write(uint64_t lba, uint32_t count, const void* buf);
    /// Makes completed writes durable (ok when the device has no cache).
    Status flush();
    /// Device serial/identifier, NUL-terminated into buf; unsupported if none.
    Status get_id(char* buf, std::size_t size);

    const char* name() const { return name_; }
    const Info& info() const { return info_; }

    /// Device notifications and completion interrupts so far, for drivers
    /// that count them (virtio-blk: its queue's `virtio stat` counters);
    /// false when the driver does not.
    struct Counters {
        uint64_t kicks;
        uint64_t irqs;
    };
    virtual bool counters(Counters&) const { return false; }

    /// Registry of every block device, in probe order.
    static void add(BlockDevice* dev);
    static BlockDevice* find(const char* name);
    static BlockDevice* first();
    BlockDevice* next() const;

    ListNode registry_node;

protected:
    constexpr BlockDevice() = default;
    ~BlockDevice() = default;
    BlockDevice(const BlockDevice&) = delete;
    BlockDevice& operator=(const BlockDevice&) = delete;

    /// Queues checked requests (those already done() were refused: skip).
    virtual void do_submit(std::span<BlockRequest* const> requests) = 0;
    /// One checked request of a blocking call: a batch of one, without the
    /// batch loop where the driver has a shorter way (same queueing path).
    virtual void do_submit_one(BlockRequest& request) {
        BlockRequest* one = &request;
        do_submit(std::span<BlockRequest* const>(&one, 1));
    }
    /// Waits for one request (see wait()); it is done() when this returns.
    virtual void do_wait(BlockRequest& request) = 0;
    virtual Status do_get_id(char* buf, std::size_t size) = 0;

    /// Marks a request done with `s` and delivers its completion.
    static void complete(BlockRequest& r, Status s) {
        r.status = s;
        if (r.on_done) {
            __atomic_store_n(&r.done_, BlockRequest::kSettled, __ATOMIC_RELEASE);  // after status
            return r.on_done(r);
        }
        __atomic_store_n(&r.done_, BlockRequest::kDone, __ATOMIC_RELEASE);  // after status (done())
        r.completed.give_from_isr();
        // From here on the waiter may free r (settle()).
        __atomic_store_n(&r.done_, BlockRequest::kSettled, __ATOMIC_RELEASE);
    }
    /// Waits until the completion of a done request no longer touches it.
    static void settle(const BlockRequest& r);

    char name_[16] = "blk?";
    Info info_{};

private:
    Status check(uint64_t lba, uint32_t count, const void* buf) const;
    Status check(const BlockRequest& r) const;
    Status run(BlockRequest::Op op, uint64_t lba, uint32_t count, void* buf);
};

}  // namespace rtos::block
