// The `random` shell command: reads bytes from the entropy source and prints
// their CRC-32 (as Python's zlib.crc32 computes it) and the first ones, so a
// test can compare them with what the host fed the device.
#include <rtos/clock.hpp>
#include <rtos/crc32.hpp>
#include <rtos/printk.hpp>

#include "drivers/entropy/entropy.hpp"
#include "drivers/virtio/rng/virtio_rng.hpp"
#include "shell/shell.hpp"

namespace rtos {
namespace {

constexpr unsigned long long kMaxBytes = 16ull << 20;
constexpr std::size_t kPreview = 16;

int cmd_random(int argc, char** argv) {
    unsigned long long n;
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
    printk("random: %llu bytes at offset %llu crc32=%08x first", n, offset, crc);
    for (std::size_t i = 0; i < kPreview && i < n; ++i) printk(" %02x", preview[i]);
    printk("\n");
    return 0;
}

}  // namespace
}  // namespace rtos

SHELL_COMMAND(random, "<bytes>",
              "read bytes from the entropy source; print their crc32 and the first 16",
              rtos::cmd_random);
