// virtio-net's per-packet header (5.1.6 Device Operation) and the checks
// on what the device hands back with a received buffer. Free of the driver's
// state so host tests can drive them directly.
#pragma once

#include <cstddef>
#include <cstdint>

namespace virtio::net {

// 5.1.3 Feature bits (bit numbers).
inline constexpr unsigned VIRTIO_NET_F_GUEST_CSUM = 1;
inline constexpr unsigned VIRTIO_NET_F_MAC = 5;
inline constexpr unsigned VIRTIO_NET_F_MRG_RXBUF = 15;
inline constexpr unsigned VIRTIO_NET_F_STATUS = 16;

inline constexpr std::uint8_t VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
inline constexpr std::uint8_t VIRTIO_NET_HDR_F_DATA_VALID = 2;
inline constexpr std::uint8_t VIRTIO_NET_HDR_GSO_NONE = 0;

/// 5.1.6 struct virtio_net_hdr. num_buffers exists only in the 12-byte
/// layout (modern, or legacy with MRG_RXBUF); the 10-byte legacy layout
/// stops before it.
struct NetHdr {
    std::uint8_t flags = 0;
    std::uint8_t gso_type = 0;
    std::uint16_t hdr_len = 0;
    std::uint16_t gso_size = 0;
    std::uint16_t csum_start = 0;
    std::uint16_t csum_offset = 0;
    std::uint16_t num_buffers = 0;
};
static_assert(sizeof(NetHdr) == 12);

inline constexpr std::uint32_t kHdrLenLegacy = 10;
inline constexpr std::uint32_t kHdrLenModern = 12;
/// Frame room of a receive buffer: 1514 + a VLAN tag, rounded up.
inline constexpr std::uint32_t kRxFrameRoom = 1536;
/// Smallest frame handed on: an Ethernet header.
inline constexpr std::uint32_t kMinFrameLen = 14;

struct Layout {
    std::uint32_t hdr_len;  ///< 10 or 12
    bool mergeable;         ///< MRG_RXBUF negotiated: num_buffers is meaningful
};

/// 5.1.6.1 (and its legacy note): the header is 12 bytes for modern devices
/// and for legacy ones with MRG_RXBUF, else 10.
constexpr Layout layout(bool legacy, bool mrg_rxbuf) {
    return {(!legacy || mrg_rxbuf) ? kHdrLenModern : kHdrLenLegacy, mrg_rxbuf};
}

enum class RxVerdict {
    ok,
    short_header,     ///< used length below the header
    runt,             ///< frame shorter than an Ethernet header
    too_long,         ///< frame longer than the buffer (cannot happen past the virtqueue's check)
    multi_buffer,     ///< num_buffers != 1: a frame spread over buffers we never post that small
    gso,              ///< a segmentation-offload packet, never negotiated
    bad_csum_fields,  ///< NEEDS_CSUM with csum_start/csum_offset outside the frame
};

struct RxCheck {
    RxVerdict verdict;
    std::uint32_t frame_len;
    bool needs_csum;  ///< the driver must complete the checksum (GUEST_CSUM)
    bool data_valid;  ///< the device says it checked the checksum (DATA_VALID; GUEST_CSUM only)
};

/// Checks one used receive buffer: `used_len` as the device reported it
/// (header + frame), `room` the frame part's size.
constexpr RxCheck check_rx(const Layout& l, const NetHdr& h, std::uint32_t used_len,
                           std::uint32_t room) {
    if (used_len < l.hdr_len) return {RxVerdict::short_header, 0, false, false};
    const std::uint32_t len = used_len - l.hdr_len;
    if (len > room) return {RxVerdict::too_long, 0, false, false};
    if (len < kMinFrameLen) return {RxVerdict::runt, 0, false, false};
    if (l.mergeable && h.num_buffers != 1) return {RxVerdict::multi_buffer, 0, false, false};
    if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE) return {RxVerdict::gso, 0, false, false};
    const bool needs = (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
    if (needs && (h.csum_start >= len || std::uint32_t{h.csum_offset} + 2 > len - h.csum_start))
        return {RxVerdict::bad_csum_fields, 0, false, false};
    return {RxVerdict::ok, len, needs, (h.flags & VIRTIO_NET_HDR_F_DATA_VALID) != 0};
}

/// 5.1.6.4.1 VIRTIO_NET_HDR_F_NEEDS_CSUM: the checksum over
/// [csum_start, len) goes at csum_start + csum_offset; the device put the
/// pseudo-header sum there already. Fields checked by check_rx().
inline void complete_checksum(std::uint8_t* frame, std::uint32_t len, const NetHdr& h) {
    std::uint32_t sum = 0;
    const std::uint8_t* p = frame + h.csum_start;
    std::uint32_t n = len - h.csum_start;
    for (; n > 1; p += 2, n -= 2) sum += (std::uint32_t{p[0]} << 8) | p[1];
    if (n) sum += std::uint32_t{p[0]} << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    std::uint16_t c = static_cast<std::uint16_t>(~sum);
    std::uint8_t* field = frame + h.csum_start + h.csum_offset;
    field[0] = static_cast<std::uint8_t>(c >> 8);
    field[1] = static_cast<std::uint8_t>(c);
}

}  // namespace virtio::net
