// The `blk` shell command over the generic block interface. Its output is a
// contract the system tests rely on (docs/devices.md).
#include <rtos/crc32.hpp>
#include <rtos/format.hpp>
#include <rtos/heap.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/smp.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

#include "block_device.hpp"
#include "shell/shell.hpp"

namespace rtos {
namespace {

using block::BlockDevice;
using block::BlockRequest;

using rtos::Status;

constexpr uint32_t kChunkSectors = 64;  // 32 KiB per request

void print_size(uint64_t sectors) {
    uint64_t kib = sectors / 2;
    if (kib >= 1024) printk("%llu MiB", static_cast<unsigned long long>(kib / 1024));
    else printk("%llu KiB", static_cast<unsigned long long>(kib));
}

bool parse_range(BlockDevice& dev, char** argv, uint64_t& lba, uint32_t& count) {
    unsigned long long l, c;
    if (!shell::parse_u64(argv[0], l) || !shell::parse_u64(argv[1], c) || c == 0 ||
        c > 0xffffffffull) {
        printk("blk: <lba> and <count> must be numbers, count > 0\n");
        return false;
    }
    if (l >= dev.info().sectors || c > dev.info().sectors - l) {
        printk("blk: lba %llu count %llu is beyond the end of %s (%llu sectors)\n", l, c,
               dev.name(), static_cast<unsigned long long>(dev.info().sectors));
        return false;
    }
    lba = l;
    count = static_cast<uint32_t>(c);
    return true;
}

bool report(Status s, const char* what, BlockDevice& dev) {
    if (s == Status::ok) return true;
    printk("blk: %s on %s failed: %s\n", what, dev.name(), status_name(s));
    return false;
}

// Runs fn(buffer, lba, n) over the range in chunks, stopping on Ctrl-C.
// fn returns 0 to go on, else the command's result (1 on failure,
// shell::kInterrupted); so does for_chunks.
template <typename F>
int for_chunks(uint64_t lba, uint32_t count, F fn) {
    uint32_t chunk = count < kChunkSectors ? count : kChunkSectors;
    auto* buf =
        static_cast<uint8_t*>(heap::alloc_aligned(chunk * BlockDevice::kSectorSize, 64, false));
    if (!buf) {
        printk("blk: out of memory\n");
        return 1;
    }
    int result = 0;
    for (uint32_t done = 0; result == 0 && done < count;) {
        if (shell::interrupted()) {
            result = shell::kInterrupted;
            break;
        }
        uint32_t n = count - done < chunk ? count - done : chunk;
        result = fn(buf, lba + done, n);
        done += n;
    }
    heap::free(buf);
    return result;
}

int do_info(BlockDevice& d) {
    const auto& i = d.info();
    printk("%s: %llu sectors of 512 bytes (", d.name(), static_cast<unsigned long long>(i.sectors));
    print_size(i.sectors);
    printk("), block size %u, %s, %s\n", i.block_size, i.read_only ? "read-only" : "read-write",
           i.flush ? "write cache (flush supported)" : "no flush");
    char id[24];
    if (d.get_id(id, sizeof(id)) == Status::ok) printk("%s: id \"%s\"\n", d.name(), id);
    return 0;
}

int do_read(BlockDevice& d, uint64_t lba, uint32_t count) {
    return for_chunks(lba, count, [&](uint8_t* buf, uint64_t at, uint32_t n) {
        if (!report(d.read(at, n, buf), "read", d)) return 1;
        for (uint32_t off = 0; off < n * BlockDevice::kSectorSize; off += 16) {
            if (shell::interrupted()) return shell::kInterrupted;  // a chunk is 2048 lines
            printk("%08llx:", static_cast<unsigned long long>(at * 512 + off));
            for (int k = 0; k < 16; ++k) printk(" %02x", buf[off + k]);
            printk("  |");
            for (int k = 0; k < 16; ++k) {
                char c = static_cast<char>(buf[off + k]);
                printk("%c", c >= 0x20 && c < 0x7f ? c : '.');
            }
            printk("|\n");
        }
        return 0;
    });
}

// A blocking read, or one waited for by polling (blk -p: BlockRequest::poll).
Status read_chunk(BlockDevice& d, uint64_t at, uint32_t n, uint8_t* buf, bool poll) {
    if (!poll) return d.read(at, n, buf);
    BlockRequest r;
    r.op = BlockRequest::Op::read;
    r.lba = at;
    r.count = n;
    r.buf = buf;
    r.poll = true;
    d.submit(r);
    return d.wait(r);
}

int do_crc(BlockDevice& d, uint64_t lba, uint32_t count, bool poll) {
    uint32_t crc = 0;
    int result = for_chunks(lba, count, [&](uint8_t* buf, uint64_t at, uint32_t n) {
        if (!report(read_chunk(d, at, n, buf, poll), "read", d)) return 1;
        crc = crc32(crc, buf, n * BlockDevice::kSectorSize);
        return 0;
    });
    if (result) return result;
    printk("crc32=%08x\n", crc);
    return 0;
}

void fill_stamp(uint8_t* buf, uint64_t lba, uint32_t n) {
    // Each sector holds its own LBA, little-endian 64-bit, 64 times.
    for (uint32_t s = 0; s < n; ++s) {
        uint64_t v = lba + s;
        for (int k = 0; k < 64; ++k)
            for (int b = 0; b < 8; ++b)
                buf[s * 512 + k * 8 + b] = static_cast<uint8_t>(v >> (8 * b));
    }
}

int do_stamp(BlockDevice& d, uint64_t lba, uint32_t count) {
    if (d.info().read_only) {
        printk("blk: %s is read-only\n", d.name());
        return 1;
    }
    int result = for_chunks(lba, count, [&](uint8_t* buf, uint64_t at, uint32_t n) {
        fill_stamp(buf, at, n);
        return report(d.write(at, n, buf), "write", d) ? 0 : 1;
    });
    if (result) return result;
    printk("stamped %u sectors at lba %llu on %s\n", count, static_cast<unsigned long long>(lba),
           d.name());
    return 0;
}

// blk stress <threads> <reads>: threads stamp their own slices of a scratch
// area (the last eighth of the disk) concurrently, then each reads <reads>
// random ranges of the whole area and checks every sector holds its LBA:
// crossed or lost completions show up as errors. Thread i is pinned to CPU
// i modulo the CPUs online (submissions from every CPU at once, docs/smp.md);
// the line ends with the mask of CPUs that submitted. Ctrl-C stops every
// thread at its next request.
struct StressJob {
    BlockDevice* dev;
    uint64_t area_lba;
    uint32_t area_count;
    uint64_t slice_lba;
    uint32_t slice_count;
    unsigned reads;
    uint32_t seed;
    rtos::Semaphore* phase1_done;
    rtos::Semaphore* phase2_go;
    volatile unsigned errors;
    volatile unsigned writes_done;
    volatile unsigned reads_done;
    CpuMask cpus;  // where it submitted (its own; summed after the join)
};

uint32_t next_random(uint32_t& x) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
}

void stress_thread(void* arg) {
    auto* j = static_cast<StressJob*>(arg);
    constexpr uint32_t kMax = 16;
    auto* buf = static_cast<uint8_t*>(heap::alloc_aligned(kMax * 512, 64, false));
    uint32_t rnd = j->seed;
    if (!buf) {
        j->errors = j->errors + 1;
    } else {
        // Phase 1: stamp this thread's slice in random-size pieces.
        for (uint32_t at = 0; at < j->slice_count && !shell::interrupted();) {
            uint32_t n = 1 + next_random(rnd) % kMax;
            if (n > j->slice_count - at) n = j->slice_count - at;
            fill_stamp(buf, j->slice_lba + at, n);
            j->cpus |= cpu_mask(smp::cpu_id());
            if (j->dev->write(j->slice_lba + at, n, buf) != Status::ok) j->errors = j->errors + 1;
            j->writes_done = j->writes_done + 1;
            at += n;
        }
    }
    j->phase1_done->give();
    j->phase2_go->take();
    // Phase 2: random reads anywhere in the area, every sector checked.
    for (unsigned i = 0; buf && i < j->reads && !shell::interrupted(); ++i) {
        uint32_t n = 1 + next_random(rnd) % kMax;
        uint64_t lba = j->area_lba + next_random(rnd) % (j->area_count - n + 1);
        j->reads_done = j->reads_done + 1;
        j->cpus |= cpu_mask(smp::cpu_id());
        if (j->dev->read(lba, n, buf) != Status::ok) {
            j->errors = j->errors + 1;
            continue;
        }
        uint8_t want[512];
        for (uint32_t s = 0; s < n; ++s) {
            fill_stamp(want, lba + s, 1);
            if (memcmp(want, buf + s * 512, 512)) j->errors = j->errors + 1;
        }
    }
    heap::free(buf);
}

int do_stress(BlockDevice& d, char** args) {
    unsigned long long threads, reads;
    if (!shell::parse_u64(args[0], threads) || !shell::parse_u64(args[1], reads) || threads == 0 ||
        threads > 32 || reads == 0 || reads > 100000) {
        printk("blk: stress <threads 1..32> <reads per thread 1..100000>\n");
        return 1;
    }
    if (d.info().read_only) {
        printk("blk: %s is read-only\n", d.name());
        return 1;
    }
    const uint64_t sectors = d.info().sectors;
    const uint32_t count = static_cast<uint32_t>(sectors / 8);
    if (count < threads * 16) {
        printk("blk: %s is too small for a stress run\n", d.name());
        return 1;
    }
    const uint64_t area = sectors - count;
    printk("blk stress: scratch lba %llu count %u on %s\n", static_cast<unsigned long long>(area),
           count, d.name());
    rtos::Semaphore phase1(0), go(0);
    StressJob jobs[32];
    Thread* workers[32];
    const uint32_t per = count / static_cast<uint32_t>(threads);
    for (unsigned i = 0; i < threads; ++i) {
        uint32_t slice = i + 1 == threads ? count - per * i : per;
        jobs[i] = {&d,
                   area,
                   count,
                   area + per * i,
                   slice,
                   static_cast<unsigned>(reads),
                   0x9e3779b9u * (i + 1),
                   &phase1,
                   &go,
                   0,
                   0,
                   0,
                   0};
    }
    const unsigned started = create_pinned("blk-stress", stress_thread, jobs,
                                           static_cast<unsigned>(threads), 8192, workers);
    if (started < threads) {
        printk("blk: cannot create thread %u\n", started);
        for (unsigned k = 0; k < started; ++k) go.give();
        threads = started;
    }
    for (unsigned i = 0; i < threads; ++i) phase1.take();
    for (unsigned i = 0; i < threads; ++i) go.give();
    unsigned errors = 0, writes = 0, done = 0;
    CpuMask cpus = 0;
    for (unsigned i = 0; i < threads; ++i) {
        workers[i]->join();
        cpus |= jobs[i].cpus;
        errors += jobs[i].errors;
        writes += jobs[i].writes_done;
        done += jobs[i].reads_done;
    }
    // Interrupted, the line says so first: the counts are of a partial run.
    printk(
        "blk stress: %s%u threads x %llu reads, %u requests (%u writes, %u reads), %u errors, "
        "cpus 0x%x\n",
        shell::interrupted() ? "interrupted: " : "", static_cast<unsigned>(threads), reads,
        writes + done, writes, done, errors, static_cast<unsigned>(cpus));
    if (shell::interrupted()) return shell::kInterrupted;
    return errors ? 1 : 0;
}

// The device "-d <name>" names, or the first disk; reports why there is none.
BlockDevice* resolve(const char* name) {
    BlockDevice* dev = name ? BlockDevice::find(name) : BlockDevice::first();
    if (!dev) {
        if (name) printk("blk: no block device named %s\n", name);
        else printk("blk: no block devices\n");
    }
    return dev;
}

void list_one(BlockDevice& d) {
    printk("%-6s %10llu sectors  ", d.name(), static_cast<unsigned long long>(d.info().sectors));
    print_size(d.info().sectors);
    printk("  %s\n", d.info().read_only ? "ro" : "rw");
}

int cmd_blk(int argc, char** argv) {
    // Pull "-d <name>" and "-p" out of the arguments, wherever they are.
    const char* dev_name = nullptr;
    bool poll = false;
    char* args[8];
    int n = 0;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "-d")) {
            if (++i == argc || dev_name) return shell::kUsage;
            dev_name = argv[i];
        } else if (!strcmp(argv[i], "-p")) {
            poll = true;
        } else if (n < 8) {
            args[n++] = argv[i];
        } else {
            return shell::kUsage;
        }
    }
    if (n == 0) return shell::kUsage;
    if (!strcmp(args[0], "list") && n == 1) {
        if (dev_name) {  // just that one
            BlockDevice* dev = resolve(dev_name);
            if (!dev) return 1;
            list_one(*dev);
            return 0;
        }
        if (!BlockDevice::first()) printk("no block devices\n");
        for (BlockDevice* d = BlockDevice::first(); d; d = d->next()) list_one(*d);
        return 0;
    }
    if (!strcmp(args[0], "info") && n == 2) {  // "info <dev>" is "-d <dev> info"
        if (dev_name) return shell::kUsage;
        dev_name = args[1];
        n = 1;
    }
    BlockDevice* dev = resolve(dev_name);
    if (!dev) return 1;
    uint64_t lba;
    uint32_t count;
    if (!strcmp(args[0], "info") && n == 1) return do_info(*dev);
    if (!strcmp(args[0], "flush") && n == 1) {
        if (!report(dev->flush(), "flush", *dev)) return 1;
        printk("flushed %s\n", dev->name());
        return 0;
    }
    if (n != 3) return shell::kUsage;
    if (!strcmp(args[0], "stress")) return do_stress(*dev, args + 1);
    if (!parse_range(*dev, args + 1, lba, count)) return 1;
    if (!strcmp(args[0], "read")) return do_read(*dev, lba, count);
    if (!strcmp(args[0], "crc")) return do_crc(*dev, lba, count, poll);
    if (!strcmp(args[0], "stamp")) return do_stamp(*dev, lba, count);
    return shell::kUsage;
}

}  // namespace

SHELL_COMMAND(
    blk,
    "[-d dev] [-p] list|info [dev]|read|crc|stamp <lba> <count>|flush|stress <threads> <reads>",
    "block devices: list, info, hex dump, CRC-32 (-p: polled reads), stamp, flush, concurrent "
    "stress",
    cmd_blk);

}  // namespace rtos
