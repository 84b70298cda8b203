// Block persistence demo: proves that data written in one QEMU run is read
// back intact in the next.
//
// On-disk layout, from CONFIG_EXAMPLE_BLK_PERSIST_LBA:
//   sector 0, 1   two superblock copies, written alternately, so a write
//                 torn by a power cut leaves the other one valid
//   sector 2..    a ring of journal records, one per boot, each a whole
//                 sector covered by a CRC-32
// Each boot verifies every journal record the superblock says exists, then
// appends its own record (journal first, superblock last, flushing after each),
// like a write-ahead log.
#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/crc32.hpp>
#include <rtos/format.hpp>
#include <rtos/init.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>

#include "drivers/block/block_device.hpp"

namespace {

using rtos::Status;
using rtos::block::BlockDevice;

constexpr uint64_t kBase = CONFIG_EXAMPLE_BLK_PERSIST_LBA;
constexpr uint32_t kJournalSlots = CONFIG_EXAMPLE_BLK_PERSIST_JOURNAL;
constexpr char kSuperMagic[8] = {'T', 'E', 'R', 'N', 'P', 'S', 'T', '1'};
constexpr uint32_t kRecordMagic = 0x4e524a54;  // "TJRN"

struct Superblock {
    char magic[8];
    uint32_t version;
    uint32_t journal_slots;
    uint64_t generation;  // which copy is newer
    uint64_t boot_count;  // boots recorded so far == journal records written
    uint32_t reserved;
    uint32_t crc;  // CRC-32 of the bytes above
};

struct Record {
    uint32_t magic;
    uint32_t crc;  // CRC-32 of the whole sector with this field zero
    uint64_t seq;  // 0 for the first boot's record
    uint64_t boot;
    uint64_t uptime_ticks;
    char text[48];
    uint8_t pattern[512 - 80];  // filled from seq: every byte is checked
};
static_assert(sizeof(Record) == 512);

alignas(64) uint8_t sector[512];

uint32_t record_crc(Record& r) {
    uint32_t saved = r.crc;
    r.crc = 0;
    uint32_t c = rtos::crc32(0, &r, sizeof(r));
    r.crc = saved;
    return c;
}

uint8_t pattern_byte(uint64_t seq, std::size_t i) {
    return static_cast<uint8_t>(seq * 131 + i * 7);
}

bool read_superblock(BlockDevice& dev, unsigned copy, Superblock& out) {
    if (dev.read(kBase + copy, 1, sector) != Status::ok) return false;
    memcpy(&out, sector, sizeof(out));
    return !memcmp(out.magic, kSuperMagic, 8) && out.version == 1 &&
           out.journal_slots == kJournalSlots &&
           out.crc == rtos::crc32(0, &out, offsetof(Superblock, crc));
}

// Checks the record of boot `seq`: returns nullptr when good, else why not.
const char* check_record(BlockDevice& dev, uint64_t seq) {
    auto& r = *reinterpret_cast<Record*>(sector);
    if (dev.read(kBase + 2 + seq % kJournalSlots, 1, sector) != Status::ok) return "read failed";
    if (r.magic != kRecordMagic) return "bad record magic";
    if (r.crc != record_crc(r)) return "record checksum mismatch";
    if (r.seq != seq || r.boot != seq + 1) return "record out of sequence";
    for (std::size_t i = 0; i < sizeof(r.pattern); ++i)
        if (r.pattern[i] != pattern_byte(seq, i)) return "record payload corrupted";
    return nullptr;
}

bool write_and_flush(BlockDevice& dev, uint64_t lba) {
    return dev.write(lba, 1, sector) == Status::ok && dev.flush() == Status::ok;
}

void blk_persist_demo() {
    BlockDevice* dev = BlockDevice::first();
    if (!dev) {
        rtos::printk("blk-persist: no block device\n");
        return;
    }
    if (dev->info().read_only || dev->info().sectors < kBase + 2 + kJournalSlots) {
        rtos::printk("blk-persist: %s is read-only or too small, demo skipped\n", dev->name());
        return;
    }
    Superblock a{}, b{}, sb{};
    bool va = read_superblock(*dev, 0, a), vb = read_superblock(*dev, 1, b);
    bool previous = va || vb;
    if (previous) sb = (va && (!vb || a.generation > b.generation)) ? a : b;

    // Verify everything the previous boots wrote.
    uint64_t verified = 0;
    const char* failure = nullptr;
    if (previous) {
        uint64_t first = sb.boot_count > kJournalSlots ? sb.boot_count - kJournalSlots : 0;
        for (uint64_t seq = first; seq < sb.boot_count && !failure; ++seq) {
            failure = check_record(*dev, seq);
            if (!failure) ++verified;
        }
    } else {
        rtos::printk("blk-persist: no previous state on %s, starting a new journal\n", dev->name());
        sb = {};
        memcpy(sb.magic, kSuperMagic, 8);
        sb.version = 1;
        sb.journal_slots = kJournalSlots;
    }
    if (failure) {
        rtos::printk("blk-persist: boot %llu: %s\nSELFTEST: blk persist FAILED\n",
                     static_cast<unsigned long long>(sb.boot_count + 1), failure);
        return;
    }

    // Record this boot: journal record first, then the superblock copy that
    // is not the current one.
    const uint64_t seq = sb.boot_count;
    auto& r = *reinterpret_cast<Record*>(sector);
    memset(sector, 0, sizeof(sector));
    r.magic = kRecordMagic;
    r.seq = seq;
    r.boot = seq + 1;
    r.uptime_ticks = rtos::clock::ticks();
    snprintf(r.text, sizeof(r.text), "boot %llu of Tern %s",
             static_cast<unsigned long long>(seq + 1), RTOS_VERSION);
    for (std::size_t i = 0; i < sizeof(r.pattern); ++i) r.pattern[i] = pattern_byte(seq, i);
    r.crc = record_crc(r);
    bool ok = write_and_flush(*dev, kBase + 2 + seq % kJournalSlots);
    sb.boot_count = seq + 1;
    sb.generation += 1;
    sb.crc = rtos::crc32(0, &sb, offsetof(Superblock, crc));
    memset(sector, 0, sizeof(sector));
    memcpy(sector, &sb, sizeof(sb));
    ok = ok && write_and_flush(*dev, kBase + sb.generation % 2);
    if (!ok) {
        rtos::printk("blk-persist: writing boot %llu failed\nSELFTEST: blk persist FAILED\n",
                     static_cast<unsigned long long>(seq + 1));
        return;
    }
    rtos::printk("blk-persist: %s: boot %llu, %llu earlier journal records verified\n", dev->name(),
                 static_cast<unsigned long long>(seq + 1),
                 static_cast<unsigned long long>(verified));
    if (previous) rtos::printk("SELFTEST: blk persist ok\n");
}

}  // namespace

RTOS_INIT(blk_persist_demo, app);
