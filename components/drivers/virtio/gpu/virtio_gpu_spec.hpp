// virtio-gpu 2D protocol (VirtIO 1.2 section 5.7): feature bits, config
// space, control-queue commands and responses, each structure as the spec
// lays it out (little-endian; legacy devices on our little-endian targets
// use the same bytes).
#pragma once

#include <cstdint>

namespace virtio::gpu {

// 5.7.3 Feature bits
inline constexpr unsigned F_VIRGL = 0;
inline constexpr unsigned F_EDID = 1;

// 5.7.4 Device configuration layout
inline constexpr std::uint32_t CFG_EVENTS_READ = 0;
inline constexpr std::uint32_t CFG_EVENTS_CLEAR = 4;
inline constexpr std::uint32_t CFG_NUM_SCANOUTS = 8;
inline constexpr std::uint32_t EVENT_DISPLAY = 1u << 0;

inline constexpr std::uint32_t MAX_SCANOUTS = 16;

// 5.7.6.7 Device Operation: Request header
enum CtrlType : std::uint32_t {
    CMD_GET_DISPLAY_INFO = 0x0100,
    CMD_RESOURCE_CREATE_2D,
    CMD_RESOURCE_UNREF,
    CMD_SET_SCANOUT,
    CMD_RESOURCE_FLUSH,
    CMD_TRANSFER_TO_HOST_2D,
    CMD_RESOURCE_ATTACH_BACKING,
    CMD_RESOURCE_DETACH_BACKING,
    CMD_GET_CAPSET_INFO,
    CMD_GET_CAPSET,
    CMD_GET_EDID,

    RESP_OK_NODATA = 0x1100,
    RESP_OK_DISPLAY_INFO,
    RESP_OK_CAPSET_INFO,
    RESP_OK_CAPSET,
    RESP_OK_EDID,

    RESP_ERR_UNSPEC = 0x1200,
    RESP_ERR_OUT_OF_MEMORY,
    RESP_ERR_INVALID_SCANOUT_ID,
    RESP_ERR_INVALID_RESOURCE_ID,
    RESP_ERR_INVALID_CONTEXT_ID,
    RESP_ERR_INVALID_PARAMETER,
};

// 5.7.6.8: formats; B8G8R8X8 is 0x00RRGGBB in a little-endian word, the
// layout of the display framebuffer API and of QEMU's own surfaces.
inline constexpr std::uint32_t FORMAT_B8G8R8X8_UNORM = 2;

struct CtrlHdr {
    std::uint32_t type;
    std::uint32_t flags;
    std::uint64_t fence_id;
    std::uint32_t ctx_id;
    std::uint8_t ring_idx;
    std::uint8_t padding[3];
};
static_assert(sizeof(CtrlHdr) == 24);

struct GpuRect {
    std::uint32_t x, y, width, height;
};

struct RespDisplayInfo {
    CtrlHdr hdr;
    struct {
        GpuRect r;
        std::uint32_t enabled;
        std::uint32_t flags;
    } pmodes[MAX_SCANOUTS];
};
static_assert(sizeof(RespDisplayInfo) == 408);

struct GetEdid {
    CtrlHdr hdr;
    std::uint32_t scanout;
    std::uint32_t padding;
};

struct RespEdid {
    CtrlHdr hdr;
    std::uint32_t size;
    std::uint32_t padding;
    std::uint8_t edid[1024];
};
static_assert(sizeof(RespEdid) == 1056);

struct ResourceCreate2d {
    CtrlHdr hdr;
    std::uint32_t resource_id;
    std::uint32_t format;
    std::uint32_t width;
    std::uint32_t height;
};

struct MemEntry {
    std::uint64_t addr;
    std::uint32_t length;
    std::uint32_t padding;
};

struct ResourceAttachBacking {
    CtrlHdr hdr;
    std::uint32_t resource_id;
    std::uint32_t nr_entries;
    // followed by nr_entries MemEntry
};
static_assert(sizeof(ResourceAttachBacking) == 32);

struct SetScanout {
    CtrlHdr hdr;
    GpuRect r;
    std::uint32_t scanout_id;
    std::uint32_t resource_id;
};

struct TransferToHost2d {
    CtrlHdr hdr;
    GpuRect r;
    std::uint64_t offset;
    std::uint32_t resource_id;
    std::uint32_t padding;
};
static_assert(sizeof(TransferToHost2d) == 56);

struct ResourceFlush {
    CtrlHdr hdr;
    GpuRect r;
    std::uint32_t resource_id;
    std::uint32_t padding;
};
static_assert(sizeof(ResourceFlush) == 48);

}  // namespace virtio::gpu
