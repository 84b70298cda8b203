// The shell command `iobench`: wall-clock block I/O on the first disk (or
// -d dev) through the asynchronous block API, for tools/bench.py --io (run
// WITHOUT -icount: the counter is host time). Prints, for the CPU reference
// loop and then each test,
//
//   io: cpu-ref <n> kloops/s
//   io: <name> running
//   io: <name> <label> <n> IOPS <n.n> MB/s <n.nnn> kicks/req <n.nnn> irqs/req
//   io: <name> failed (<why>)
//   io: <name> skipped (<why>)
//   io: done
//
// tools/bench.py parses these lines; keep them stable. <label> is -b's
// (the host's name for the QEMU backend; the guest cannot tell). Tests:
// randread-4k-qd1, randread-4k-qd32, randwrite-4k-qd1, randwrite-4k-qd32
// (random 4 KiB-aligned offsets over the disk), seqread-1m, seqwrite-1m
// (1 MiB requests in order, wrapping), and randread-4k-qd1-poll,
// randwrite-4k-qd1-poll: the depth-1 tests with polled completions
// (BlockRequest::poll, CONFIG_BLK_POLL; skipped without it), each right
// after its interrupt-driven twin. The write tests overwrite the disk.
// Each test issues -n requests, or runs for -t milliseconds.
#include <new>
#include <span>

#include <rtos/clock.hpp>
#include <rtos/heap.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>

#include "drivers/block/block_device.hpp"
#include "shell/shell.hpp"

namespace rtos::bench {
namespace {

using block::BlockDevice;
using block::BlockRequest;

constexpr unsigned kMaxDepth = 32;
constexpr uint32_t kSmall = 8;     // sectors: 4 KiB
constexpr uint32_t kLarge = 2048;  // sectors: 1 MiB
constexpr uint64_t kCpuLoops = 2000000;

struct Test {
    const char* name;
    BlockRequest::Op op;
    uint32_t sectors;
    unsigned depth;
    bool sequential;
    bool poll = false;
};

constexpr Test kTests[] = {
    {"randread-4k-qd1", BlockRequest::Op::read, kSmall, 1, false},
    {"randread-4k-qd1-poll", BlockRequest::Op::read, kSmall, 1, false, true},
    {"randread-4k-qd32", BlockRequest::Op::read, kSmall, 32, false},
    {"randwrite-4k-qd1", BlockRequest::Op::write, kSmall, 1, false},
    {"randwrite-4k-qd1-poll", BlockRequest::Op::write, kSmall, 1, false, true},
    {"randwrite-4k-qd32", BlockRequest::Op::write, kSmall, 32, false},
    {"seqread-1m", BlockRequest::Op::read, kLarge, 1, true},
    {"seqwrite-1m", BlockRequest::Op::write, kLarge, 1, true},
};

#if defined(CONFIG_BLK_POLL)
constexpr bool kCanPoll = true;
#else
constexpr bool kCanPoll = false;
#endif

// "12.345": value * 1000 / den, to three decimals.
void print_milli(const char* fmt, uint64_t num, uint64_t den) {
    const uint64_t m = den ? num * 1000 / den : 0;
    printk(fmt, static_cast<unsigned long long>(m / 1000),
           static_cast<unsigned long long>(m % 1000));
}

// A fixed integer loop: its rate says how fast this host runs the guest now,
// so runs on a busy machine can be told apart.
void cpu_reference() {
    const uint64_t t0 = clock::now_ns();
    volatile uint32_t sink = 0;
    uint32_t x = 0x12345678;
    for (uint64_t i = 0; i < kCpuLoops; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
    }
    sink = x;
    (void)sink;
    const uint64_t ns = clock::now_ns() - t0;
    printk("io: cpu-ref %llu kloops/s\n",
           static_cast<unsigned long long>(ns ? kCpuLoops * 1000000ull / ns : 0));
}

class Runner {
public:
    Runner(BlockDevice& dev, const Test& t, uint64_t count, uint64_t ms)
        : dev_(dev), t_(t), count_(count), ms_(ms) {}

    // False (printed why) when the test could not run to the end.
    bool run(const char* label) {
        const BlockDevice::Info& info = dev_.info();
        slots_ = info.sectors / t_.sectors;
        if (slots_ == 0) return failed("the disk is smaller than one request");
        if (t_.op == BlockRequest::Op::write && info.read_only) return failed("read-only disk");
        const std::size_t bytes = std::size_t{t_.sectors} * BlockDevice::kSectorSize;
        buf_ = static_cast<uint8_t*>(heap::alloc_aligned(bytes * t_.depth, 64, false));
        if (!buf_) return failed("no memory for the buffers");
        memset(buf_, 0xa5, bytes * t_.depth);

        BlockDevice::Counters c0{}, c1{};
        const bool counted = dev_.counters(c0);
        const uint64_t t0 = clock::now_ns();
        deadline_ = ms_ ? t0 + ms_ * 1000000ull : 0;
        const bool ok = loop();
        const uint64_t ns = clock::now_ns() - t0;
        dev_.counters(c1);
        heap::free(buf_);
        if (!ok) return false;
        if (shell::interrupted()) {  // a partial run: no figures that read like a measurement
            printk("io: %s interrupted after %llu requests\n", t_.name,
                   static_cast<unsigned long long>(completed_));
            return true;
        }

        const uint64_t bytes_done = completed_ * bytes;
        printk("io: %s %s %llu IOPS ", t_.name, label,
               static_cast<unsigned long long>(ns ? completed_ * 1000000000ull / ns : 0));
        // MB/s = bytes / ns * 1000, to one decimal.
        const uint64_t mb10 = ns ? bytes_done * 10000 / ns : 0;
        printk("%llu.%llu MB/s ", static_cast<unsigned long long>(mb10 / 10),
               static_cast<unsigned long long>(mb10 % 10));
        if (counted) {
            print_milli("%llu.%03llu kicks/req ", c1.kicks - c0.kicks, completed_);
            print_milli("%llu.%03llu irqs/req\n", c1.irqs - c0.irqs, completed_);
        } else {
            printk("- kicks/req - irqs/req\n");
        }
        return true;
    }

private:
    bool failed(const char* why) {
        printk("io: %s failed (%s)\n", t_.name, why);
        return false;
    }

    bool more() const {
        if (deadline_) return clock::now_ns() < deadline_;
        return issued_ < count_;
    }

    uint64_t next_lba() {
        if (t_.sequential) return (seq_++ % slots_) * t_.sectors;
        rng_ ^= rng_ << 13;
        rng_ ^= rng_ >> 7;
        rng_ ^= rng_ << 17;
        return (rng_ % slots_) * t_.sectors;
    }

    void prepare(unsigned i) {
        BlockRequest& r = reqs_[i];
        r.op = t_.op;
        r.lba = next_lba();
        r.count = t_.sectors;
        r.buf = buf_ + std::size_t{i} * t_.sectors * BlockDevice::kSectorSize;
        r.poll = t_.poll;
        in_flight_[i] = true;
        ++issued_;
    }

    // Keeps depth requests in flight: waits for one, takes every finished
    // one, resubmits those as one batch (one notification at most).
    bool loop() {
        BlockRequest* batch[kMaxDepth];
        unsigned n = 0;
        for (unsigned i = 0; i < t_.depth && more(); ++i) {
            prepare(i);
            batch[n++] = &reqs_[i];
        }
        dev_.submit(std::span<BlockRequest* const>(batch, n));
        unsigned busy = n, cursor = 0;
        bool ok = true;
        while (busy) {
            while (!in_flight_[cursor]) cursor = (cursor + 1) % t_.depth;
            dev_.wait(reqs_[cursor]);
            const bool go_on = ok && more() && !shell::interrupted();
            n = 0;
            for (unsigned i = 0; i < t_.depth; ++i) {
                if (!in_flight_[i] || !reqs_[i].done()) continue;
                in_flight_[i] = false;
                --busy;
                if (dev_.wait(reqs_[i]) != Status::ok) {  // collects its completion
                    if (ok) printk("io: %s failed (%s)\n", t_.name, status_name(reqs_[i].status));
                    ok = false;
                    continue;
                }
                ++completed_;
                if (go_on && more()) {
                    prepare(i);
                    batch[n++] = &reqs_[i];
                    ++busy;
                }
            }
            if (n) dev_.submit(std::span<BlockRequest* const>(batch, n));
        }
        return ok;
    }

    BlockDevice& dev_;
    const Test& t_;
    uint64_t count_, ms_;
    uint64_t deadline_ = 0;
    uint64_t slots_ = 0, seq_ = 0, issued_ = 0, completed_ = 0;
    uint32_t rng_ = 0x2545f491;
    uint8_t* buf_ = nullptr;
    BlockRequest reqs_[kMaxDepth];
    bool in_flight_[kMaxDepth] = {};
};

bool contains(const char* s, const char* part) {
    const std::size_t n = strlen(part);
    for (; *s; ++s)
        if (strncmp(s, part, n) == 0) return true;
    return false;
}

Runner* runner;  // large (32 requests): not on the shell's stack

int cmd_iobench(int argc, char** argv) {
    BlockDevice* dev = BlockDevice::first();
    const char* label = "-";
    unsigned long long count = 0, ms = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; ++i) {
        if (i + 1 >= argc) return shell::kUsage;
        const char* opt = argv[i];
        const char* val = argv[++i];
        if (!strcmp(opt, "-d")) {
            dev = BlockDevice::find(val);
            if (!dev) {
                printk("iobench: no block device named %s\n", val);
                return 1;
            }
        } else if (!strcmp(opt, "-b")) {
            label = val;
        } else if (!strcmp(opt, "-n")) {
            if (!shell::parse_u64(val, count) || count == 0) return shell::kUsage;
        } else if (!strcmp(opt, "-t")) {
            if (!shell::parse_u64(val, ms) || ms == 0) return shell::kUsage;
        } else {
            return shell::kUsage;
        }
    }
    if (!dev) {
        printk("iobench: no block device\n");
        return 1;
    }
    if (argc - i > 1) return shell::kUsage;  // one filter at most
    if (!count && !ms) count = 1000;
    const char* filter = i < argc ? argv[i] : "";
    bool any = !*filter || !strcmp(filter, "all");
    for (const Test& t : kTests) any = any || contains(t.name, filter);
    if (!any) {  // a typo must not look like a clean run
        printk("iobench: no test name contains '%s'\n", filter);
        return 1;
    }
    cpu_reference();
    int result = 0;
    for (const Test& t : kTests) {
        if (*filter && strcmp(filter, "all") && !contains(t.name, filter)) continue;
        if (shell::interrupted()) break;
        if (t.poll && !kCanPoll) {
            printk("io: %s skipped (CONFIG_BLK_POLL is off)\n", t.name);
            continue;
        }
        printk("io: %s running\n", t.name);
        void* mem = heap::alloc(sizeof(Runner));
        if (!mem) {
            printk("io: %s failed (no memory)\n", t.name);
            result = 1;
            continue;
        }
        runner = new (mem) Runner(*dev, t, count, ms);
        if (!runner->run(label)) result = 1;
        runner->~Runner();
        heap::free(mem);
    }
    if (shell::interrupted()) return shell::kInterrupted;
    printk("io: done\n");
    return result;
}

}  // namespace
}  // namespace rtos::bench

SHELL_COMMAND(iobench, "[-d dev] [-b label] [-n requests | -t ms] [all | name-part]",
              "wall-clock block I/O at queue depth 1 (also polled) and 32 (tools/bench.py --io)",
              rtos::bench::cmd_iobench);
