#include "partition.hpp"

#include <rtos/string.hpp>

namespace rtos::fs {
namespace {

uint32_t le32(const uint8_t* p) {
    return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24;
}
uint64_t le64(const uint8_t* p) { return le32(p) | uint64_t{le32(p + 4)} << 32; }

bool fat_type(uint8_t t) {
    return t == 0x01 || t == 0x04 || t == 0x06 || t == 0x0b || t == 0x0c || t == 0x0e;
}

// EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 as stored (the first three fields little-endian).
constexpr uint8_t kBasicData[16] = {0xa2, 0xa0, 0xd0, 0xeb, 0xe5, 0xb9, 0x33, 0x44,
                                    0x87, 0xc0, 0x68, 0xb6, 0xb7, 0x26, 0x99, 0xc7};

int find_gpt(BlockIo& io, Partition* out, int max) {
    alignas(8) uint8_t s[512];
    if (io.read(1, 1, s) != Status::ok || memcmp(s, "EFI PART", 8)) return 0;
    const uint64_t entries_lba = le64(s + 72);
    const uint32_t entries = le32(s + 80), entry_size = le32(s + 84);
    if (entry_size < 128 || entry_size > 512 || 512 % entry_size || entries > 128 ||
        entries_lba < 2 || entries_lba >= io.sectors())
        return 0;
    const uint32_t per_sector = 512 / entry_size;
    int found = 0;
    for (uint32_t i = 0; i < entries && found < max; ++i) {
        if (i % per_sector == 0) {
            const uint64_t lba = entries_lba + i / per_sector;
            if (lba >= io.sectors() || io.read(lba, 1, s) != Status::ok) break;
        }
        const uint8_t* e = s + (i % per_sector) * entry_size;
        if (memcmp(e, kBasicData, 16)) continue;
        const uint64_t first = le64(e + 32), last = le64(e + 40);
        if (first == 0 || last < first || last >= io.sectors()) continue;
        out[found++] = {i + 1, first, last - first + 1, 0xee};
    }
    return found;
}

}  // namespace

int find_partitions(BlockIo& io, const uint8_t* s, Partition* out, int max) {
    if (s[510] != 0x55 || s[511] != 0xaa) return -1;
    int found = 0;
    bool any = false;
    for (unsigned i = 0; i < 4; ++i) {
        const uint8_t* e = s + 446 + i * 16;
        if (e[0] != 0x00 && e[0] != 0x80) return -1;  // not a partition table
        const uint8_t type = e[4];
        const uint32_t start = le32(e + 8), count = le32(e + 12);
        if (type == 0) continue;
        any = true;
        if (type == 0xee) return find_gpt(io, out, max);
        if (!fat_type(type) || start == 0 || count == 0 || start >= io.sectors() ||
            count > io.sectors() - start)
            continue;
        if (found < max) out[found++] = {i + 1, start, count, type};
    }
    return any ? found : -1;
}

}  // namespace rtos::fs
