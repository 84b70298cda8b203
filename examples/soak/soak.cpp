// The guest side of the soak (tools/soak.py, docs/reliability.md): threads
// that keep the block layer and the heap busy and check everything they
// read back, while the host drives the network and console ports.
//   soak start    start the load threads
//   soak status   operations and errors so far
//   soak stop     stop them, wait for them, print the totals
// Block threads own disjoint slices of the first block device's last half:
// each write carries its LBA, the pass and a seed, and is read back and
// compared. File threads (with a FAT volume mounted at
// CONFIG_EXAMPLE_SOAK_FS_PATH) each write files of random sizes in their own
// directory, read them back, compare and delete them. The heap thread
// allocates blocks of random sizes, fills them with a pattern, checks and
// frees them. Every thread's stack comes from the heap and goes back at
// 'soak stop', so the heap returns to its baseline.
#include <algorithm>
#include <cstring>

#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/critical.hpp>
#include <rtos/heap.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

#include "drivers/block/block_device.hpp"
#include "shell/shell.hpp"
#if defined(CONFIG_EXAMPLE_SOAK_FILES)
#include "fs/vfs/vfs.hpp"
#endif

namespace {

constexpr unsigned kBlkThreads = CONFIG_EXAMPLE_SOAK_BLK_THREADS;
#if defined(CONFIG_EXAMPLE_SOAK_FILES)
constexpr unsigned kFileThreads = CONFIG_EXAMPLE_SOAK_FILE_THREADS;
#else
constexpr unsigned kFileThreads = 0;
#endif
constexpr unsigned kThreads = kBlkThreads + kFileThreads + 1;  // + the heap thread
constexpr std::size_t kStack = 8192;
constexpr std::size_t kFileStack = 16384;  // the VFS calls need up to 8 KiB
constexpr std::uint32_t kMaxSectors = 32;

struct Worker {
    rtos::Thread* thread = nullptr;
    unsigned index = 0;
    std::uint64_t first_lba = 0, sectors = 0;  // block threads
    volatile std::uint64_t ops = 0, errors = 0;
};

// Lock: the shell thread alone starts and stops the workers; each worker
// writes only its own counters (read racily by 'soak status').
Worker workers[kThreads];
volatile bool running = false;
bool started = false;
rtos::block::BlockDevice* disk = nullptr;

std::uint32_t next_random(std::uint32_t& s) {  // xorshift32
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return s;
}

void fill(std::uint8_t* buf, std::uint64_t lba, std::uint32_t n, std::uint32_t seed) {
    for (std::uint32_t i = 0; i < n * rtos::block::BlockDevice::kSectorSize; i += 8) {
        const std::uint64_t v = (lba + i / 512) * 0x9e3779b97f4a7c15ull ^ seed ^ (i << 20);
        std::memcpy(buf + i, &v, 8);
    }
}

void error(Worker& w, const char* what, std::uint64_t lba) {
    ++w.errors;
    rtos::printk("soak: thread %u: %s at lba %llu\n", w.index, what,
                 static_cast<unsigned long long>(lba));
}

void blk_main(void* arg) {
    Worker& w = *static_cast<Worker*>(arg);
    auto* out = static_cast<std::uint8_t*>(rtos::heap::alloc(kMaxSectors * 512));
    auto* in = static_cast<std::uint8_t*>(rtos::heap::alloc(kMaxSectors * 512));
    std::uint32_t rnd = 0x12345u + w.index * 7919u;
    while (running && out && in) {
        const std::uint32_t n = 1 + next_random(rnd) % kMaxSectors;
        const std::uint64_t lba = w.first_lba + next_random(rnd) % (w.sectors - n + 1);
        const std::uint32_t seed = next_random(rnd);
        fill(out, lba, n, seed);
        if (disk->write(lba, n, out) != rtos::Status::ok) error(w, "write failed", lba);
        else if (disk->read(lba, n, in) != rtos::Status::ok) error(w, "read failed", lba);
        else if (std::memcmp(in, out, n * 512) != 0) error(w, "data mismatch", lba);
        ++w.ops;
    }
    if (!out || !in) error(w, "no memory for buffers", 0);
    rtos::heap::free(out);
    rtos::heap::free(in);
}

#if defined(CONFIG_EXAMPLE_SOAK_FILES)
// Writes a file of random size (in random-size pieces), reads it back in
// other pieces, compares, deletes it; one operation per file.
void file_main(void* arg) {
    using rtos::fs::vfs;
    Worker& w = *static_cast<Worker*>(arg);
    constexpr std::size_t kMaxFile = 64 * 1024, kPiece = 4096;
    char dir[64], path[96];
    snprintf(dir, sizeof(dir), "%s/soak%u", CONFIG_EXAMPLE_SOAK_FS_PATH, w.index);
    const rtos::Status m = vfs().mkdir(dir);
    if (m != rtos::Status::ok && m != rtos::Status::exists) return error(w, "cannot mkdir", 0);
    auto* out = static_cast<std::uint8_t*>(rtos::heap::alloc(kPiece));
    auto* in = static_cast<std::uint8_t*>(rtos::heap::alloc(kPiece));
    std::uint32_t rnd = 0x5eed0u + w.index * 104729u;
    for (unsigned n = 0; running && out && in; ++n) {
        snprintf(path, sizeof(path), "%s/f%u.bin", dir, n % 8);
        const std::size_t size = next_random(rnd) % kMaxFile;
        const std::uint32_t seed = next_random(rnd);
        auto byte = [seed](std::size_t k) {
            return static_cast<std::uint8_t>((k * 2654435761u) >> 13 ^ seed);
        };
        int fd;
        bool ok = vfs().open(path, rtos::fs::kWrite | rtos::fs::kCreate | rtos::fs::kTruncate,
                             fd) == rtos::Status::ok;
        if (!ok) {
            error(w, "cannot create a file", n);
            continue;
        }
        for (std::size_t off = 0; ok && off < size;) {
            const std::size_t k = std::min<std::size_t>(1 + next_random(rnd) % kPiece, size - off);
            for (std::size_t i = 0; i < k; ++i) out[i] = byte(off + i);
            std::size_t done = 0;
            ok = vfs().write(fd, out, k, done) == rtos::Status::ok && done == k;
            off += k;
        }
        if (ok && n % 4 == 0) ok = vfs().fsync(fd) == rtos::Status::ok;
        if (vfs().close(fd) != rtos::Status::ok || !ok) {
            error(w, "write failed", n);
            continue;
        }
        ok = vfs().open(path, rtos::fs::kRead, fd) == rtos::Status::ok;
        std::size_t got = 0;
        for (std::size_t done = 1; ok && done > 0; got += done) {
            ok = vfs().read(fd, in, 1 + next_random(rnd) % kPiece, done) == rtos::Status::ok;
            for (std::size_t i = 0; ok && i < done; ++i) ok = in[i] == byte(got + i);
        }
        if (ok) vfs().close(fd);
        if (!ok || got != size) error(w, ok ? "file size differs" : "file data differs", n);
        if (vfs().unlink(path) != rtos::Status::ok) error(w, "cannot delete a file", n);
        ++w.ops;
    }
    rtos::heap::free(out);
    rtos::heap::free(in);
}
#endif

void heap_main(void* arg) {
    Worker& w = *static_cast<Worker*>(arg);
    constexpr unsigned kSlots = 16;
    void* slot[kSlots] = {};
    std::size_t size[kSlots] = {};
    std::uint32_t rnd = 0xabcdefu;
    while (running) {
        const unsigned i = next_random(rnd) % kSlots;
        if (slot[i]) {
            const auto* p = static_cast<const std::uint8_t*>(slot[i]);
            for (std::size_t k = 0; k < size[i]; ++k)
                if (p[k] != static_cast<std::uint8_t>(i * 31 + k)) {
                    error(w, "heap block changed", i);
                    break;
                }
            rtos::heap::free(slot[i]);
            slot[i] = nullptr;
        } else {
            size[i] = 1 + next_random(rnd) % 4096;
            slot[i] = rtos::heap::alloc(size[i]);
            if (!slot[i]) {
                error(w, "allocation failed", size[i]);
            } else {
                auto* p = static_cast<std::uint8_t*>(slot[i]);
                for (std::size_t k = 0; k < size[i]; ++k)
                    p[k] = static_cast<std::uint8_t>(i * 31 + k);
            }
        }
        ++w.ops;
        if (w.ops % 64 == 0) rtos::Thread::sleep(1);  // leave the CPU to the I/O threads
    }
    for (void* p : slot) rtos::heap::free(p);
}

void totals(std::uint64_t& ops, std::uint64_t& errors) {
    ops = errors = 0;
    for (const Worker& w : workers) {
        ops += w.ops;
        errors += w.errors;
    }
}

int start() {
    if (started) {
        rtos::printk("soak: already running\n");
        return 1;
    }
    disk = rtos::block::BlockDevice::first();
    const std::uint64_t sectors = disk ? disk->info().sectors : 0;
    if (!disk || disk->info().read_only || sectors < 2 * kBlkThreads * kMaxSectors * 2) {
        rtos::printk("soak: needs a writable block device of at least %u sectors\n",
                     2 * kBlkThreads * kMaxSectors * 2);
        return 1;
    }
    const std::uint64_t half = sectors / 2, slice = (sectors - half) / kBlkThreads;
    running = true;
    started = true;
    for (unsigned i = 0; i < kThreads; ++i) {
        Worker& w = workers[i];
        w = {};
        w.index = i;
        w.first_lba = half + i * slice;
        w.sectors = slice;
        const char* name = "soak-heap";
        rtos::Thread::Entry entry = heap_main;
        std::size_t stack = kStack;
        if (i < kBlkThreads) {
            name = "soak-blk";
            entry = blk_main;
        }
#if defined(CONFIG_EXAMPLE_SOAK_FILES)
        else if (i < kBlkThreads + kFileThreads) {
            name = "soak-file";
            entry = file_main;
            stack = kFileStack;
        }
#endif
        w.thread = rtos::Thread::create({.name = name, .priority = 18}, entry, &w, stack);
        if (!w.thread) error(w, "cannot start a thread", 0);
    }
    rtos::printk(
        "soak: started %u sector threads on %s (lba %llu-%llu), %u file threads, the heap\n",
        kBlkThreads, disk->name(), static_cast<unsigned long long>(half),
        static_cast<unsigned long long>(sectors - 1), kFileThreads);
    return 0;
}

int stop() {
    if (!started) {
        rtos::printk("soak: not running\n");
        return 1;
    }
    running = false;
    for (Worker& w : workers)
        if (w.thread) w.thread->join();
    started = false;
    std::uint64_t ops, errors, sectors = 0, files = 0;
    totals(ops, errors);
    for (unsigned i = 0; i < kBlkThreads + kFileThreads; ++i)
        (i < kBlkThreads ? sectors : files) += workers[i].ops;
    auto ull = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
    rtos::printk("soak: guest %llu operations, %llu errors (sectors %llu, files %llu, heap %llu)\n",
                 ull(ops), ull(errors), ull(sectors), ull(files), ull(ops - sectors - files));
    return errors ? 1 : 0;
}

int cmd_soak(int argc, char** argv) {
    if (argc != 2) return rtos::shell::kUsage;
    if (!strcmp(argv[1], "start")) return start();
    if (!strcmp(argv[1], "stop")) return stop();
    if (strcmp(argv[1], "status") != 0) return rtos::shell::kUsage;
    std::uint64_t ops, errors;
    totals(ops, errors);
    rtos::printk("soak: %s, %llu operations, %llu errors\n", started ? "running" : "stopped",
                 static_cast<unsigned long long>(ops), static_cast<unsigned long long>(errors));
    return 0;
}

}  // namespace

SHELL_COMMAND(soak, "start|status|stop",
              "soak load: threads writing and verifying sectors and heap blocks", cmd_soak);
