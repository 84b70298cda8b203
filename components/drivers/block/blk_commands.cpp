// The `blk` shell command over the generic block interface. Its output is a
// contract the system tests rely on (see README.md, "Block devices").
#include <rtos/crc32.hpp>
#include <rtos/format.hpp>
#include <rtos/heap.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>

#include "block_device.hpp"
#include "shell/shell.hpp"

namespace rtos {
namespace {

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

// Runs fn(buffer, lba, n) over the range in chunks; false on failure.
template <typename F>
bool for_chunks(uint64_t lba, uint32_t count, F fn) {
    uint32_t chunk = count < kChunkSectors ? count : kChunkSectors;
    auto* buf = static_cast<uint8_t*>(heap::alloc_aligned(chunk * BlockDevice::kSectorSize, 64, false));
    if (!buf) {
        printk("blk: out of memory\n");
        return false;
    }
    bool ok = true;
    for (uint32_t done = 0; ok && done < count;) {
        uint32_t n = count - done < chunk ? count - done : chunk;
        ok = fn(buf, lba + done, n);
        done += n;
    }
    heap::free(buf);
    return ok;
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
        if (!report(d.read(at, n, buf), "read", d)) return false;
        for (uint32_t off = 0; off < n * BlockDevice::kSectorSize; off += 16) {
            printk("%08llx:", static_cast<unsigned long long>(at * 512 + off));
            for (int k = 0; k < 16; ++k) printk(" %02x", buf[off + k]);
            printk("  |");
            for (int k = 0; k < 16; ++k) {
                char c = static_cast<char>(buf[off + k]);
                printk("%c", c >= 0x20 && c < 0x7f ? c : '.');
            }
            printk("|\n");
        }
        return true;
    }) ? 0 : 1;
}

int do_crc(BlockDevice& d, uint64_t lba, uint32_t count) {
    uint32_t crc = 0;
    bool ok = for_chunks(lba, count, [&](uint8_t* buf, uint64_t at, uint32_t n) {
        if (!report(d.read(at, n, buf), "read", d)) return false;
        crc = crc32(crc, buf, n * BlockDevice::kSectorSize);
        return true;
    });
    if (!ok) return 1;
    printk("crc32=%08x\n", crc);
    return 0;
}

int do_stamp(BlockDevice& d, uint64_t lba, uint32_t count) {
    bool ok = for_chunks(lba, count, [&](uint8_t* buf, uint64_t at, uint32_t n) {
        // Each sector holds its own LBA, little-endian 64-bit, 64 times.
        for (uint32_t s = 0; s < n; ++s) {
            uint64_t v = at + s;
            for (int k = 0; k < 64; ++k)
                for (int b = 0; b < 8; ++b)
                    buf[s * 512 + k * 8 + b] = static_cast<uint8_t>(v >> (8 * b));
        }
        return report(d.write(at, n, buf), "write", d);
    });
    if (!ok) return 1;
    printk("stamped %u sectors at lba %llu on %s\n", count, static_cast<unsigned long long>(lba),
           d.name());
    return 0;
}

int cmd_blk(int argc, char** argv) {
    // Pull "-d <name>" out of the arguments, wherever it is.
    const char* dev_name = nullptr;
    char* args[8];
    int n = 0;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "-d")) {
            if (++i == argc) return shell::kUsage;
            dev_name = argv[i];
        } else if (n < 8) {
            args[n++] = argv[i];
        } else {
            return shell::kUsage;
        }
    }
    if (n == 0) return shell::kUsage;
    if (!strcmp(args[0], "list") && n == 1) {
        if (!BlockDevice::first()) printk("no block devices\n");
        for (BlockDevice* d = BlockDevice::first(); d; d = d->next()) {
            printk("%-6s %10llu sectors  ", d->name(), static_cast<unsigned long long>(d->info().sectors));
            print_size(d->info().sectors);
            printk("  %s\n", d->info().read_only ? "ro" : "rw");
        }
        return 0;
    }
    if (!strcmp(args[0], "info") && n <= 2 && !(n == 2 && dev_name)) {
        if (n == 2) dev_name = args[1];
    }
    BlockDevice* dev = dev_name ? BlockDevice::find(dev_name) : BlockDevice::first();
    if (!dev) {
        printk(dev_name ? "blk: no block device named %s\n" : "blk: no block devices%s\n",
               dev_name ? dev_name : "");
        return 1;
    }
    uint64_t lba;
    uint32_t count;
    if (!strcmp(args[0], "info") && n <= 2) return do_info(*dev);
    if (!strcmp(args[0], "flush") && n == 1) {
        if (!report(dev->flush(), "flush", *dev)) return 1;
        printk("flushed %s\n", dev->name());
        return 0;
    }
    if (n != 3) return shell::kUsage;
    if (!parse_range(*dev, args + 1, lba, count)) return 1;
    if (!strcmp(args[0], "read")) return do_read(*dev, lba, count);
    if (!strcmp(args[0], "crc")) return do_crc(*dev, lba, count);
    if (!strcmp(args[0], "stamp")) return do_stamp(*dev, lba, count);
    return shell::kUsage;
}

}  // namespace

SHELL_COMMAND(blk, "[-d dev] list|info [dev]|read|crc|stamp <lba> <count>|flush",
              "block devices: list, info, hex dump, CRC-32, stamp sectors, flush", cmd_blk);

}  // namespace rtos
