// Partition tables: the primary partitions of an MBR (FAT types 0x01,
// 0x04, 0x06, 0x0b, 0x0c, 0x0e) and the "Microsoft basic data" partitions
// of a GPT. Every field is checked against the disk's size.
#pragma once

#include <cstdint>

#include "block_io.hpp"

namespace rtos::fs {

struct Partition {
    unsigned number;  ///< 1..4 in an MBR, the entry index + 1 in a GPT
    uint64_t start, count;
    uint8_t type;  ///< the MBR type (0xee for a GPT partition)
};

/// The FAT partitions of the disk whose sector 0 is `sector0`: their
/// number (up to `max`), or -1 when sector 0 holds no partition table.
int find_partitions(BlockIo& io, const uint8_t* sector0, Partition* out, int max);

}  // namespace rtos::fs
