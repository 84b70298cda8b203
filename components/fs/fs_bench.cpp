// The shell command `fsbench`: wall-clock file-system throughput for
// tools/bench.py --fs (run WITHOUT -icount: the counter is host time).
// Prints, for each test,
//
//   fs: <name> running
//   fs: seqwrite-<n>m <label> <x.y> MB/s      (written, fsync'ed, closed)
//   fs: seqread-<n>m <label> <x.y> MB/s       (read again and again for 1 s)
//   fs: seqread-<n>m <label> cpu <n> ns/MiB    (this thread's CPU time per MiB
//                                               read: instructions under
//                                               -icount shift=0)
//   fs: create-small <label> <n> files/s       (1 KiB files created, synced)
//   fs: <name> failed (<why>)
//   fs: done
//
// tools/benchlib/fs_bench.py parses these lines; keep them stable. -r runs
// the read test alone (on the file an earlier run left).
//
// `fsbench split <meta> <data> <path>` mounts a volume whose first sectors
// (as many as disk <meta> has: the boot sector, FATs, directories and the
// small files) are on <meta> and the rest on <data>: with <data> on QEMU's
// null-co driver (which keeps nothing), the 16 MiB file's data costs no host
// I/O while everything the file system reads back is kept. -p writes an
// untimed file of that many KiB after the small files, so that the big file
// is allocated past the metadata disk.
#include <new>

#include <rtos/clock.hpp>
#include <rtos/format.hpp>
#include <rtos/heap.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>
#include <rtos/system.hpp>
#include <rtos/thread.hpp>

#include "fs/port.hpp"
#include "fs/vfs/vfs.hpp"
#include "shell/shell.hpp"

namespace rtos::fs {
namespace {

constexpr std::size_t kChunk = 1024 * 1024;

// Sectors below meta's end on meta, the others on data (same LBAs).
class SplitIo final : public BlockIo {
public:
    SplitIo(BlockDevice& meta, BlockDevice& data) : meta_(meta), data_(data) {}
    uint64_t sectors() const override { return data_.sectors(); }
    bool read_only() const override { return meta_.read_only() || data_.read_only(); }
    Status flush() override {
        const Status s = meta_.flush();
        return s != Status::ok ? s : data_.flush();
    }
    Status run(std::span<const Transfer> transfers) override {
        const uint64_t split = meta_.sectors();
        for (const Transfer& t : transfers) {
            Transfer lo = t, hi = t;
            lo.count =
                t.lba >= split
                    ? 0
                    : static_cast<uint32_t>(t.lba + t.count <= split ? t.count : split - t.lba);
            hi.count = t.count - lo.count;
            hi.lba = t.lba + lo.count;
            hi.buf = static_cast<uint8_t*>(t.buf) + std::size_t{lo.count} * kSectorSize;
            if (lo.count) {
                const Status s = meta_.run(std::span<const Transfer>(&lo, 1));
                if (s != Status::ok) return s;
            }
            if (hi.count) {
                const Status s = data_.run(std::span<const Transfer>(&hi, 1));
                if (s != Status::ok) return s;
            }
        }
        return Status::ok;
    }

private:
    DeviceIo meta_, data_;
};

void release_split(void* ctx) {
    static_cast<SplitIo*>(ctx)->~SplitIo();
    heap::free(ctx);
}

int split_mount(char** a) {
    BlockDevice* meta = BlockDevice::find(a[0]);
    BlockDevice* data = BlockDevice::find(a[1]);
    if (!meta || !data) {
        printk("fsbench: no block device named %s\n", meta ? a[1] : a[0]);
        return 1;
    }
    void* mem = heap::alloc(sizeof(SplitIo));
    if (!mem) return 1;
    auto* io = new (mem) SplitIo(*meta, *data);
    const char* why = nullptr;
    const Status s = vfs().mount(a[2], *io, mount_options(false), release_split, io, why);
    if (s != Status::ok) {
        release_split(io);
        printk("fsbench: %s: not mounted: %s\n", a[2], why ? why : error_text(s));
        return 1;
    }
    printk("fsbench: %s mounted (%s up to sector %llu, then %s)\n", a[2], a[0],
           static_cast<unsigned long long>(meta->info().sectors), a[1]);
    return 0;
}

// MB/s to one decimal from bytes and nanoseconds.
void print_rate(const char* name, const char* label, uint64_t bytes, uint64_t ns) {
    const uint64_t mb10 = ns ? bytes * 10000 / ns : 0;
    printk("fs: %s %s %llu.%llu MB/s\n", name, label, static_cast<unsigned long long>(mb10 / 10),
           static_cast<unsigned long long>(mb10 % 10));
}

bool failed(const char* name, const char* what, Status s) {
    printk("fs: %s failed (%s: %s)\n", name, what, error_text(s));
    return false;
}

bool seq_write(const char* path, const char* name, const char* label, uint8_t* buf, uint64_t size) {
    const uint64_t t0 = clock::now_ns();
    int fd;
    Status s = vfs().open(path, kWrite | kCreate | kTruncate, fd);
    if (s != Status::ok) return failed(name, "open", s);
    for (uint64_t at = 0; at < size && s == Status::ok && !shell::interrupted();) {
        const std::size_t n = size - at < kChunk ? static_cast<std::size_t>(size - at) : kChunk;
        std::size_t done;
        s = vfs().write(fd, buf, n, done);
        if (s == Status::ok && done != n) s = Status::no_space;
        at += n;
    }
    if (s == Status::ok) s = vfs().fsync(fd);
    const Status c = vfs().close(fd);
    if (s != Status::ok || c != Status::ok) return failed(name, "write", s != Status::ok ? s : c);
    if (label && !shell::interrupted()) print_rate(name, label, size, clock::now_ns() - t0);
    return true;
}

// The file is read from start to end again and again for a second (at
// least once): a 16 MiB pass takes milliseconds, too short to time alone on
// a busy host (iobench's figures of the same disk are 2-second averages).
// Beside the rate, the reading thread's CPU time per MiB: what the file
// system and the driver cost without the device's time (the thread sleeps
// while a request is in flight); under -icount shift=0 an instruction count
// that the host's load does not move.
bool seq_read(const char* path, const char* name, const char* label, uint8_t* buf, uint64_t size) {
    const Thread* self = Thread::current();
    const uint64_t cpu0 = self->cpu_time();
    const uint64_t t0 = clock::now_ns();
    uint64_t bytes = 0;
    for (unsigned pass = 0; pass < 1000 && (pass == 0 || clock::now_ns() - t0 < 1000000000ull);
         ++pass) {
        int fd;
        Status s = vfs().open(path, kRead, fd);
        if (s != Status::ok) return failed(name, "open", s);
        uint64_t total = 0;
        while (!shell::interrupted()) {
            std::size_t done;
            s = vfs().read(fd, buf, kChunk, done);
            if (s != Status::ok || done == 0) break;
            total += done;
        }
        vfs().close(fd);
        if (s != Status::ok) return failed(name, "read", s);
        if (shell::interrupted()) return true;  // no figure from a partial run
        if (total != size) return failed(name, "size", Status::corrupt);
        bytes += total;
    }
    const uint64_t ns = clock::now_ns() - t0;
    const uint64_t ticks_per_mib = (self->cpu_time() - cpu0) / (bytes >> 20 ? bytes >> 20 : 1);
    print_rate(name, label, bytes, ns);
    printk("fs: %s %s cpu %llu ns/MiB\n", name, label,
           static_cast<unsigned long long>(ticks_per_mib * 1000000000ull /
                                           system::counter_frequency()));
    return true;
}

bool creates(const char* dir, const char* label, uint8_t* buf, unsigned files) {
    static char path[kPathMax];  // not on the shell's stack (one command at a time)
    snprintf(path, sizeof(path), "%s/fsbench-small", dir);
    Status s = vfs().mkdir(path);
    if (s != Status::ok && s != Status::exists) return failed("create-small", "mkdir", s);
    const uint64_t t0 = clock::now_ns();
    unsigned made = 0;
    for (; made < files && !shell::interrupted(); ++made) {
        snprintf(path, sizeof(path), "%s/fsbench-small/file %u.txt", dir, made);
        int fd;
        s = vfs().open(path, kWrite | kCreate | kTruncate, fd);
        if (s != Status::ok) return failed("create-small", "open", s);
        std::size_t done;
        s = vfs().write(fd, buf, 1024, done);
        const Status c = vfs().close(fd);
        if (s != Status::ok || c != Status::ok)
            return failed("create-small", "write", s != Status::ok ? s : c);
    }
    s = vfs().sync();
    if (s != Status::ok) return failed("create-small", "sync", s);
    if (shell::interrupted()) return true;  // no figure from a partial run
    const uint64_t ns = clock::now_ns() - t0;
    printk("fs: create-small %s %llu files/s\n", label,
           static_cast<unsigned long long>(ns ? uint64_t{made} * 1000000000ull / ns : 0));
    return true;
}

int cmd_fsbench(int argc, char** argv) {
    if (argc == 5 && !strcmp(argv[1], "split")) return split_mount(argv + 2);
    const char* label = "-";
    unsigned long long mib = 16, files = 200, pad_kib = 0;
    bool read_only = false;  // -r: only the read test (the file is there)
    int i = 1;
    for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
        if (!strcmp(argv[i], "-r")) {
            read_only = true;
            --i;  // no value
            continue;
        }
        if (!strcmp(argv[i], "-b")) label = argv[i + 1];
        else if (!strcmp(argv[i], "-s") && shell::parse_u64(argv[i + 1], mib) && mib &&
                 mib < 4096) {
        } else if (!strcmp(argv[i], "-n") && shell::parse_u64(argv[i + 1], files) &&
                   files < 100000) {
        } else if (!strcmp(argv[i], "-p") && shell::parse_u64(argv[i + 1], pad_kib) &&
                   pad_kib < (1u << 22)) {
        } else return shell::kUsage;
    }
    if (i + 1 != argc) return shell::kUsage;
    const char* dir = argv[i];
    // Page-aligned: QEMU reads an O_DIRECT image (cache=none) straight into
    // it; a less aligned buffer goes through a bounce buffer, at half the rate.
    auto* buf = static_cast<uint8_t*>(heap::alloc_aligned(kChunk, 4096, false));
    if (!buf) {
        printk("fsbench: out of memory\n");
        return 1;
    }
    for (std::size_t k = 0; k < kChunk; ++k) buf[k] = static_cast<uint8_t>(k * 7 + 1);
    char name_w[24], name_r[24];
    snprintf(name_w, sizeof(name_w), "seqwrite-%llum", mib);
    snprintf(name_r, sizeof(name_r), "seqread-%llum", mib);
    static char path[kPathMax];
    snprintf(path, sizeof(path), "%s/fsbench.bin", dir);
    const uint64_t size = mib << 20;
    bool ok = true;
    if (read_only) {
        printk("fs: %s running\n", name_r);
        ok = seq_read(path, name_r, label, buf, size);
        heap::free(buf);
        if (shell::interrupted()) return shell::kInterrupted;
        printk("fs: done\n");
        return ok ? 0 : 1;
    }
    // Small files first: on a split volume they stay on the metadata disk.
    printk("fs: create-small running\n");
    ok &= creates(dir, label, buf, static_cast<unsigned>(files));
    if (pad_kib && !shell::interrupted()) {
        // Untimed: a file that moves the next allocations past the end of
        // a split volume's metadata disk (the big file's data on null-co).
        static char pad[kPathMax];
        snprintf(pad, sizeof(pad), "%s/fsbench-pad.bin", dir);
        if (!seq_write(pad, "pad", nullptr, buf, pad_kib * 1024)) ok = false;
    }
    if (!shell::interrupted()) {
        printk("fs: %s running\n", name_w);
        ok &= seq_write(path, name_w, label, buf, size);
    }
    if (!shell::interrupted()) {
        printk("fs: %s running\n", name_r);
        ok &= seq_read(path, name_r, label, buf, size);
    }
    heap::free(buf);
    if (shell::interrupted()) return shell::kInterrupted;
    printk("fs: done\n");
    return ok ? 0 : 1;
}

}  // namespace
}  // namespace rtos::fs

SHELL_COMMAND(
    fsbench,
    "[-b label] [-s MiB] [-n files] [-p KiB] [-r] <dir> | split <meta-dev> <data-dev> <path>",
    "file-system throughput: sequential write/read, small-file creates (tools/bench.py --fs)",
    rtos::fs::cmd_fsbench);
