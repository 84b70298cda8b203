// The file system on this system's block devices: the BlockIo over the
// block layer's asynchronous API, and mounting a device (or one of its
// partitions) by name. CONFIG_FS_AUTOMOUNT mounts every FAT volume found at
// boot at /<device> or /<device><partition>.
#pragma once

#include <rtos/types.hpp>

#include "drivers/block/block_device.hpp"
#include "fs/block_io.hpp"
#include "fs/fat/fat_volume.hpp"

namespace rtos::fs {

using block::BlockDevice;
using block::BlockRequest;

/// A block device as a BlockIo: a batch of transfers is one submission.
class DeviceIo final : public BlockIo {
public:
    explicit DeviceIo(BlockDevice& dev) : dev_(dev) {}
    uint64_t sectors() const override { return dev_.info().sectors; }
    bool read_only() const override { return dev_.info().read_only; }
    Status run(std::span<const Transfer> transfers) override;
    Status flush() override { return dev_.flush(); }

private:
    BlockDevice& dev_;
};

/// The mount options from Kconfig (cache and read-ahead sizes, open files).
MountOptions mount_options(bool read_only);

/// Mounts `name` ("vda", or "vdb1" for partition 1 of vdb) at `path`
/// (nullptr: "/<name>"), printing the "fs: ..." line (or why not).
Status mount_device(const char* name, const char* path, bool read_only);

}  // namespace rtos::fs
