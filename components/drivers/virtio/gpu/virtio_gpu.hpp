// What the virtio-gpu driver tells the shell (`gpu info`) and tests; the
// screen itself is reached through drivers/display/framebuffer.hpp.
#pragma once

#include <cstdint>

namespace virtio::gpu {

struct Info {
    const char* name;  ///< "virtio-gpu@0x10008000"
    bool legacy;
    std::uint32_t scanouts;  ///< num_scanouts from config space
    std::uint32_t scanout;   ///< the one shown
    std::uint32_t width, height;
    std::uint32_t format;                   ///< FORMAT_B8G8R8X8_UNORM
    bool edid;                              ///< VIRTIO_GPU_F_EDID negotiated and a valid EDID read
    std::uint32_t edid_width, edid_height;  ///< its preferred mode (0 when none)
    bool broken;                            ///< stopped after a device error or timeout
    std::uint64_t flushes;                  ///< damaged rectangles sent
};

/// The first virtio-gpu's state; false without one.
bool info(Info& out);

}  // namespace virtio::gpu
