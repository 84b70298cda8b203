// The blk_* benchmarks of `bench` (added with BENCHMARKS(), rtos/bench/bench.hpp):
// the first block device through the generic interface: 4 KiB reads and
// writes, and sequential 64 KiB reads and writes over a scratch region at
// the end of the disk (at most 1 MiB, at most half the disk). The writes
// overwrite that region; they are skipped on a read-only disk.
//
// The cost is CPU instructions per request with the waiting left out
// (WaitMeter): the block layer, the driver's submission and notification,
// the completion interrupt, the wake-up and both context switches. The
// device's own latency has no instruction count: QEMU does the I/O in host
// time while the halted guest's virtual time follows host time
// (tools/bench.py boots with sleep on when a disk is attached: with
// sleep=off it would jump to the next timer deadline, the request's
// timeout, before the host is done; docs/benchmarks.md).
//
// Only requests whose thread actually waited, and during which no tick
// came, are counted. On real hardware nearly every request waits; under
// QEMU the host sometimes completes one before the submitting thread
// reaches its wait (which skips two context switches), and sometimes a
// tick falls into the wait, its interrupt arriving together with the
// completion. Both are races with host threads and would make the numbers
// follow the host's load, so those requests are issued but not timed.
#include <rtos/clock.hpp>
#include <rtos/heap.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

#include "bench/bench.hpp"
#include "drivers/block/block_device.hpp"

namespace rtos::bench {
namespace {

using block::BlockDevice;
using block::BlockRequest;

constexpr unsigned kRuns = 16;
constexpr unsigned kMaxTries = 8;
constexpr uint32_t kSmallSectors = 8;    // 4 KiB
constexpr uint32_t kLargeSectors = 128;  // 64 KiB
constexpr unsigned kSmallOps = 32;       // 4 KiB requests per run
constexpr uint64_t kScratchMax = 2048;   // sectors: 1 MiB

class Scratch {
public:
    ~Scratch() {
        meter_.stop();
        heap::free(buf_);
    }

    /// False (with the reason in r) when the benchmark cannot run.
    bool open(Result& r, bool write) {
        dev_ = BlockDevice::first();
        if (!dev_) {
            r.skipped = "no block device";
            return false;
        }
        const BlockDevice::Info& info = dev_->info();
        if (write && info.read_only) {
            r.skipped = "the first disk is read-only";
            return false;
        }
        uint64_t n = info.sectors / 2 < kScratchMax ? info.sectors / 2 : kScratchMax;
        sectors_ = n / kLargeSectors * kLargeSectors;
        if (sectors_ == 0) {
            r.skipped = "the first disk is smaller than 128 KiB";
            return false;
        }
        lba_ = info.sectors - sectors_;
        buf_ = static_cast<uint8_t*>(
            heap::alloc_aligned(kLargeSectors * BlockDevice::kSectorSize, 64, false));
        if (!buf_) {
            r.fail("no memory for the buffer");
            return false;
        }
        memset(buf_, 0x5a, kLargeSectors * BlockDevice::kSectorSize);
        if (!meter_.start()) {
            r.fail("no memory for the wait meter");
            return false;
        }
        return true;
    }

    /// Per run, times `ops` requests that waited for the device, tick-free (up to
    /// kMaxTries times as many are issued); request i is `count` sectors at
    /// the i-th such slot of the region, in order, wrapping. kRuns runs after
    /// a warm-up.
    void run(Result& r, bool write, uint32_t count, unsigned ops) {
        r.bytes_per_op = count * BlockDevice::kSectorSize;
        const uint64_t slots = sectors_ / count;
        const Thread* self = Thread::current();
        for (unsigned run = 0; run <= kRuns; ++run) {
            uint64_t cost = 0;
            unsigned waited = 0;
            for (unsigned i = 0; waited < ops && i < kMaxTries * ops; ++i) {
                uint64_t lba = lba_ + (i % slots) * count;
                uint64_t cpu0 = self->cpu_time(), w0 = meter_.waited();
                Tick k0 = clock::ticks();
                uint64_t c0 = arch::counter_read();
                Status s = write ? dev_->write(lba, count, buf_) : dev_->read(lba, count, buf_);
                uint64_t c1 = arch::counter_read();
                Tick k1 = clock::ticks();
                uint64_t w1 = meter_.waited();
                if (s != Status::ok) return r.fail(write ? "write failed" : "read failed");
                // Our CPU time only moves when we are switched out: unchanged,
                // the completion beat us to the wait (a host-timing race).
                if (self->cpu_time() == cpu0) continue;
                // A tick whose interrupt came with the completion's is not
                // part of the wait; whether that happens is another race.
                if (k1 != k0) continue;
                cost += (c1 - c0) - (w1 - w0);
                ++waited;
            }
            if (run > 0 && waited > 0) r.add_run(cost, waited);
        }
        if (r.runs == 0) r.fail("every request completed before its thread waited");
        if (write && dev_->flush() != Status::ok) r.fail("flush failed");
    }

    unsigned large_ops() const { return static_cast<unsigned>(sectors_ / kLargeSectors); }

private:
    BlockDevice* dev_ = nullptr;
    uint64_t lba_ = 0;
    uint64_t sectors_ = 0;
    uint8_t* buf_ = nullptr;
    WaitMeter meter_;
};

void blk(Result& r, bool write, bool large) {
    Scratch s;
    if (!s.open(r, write)) return;
    if (large) s.run(r, write, kLargeSectors, s.large_ops());  // the whole region, in order
    else s.run(r, write, kSmallSectors, kSmallOps);
}

void blk_read_4k(Result& r) { blk(r, false, false); }
void blk_write_4k(Result& r) { blk(r, true, false); }
void blk_seq_read_64k(Result& r) { blk(r, false, true); }
void blk_seq_write_64k(Result& r) { blk(r, true, true); }

}  // namespace

BENCHMARKS(blk) = {
    {"blk_read_4k", "first disk: 4 KiB read, CPU instructions per request (waiting excluded)",
     blk_read_4k},
    {"blk_write_4k", "first disk: 4 KiB write at its end, CPU instructions per request",
     blk_write_4k},
    {"blk_seq_read_64k", "first disk: sequential 64 KiB reads, CPU instructions per request",
     blk_seq_read_64k},
    {"blk_seq_write_64k", "first disk: sequential 64 KiB writes at its end, per request",
     blk_seq_write_64k},
};

}  // namespace rtos::bench
