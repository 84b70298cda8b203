// The generic block-device interface: what examples and (future) file
// systems use, independent of virtio. Addresses are 512-byte sectors.
// Requests outside the device, or writes to a read-only device, are refused
// here, before they reach a driver.
#pragma once

#include <cstddef>
#include <cstdint>

#include <rtos/list.hpp>
#include <rtos/types.hpp>

namespace rtos {

class BlockDevice {
public:
    static constexpr uint32_t kSectorSize = 512;

    struct Info {
        uint64_t sectors;       ///< capacity in 512-byte sectors
        uint32_t block_size;    ///< the device's preferred I/O size in bytes
        bool read_only;
        bool flush;             ///< a write cache that flush() drains
    };

    /// Reads `count` sectors at `lba` into `buf` (count * 512 bytes).
    Status read(uint64_t lba, uint32_t count, void* buf);
    Status write(uint64_t lba, uint32_t count, const void* buf);
    /// Makes completed writes durable (ok when the device has no cache).
    Status flush();
    /// Device serial/identifier, NUL-terminated into buf; unsupported if none.
    Status get_id(char* buf, std::size_t size);

    const char* name() const { return name_; }
    const Info& info() const { return info_; }

    /// Registry of every block device, in probe order.
    static void add(BlockDevice* dev);
    static BlockDevice* find(const char* name);
    static BlockDevice* first();
    BlockDevice* next() const;

    ListNode registry_node;

protected:
    constexpr BlockDevice() = default;
    ~BlockDevice() = default;
    BlockDevice(const BlockDevice&) = delete;
    BlockDevice& operator=(const BlockDevice&) = delete;

    virtual Status do_read(uint64_t lba, uint32_t count, void* buf) = 0;
    virtual Status do_write(uint64_t lba, uint32_t count, const void* buf) = 0;
    virtual Status do_flush() = 0;
    virtual Status do_get_id(char* buf, std::size_t size) = 0;

    char name_[16] = "blk?";
    Info info_{};

private:
    Status check(uint64_t lba, uint32_t count, const void* buf) const;
};

}  // namespace rtos
