// The file system on this system's block devices: the BlockIo over the
// block layer's asynchronous API, and mounting a device (or one of its
// partitions) by name. CONFIG_FS_AUTOMOUNT mounts every FAT volume found at
// boot at /<device> or /<device><partition>.
#pragma once

#include <rtos/types.hpp>

namespace rtos::fs {

/// Mounts `name` ("vda", or "vdb1" for partition 1 of vdb) at `path`
/// (nullptr: "/<name>"), printing the "fs: ..." line (or why not).
Status mount_device(const char* name, const char* path, bool read_only);

}  // namespace rtos::fs
