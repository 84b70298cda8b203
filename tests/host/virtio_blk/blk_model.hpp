// The device side of virtio-blk (VirtIO 1.2 section 5.2) for the fake
// virtio-mmio device: a RAM disk behind the request format of 5.2.6
//   readable:  le32 type, le32 reserved, le64 sector [, data for T_OUT]
//   writable:  [data for T_IN / T_GET_ID,] u8 status (the last byte)
// plus the config-space layout of 5.2.4. Every request is recorded; requests
// that break the format or the limits the device offered (size_max,
// seg_max) are recorded in errors(), printed, and answered S_IOERR.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fake_mmio_device.hpp"

namespace blk_test {

// 5.2.3 / 5.2.6 values, spelled out again on purpose (the driver's are file-local).
inline constexpr unsigned F_SIZE_MAX = 1, F_SEG_MAX = 2, F_RO = 5, F_BLK_SIZE = 6, F_FLUSH = 9,
                          F_MQ = 12;
inline constexpr std::uint32_t T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8;
inline constexpr std::uint8_t S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;

struct SeenRequest {
    std::uint32_t type;
    std::uint64_t sector;
    std::uint32_t data_bytes;       ///< data segment(s): readable for T_OUT, writable otherwise
    std::uint32_t data_segments;    ///< descriptors holding data
    std::uint32_t largest_segment;  ///< bytes of data in the largest of them
};

class BlkModel {
public:
    explicit BlkModel(std::uint64_t sectors);

    /// Writes capacity / size_max / seg_max / blk_size into the config space.
    static void write_config(fake::FakeMmioDevice& dev, std::uint64_t capacity,
                             std::uint32_t size_max, std::uint32_t seg_max, std::uint32_t blk_size);

    /// The fake's behaviour: serves one chain, returns the used length.
    std::uint32_t serve(fake::Chain& chain);

    std::vector<std::uint8_t> disk;  ///< sectors() * 512 bytes
    std::uint64_t sectors() const { return disk.size() / 512; }
    std::string id = "tern-test-disk";  ///< up to 20 bytes; NUL-padded
    bool read_only = false;             ///< T_OUT answered S_IOERR
    /// The limits of a device that offers VIRTIO_BLK_F_SIZE_MAX / SEG_MAX
    /// (5.2.4), 0 for none: a request with a data segment longer than
    /// size_max bytes or with more than seg_max data segments is an error.
    std::uint32_t size_max = 0, seg_max = 0;

    /// The next `forced_count` requests are answered with `forced_status`
    /// (no data moved).
    std::uint8_t forced_status = S_OK;
    unsigned forced_count = 0;

    /// Reads and writes starting at this sector are answered S_IOERR.
    std::uint64_t ioerr_sector = ~std::uint64_t{0};

    unsigned flushes = 0;
    std::vector<SeenRequest> seen;
    std::vector<std::string> errors;
};

}  // namespace blk_test
