// The device under a volume, as the file-system code sees it: 512-byte
// sectors, batches of transfers that are in flight together, and a flush.
// The target implements it over the block layer's asynchronous API
// (fs/port.cpp); the host tests over memory. PartitionIo is a window of
// another BlockIo (an MBR or GPT partition).
#pragma once

#include <cstdint>
#include <span>

#include <rtos/types.hpp>

namespace rtos::fs {

class BlockIo {
public:
    static constexpr uint32_t kSectorSize = 512;

    struct Transfer {
        bool write;
        uint64_t lba;
        uint32_t count;  ///< sectors
        void* buf;       ///< count * 512 bytes
    };

    virtual uint64_t sectors() const = 0;
    virtual bool read_only() const = 0;
    /// Starts every transfer (in flight at once where the device allows) and
    /// waits for all of them; ok or the first failure's status.
    virtual Status run(std::span<const Transfer> transfers) = 0;
    /// Makes every completed write durable (virtio-blk: FLUSH).
    virtual Status flush() = 0;

    Status read(uint64_t lba, uint32_t count, void* buf) {
        const Transfer t{false, lba, count, buf};
        return run(std::span<const Transfer>(&t, 1));
    }
    Status write(uint64_t lba, uint32_t count, const void* buf) {
        const Transfer t{true, lba, count, const_cast<void*>(buf)};
        return run(std::span<const Transfer>(&t, 1));
    }

protected:
    ~BlockIo() = default;
};

/// Sectors [start, start + count) of `base`; transfers outside are refused.
class PartitionIo final : public BlockIo {
public:
    PartitionIo(BlockIo& base, uint64_t start, uint64_t count)
        : base_(base), start_(start), count_(count) {}
    uint64_t sectors() const override { return count_; }
    bool read_only() const override { return base_.read_only(); }
    Status run(std::span<const Transfer> transfers) override;
    Status flush() override { return base_.flush(); }

private:
    BlockIo& base_;
    uint64_t start_, count_;
};

}  // namespace rtos::fs
