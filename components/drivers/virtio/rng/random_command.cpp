// The `random` shell command: reads bytes from the entropy source and prints
// their CRC-32 (as Python's zlib.crc32 computes it) and the first ones, so a
// test can compare them with what the host fed the device. With -t, threads
// pinned over the CPUs read at once and the bytes are put back in the
// stream's order (tests/system/test_smp_io.py).
#include <rtos/clock.hpp>
#include <rtos/crc32.hpp>
#include <rtos/heap.hpp>
#include <rtos/mutex.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/smp.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

#include "drivers/entropy/entropy.hpp"
#include "drivers/virtio/rng/virtio_rng.hpp"
#include "shell/shell.hpp"

namespace rtos {
namespace {

constexpr unsigned long long kMaxBytes = 16ull << 20;
constexpr std::size_t kPreview = 16;
constexpr unsigned long long kMaxThreadedBytes = 1ull << 20;
constexpr unsigned kMaxThreads = 16;

void print_result(unsigned long long n, unsigned long long offset, const std::uint8_t* preview,
                  std::uint32_t crc) {
    printk("random: %llu bytes at offset %llu crc32=%08x first", n, offset, crc);
    for (std::size_t i = 0; i < kPreview && i < n; ++i) printk(" %02x", preview[i]);
}

// random -t: the bytes still to ask for are handed out in pieces under
// `lock`; each reader puts what it got at its offset in the stream. Each
// claims its first piece before they all start (`ready`, `go`), so every
// CPU reads however the host schedules the vCPUs.
struct Shared {
    std::uint8_t* buf;
    unsigned long long base, n;
    unsigned long long unclaimed;  // under lock
    Mutex lock;
    Semaphore ready{0}, go{0};
};

struct Reader {
    Shared* sh;
    volatile CpuMask cpus;
    volatile unsigned errors;
};

unsigned long long claim(Shared& sh, unsigned long long want, unsigned long long give_back) {
    sh.lock.lock();
    sh.unclaimed += give_back;
    const unsigned long long k = sh.unclaimed < want ? sh.unclaimed : want;
    sh.unclaimed -= k;
    sh.lock.unlock();
    return k;
}

void reader_thread(void* arg) {
    auto* r = static_cast<Reader*>(arg);
    Shared& sh = *r->sh;
    std::uint8_t chunk[512];
    unsigned long long k = claim(sh, sizeof(chunk), 0);
    sh.ready.give();
    sh.go.take();
    long got = 0;
    for (; k > 0 && !shell::interrupted();
         k = claim(sh, sizeof(chunk), k - static_cast<unsigned long long>(got))) {
        std::uint64_t at = 0;
        got = virtio::rng_read_at(chunk, static_cast<std::size_t>(k),
                                  Timeout::ticks(clock::ms_to_ticks(5000)), at);
        r->cpus = r->cpus | cpu_mask(smp::cpu_id());
        // Another reader of the stream (or a device handing out more than
        // asked) would put bytes outside the range: an error, not a write.
        if (got <= 0 || at < sh.base || at - sh.base + static_cast<std::uint64_t>(got) > sh.n) {
            r->errors = r->errors + 1;
            break;
        }
        memcpy(sh.buf + (at - sh.base), chunk, static_cast<std::size_t>(got));
    }
}

int threaded(char** argv) {
    unsigned long long threads, n;
    if (!shell::parse_u64(argv[0], threads) || !shell::parse_u64(argv[1], n) || threads == 0 ||
        threads > kMaxThreads || n == 0 || n > kMaxThreadedBytes) {
        printk("random: -t <threads 1..%u> <bytes 1..%llu>\n", kMaxThreads, kMaxThreadedBytes);
        return shell::kUsage;
    }
    if (!entropy::available()) {
        printk("random: no entropy source\n");
        return 1;
    }
    auto* buf = static_cast<std::uint8_t*>(heap::alloc(static_cast<std::size_t>(n)));
    if (!buf) {
        printk("random: out of memory for %llu bytes\n", n);
        return 1;
    }
    Shared sh{buf, virtio::rng_bytes_delivered(), n, n, {}};
    Reader readers[kMaxThreads];
    Thread* workers[kMaxThreads];
    for (unsigned i = 0; i < threads; ++i) readers[i] = {&sh, 0, 0};
    const unsigned started = create_pinned("random", reader_thread, readers,
                                           static_cast<unsigned>(threads), 4096, workers);
    for (unsigned i = 0; i < started; ++i) sh.ready.take();
    for (unsigned i = 0; i < started; ++i) sh.go.give();
    unsigned errors = started == threads ? 0 : 1;
    CpuMask cpus = 0;
    for (unsigned i = 0; i < started; ++i) {
        workers[i]->join();
        errors += readers[i].errors;
        cpus |= readers[i].cpus;
    }
    if (shell::interrupted()) {
        heap::free(buf);
        printk("random: interrupted\n");
        return shell::kInterrupted;
    }
    if (errors) {
        heap::free(buf);
        printk("random: %u errors from %u threads\n", errors, started);
        return 1;
    }
    print_result(n, sh.base, buf, crc32(0, buf, static_cast<std::size_t>(n)));
    printk("; %u threads, cpus 0x%x\n", started, static_cast<unsigned>(cpus));
    heap::free(buf);
    return 0;
}

int cmd_random(int argc, char** argv) {
    unsigned long long n;
    if (argc == 4 && !strcmp(argv[1], "-t")) return threaded(argv + 2);
    if (argc != 2) return shell::kUsage;
    if (!shell::parse_u64(argv[1], n) || n == 0 || n > kMaxBytes) {
        printk("random: <bytes> is 1 to %llu (16 MiB)\n", kMaxBytes);
        return shell::kUsage;
    }
    if (!entropy::available()) {
        printk("random: no entropy source\n");
        return 1;
    }
    const unsigned long long offset = virtio::rng_bytes_delivered();
    std::uint8_t chunk[512];
    std::uint8_t preview[kPreview];
    std::uint32_t crc = 0;
    unsigned long long done = 0;
    while (done < n) {
        const std::size_t want =
            n - done < sizeof(chunk) ? static_cast<std::size_t>(n - done) : sizeof(chunk);
        // Up to 5 s for the device (a rate-limited one is slow), in slices: Ctrl-C stops it.
        const Tick deadline = clock::ticks() + clock::ms_to_ticks(5000);
        long r = static_cast<long>(Status::timeout);
        while (Tick t = shell::wait_slice(deadline))
            if ((r = entropy::read(chunk, want, Timeout::ticks(t))) !=
                static_cast<long>(Status::timeout))
                break;
        if (shell::interrupted()) {
            printk("random: %llu of %llu bytes read\n", done, n);
            return shell::kInterrupted;
        }
        if (r <= 0) {
            printk("random: read failed after %llu bytes: %s\n", done,
                   status_name(static_cast<Status>(r)));
            return 1;
        }
        for (long i = 0; i < r && done + i < kPreview; ++i) preview[done + i] = chunk[i];
        crc = crc32(crc, chunk, static_cast<std::size_t>(r));
        done += static_cast<unsigned long long>(r);
    }
    print_result(n, offset, preview, crc);
    printk("\n");
    return 0;
}

}  // namespace
}  // namespace rtos

SHELL_COMMAND(random, "<bytes> | -t <threads> <bytes>",
              "read bytes from the entropy source (-t: from threads over the CPUs); print their "
              "crc32 and the first 16",
              rtos::cmd_random);
