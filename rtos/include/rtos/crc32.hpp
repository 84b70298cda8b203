// CRC-32 (IEEE 802.3, reflected, as zlib.crc32 computes it).
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtos {

/// Continues `crc` (0 to start) over `n` bytes.
uint32_t crc32(uint32_t crc, const void* data, std::size_t n);

}  // namespace rtos
