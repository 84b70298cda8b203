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
// Each test issues -n requests, or runs for -t milliseconds. -j N runs each
// test in N threads at once, thread k pinned to CPU k modulo the CPUs online
// (with a queue per CPU, each on its own queue), each at the test's depth
// on its own random offsets; the line sums them (-n split between them).
#include <new>
#include <span>

#include <rtos/clock.hpp>
#include <rtos/heap.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

#include "drivers/block/block_device.hpp"
#include "shell/shell.hpp"

namespace rtos::bench {
namespace {

using block::BlockDevice;
using block::BlockRequest;

constexpr unsigned kMaxDepth = 32;
constexpr unsigned kMaxJobs = 16;
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

// One thread's share of a test: its own requests and buffers.
class Runner {
public:
    Runner(BlockDevice& dev, const Test& t, uint64_t count, Tick deadline, uint32_t seed)
        : dev_(dev), t_(t), count_(count), deadline_(deadline), rng_(seed) {
        slots_ = dev.info().sectors / t.sectors;
    }
    ~Runner() { heap::free(buf_); }

    // False (printed why) when the buffers cannot be had.
    bool setup() {
        const std::size_t bytes = std::size_t{t_.sectors} * BlockDevice::kSectorSize;
        buf_ = static_cast<uint8_t*>(heap::alloc_aligned(bytes * t_.depth, 64, false));
        if (!buf_) return failed("no memory for the buffers");
        memset(buf_, 0xa5, bytes * t_.depth);
        return true;
    }
    uint64_t completed() const { return completed_; }
    void set_deadline(Tick t) { deadline_ = t; }

    // Keeps depth requests in flight: waits for one, takes every finished
    // one, resubmits those as one batch (one notification at most). False
    // (printed) when a request failed.
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

private:
    bool failed(const char* why) {
        printk("io: %s failed (%s)\n", t_.name, why);
        return false;
    }

    bool more() const {
        if (deadline_) return clock::ticks() < deadline_;
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

    BlockDevice& dev_;
    const Test& t_;
    uint64_t count_;
    // In ticks, 0 for count_ requests: the counter is not read per request
    // (on aarch64 under QEMU's TCG a read takes QEMU's big lock, which would
    // delay the completion being measured).
    Tick deadline_;
    uint64_t slots_ = 0, seq_ = 0, issued_ = 0, completed_ = 0;
    uint32_t rng_;
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

struct Job {
    Runner* runner;
    bool ok;
};

void job_thread(void* arg) {
    auto* j = static_cast<Job*>(arg);
    j->ok = j->runner->loop();
}

// Each Runner is large (32 requests): on the heap, not on a stack.
// Runs `runners[0..jobs)` at once, the first in this thread when alone.
bool run_jobs(Runner* const* runners, unsigned jobs) {
    if (jobs == 1) return runners[0]->loop();
    Job job[kMaxJobs];
    Thread* workers[kMaxJobs];
    const unsigned cpus = smp::cpu_count();
    bool ok = true;
    unsigned started = 0;
    for (; started < jobs; ++started) {
        job[started] = {runners[started], false};
        workers[started] = Thread::create({.name = "iobench",
                                           .priority = Thread::current()->priority(),
                                           .affinity = cpu_mask(started % cpus)},
                                          job_thread, &job[started], 8192);
        if (!workers[started]) {
            printk("iobench: cannot create thread %u\n", started);
            ok = false;
            break;
        }
    }
    for (unsigned k = 0; k < started; ++k) {
        workers[k]->join();
        ok = ok && job[k].ok;
    }
    return ok;
}

// One test in `jobs` threads; false (printed why) when it could not run to the end.
bool run_test(BlockDevice& dev, const Test& t, uint64_t count, uint64_t ms, unsigned jobs,
              const char* label) {
    const BlockDevice::Info& info = dev.info();
    if (info.sectors / t.sectors == 0) {
        printk("io: %s failed (the disk is smaller than one request)\n", t.name);
        return false;
    }
    if (t.op == BlockRequest::Op::write && info.read_only) {
        printk("io: %s failed (read-only disk)\n", t.name);
        return false;
    }
    Runner* runners[kMaxJobs] = {};
    unsigned made = 0;
    bool ok = true;
    const uint64_t share = count ? (count + jobs - 1) / jobs : 0;
    // The deadline is set once every runner exists (below).
    for (; made < jobs && ok; ++made) {
        void* mem = heap::alloc(sizeof(Runner));
        if (!mem) {
            printk("io: %s failed (no memory)\n", t.name);
            ok = false;
            break;
        }
        runners[made] = new (mem) Runner(dev, t, share, 0, 0x2545f491u + 0x9e3779b9u * made);
        ok = runners[made]->setup();
    }
    uint64_t done = 0, ns = 0;
    BlockDevice::Counters c0{}, c1{};
    bool counted = false;
    if (ok) {
        counted = dev.counters(c0);
        const uint64_t t0 = clock::now_ns();
        const Tick end = ms ? clock::ticks() + clock::ms_to_ticks(ms) : 0;
        for (unsigned k = 0; k < jobs; ++k) runners[k]->set_deadline(end);
        ok = run_jobs(runners, jobs);
        ns = clock::now_ns() - t0;
        dev.counters(c1);
        for (unsigned k = 0; k < jobs; ++k) done += runners[k]->completed();
    }
    for (unsigned k = 0; k < made; ++k) {
        if (!runners[k]) continue;
        runners[k]->~Runner();
        heap::free(runners[k]);
    }
    if (!ok) return false;
    if (shell::interrupted()) {  // a partial run: no figures that read like a measurement
        printk("io: %s interrupted after %llu requests\n", t.name,
               static_cast<unsigned long long>(done));
        return true;
    }
    const std::size_t bytes = std::size_t{t.sectors} * BlockDevice::kSectorSize;
    const uint64_t bytes_done = done * bytes;
    printk("io: %s %s %llu IOPS ", t.name, label,
           static_cast<unsigned long long>(ns ? done * 1000000000ull / ns : 0));
    // MB/s = bytes / ns * 1000, to one decimal.
    const uint64_t mb10 = ns ? bytes_done * 10000 / ns : 0;
    printk("%llu.%llu MB/s ", static_cast<unsigned long long>(mb10 / 10),
           static_cast<unsigned long long>(mb10 % 10));
    if (counted) {
        print_milli("%llu.%03llu kicks/req ", c1.kicks - c0.kicks, done);
        print_milli("%llu.%03llu irqs/req\n", c1.irqs - c0.irqs, done);
    } else {
        printk("- kicks/req - irqs/req\n");
    }
    return true;
}

int cmd_iobench(int argc, char** argv) {
    BlockDevice* dev = BlockDevice::first();
    const char* label = "-";
    unsigned long long count = 0, ms = 0, jobs = 1;
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
        } else if (!strcmp(opt, "-j")) {
            if (!shell::parse_u64(val, jobs) || jobs == 0 || jobs > kMaxJobs) return shell::kUsage;
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
        if (!run_test(*dev, t, count, ms, static_cast<unsigned>(jobs), label)) result = 1;
    }
    if (shell::interrupted()) return shell::kInterrupted;
    printk("io: done\n");
    return result;
}

}  // namespace
}  // namespace rtos::bench

SHELL_COMMAND(iobench, "[-d dev] [-b label] [-n requests | -t ms] [-j threads] [all | name-part]",
              "wall-clock block I/O at queue depth 1 (also polled) and 32, in -j threads "
              "(tools/bench.py --io)",
              rtos::bench::cmd_iobench);
