// Constants and ring structures of the VirtIO 1.2 specification, each defined
// once. Section numbers refer to "Virtual I/O Device (VIRTIO) Version 1.2".
// Everything here is little-endian on the wire; both our targets are
// little-endian, so fields are used as they are (a big-endian port would add
// conversions here and in the transports).
#pragma once

#include <cstddef>
#include <cstdint>

namespace virtio {

// ---- 2.1 Device Status Field -------------------------------------------------
inline constexpr std::uint8_t VIRTIO_STATUS_ACKNOWLEDGE = 1;
inline constexpr std::uint8_t VIRTIO_STATUS_DRIVER = 2;
inline constexpr std::uint8_t VIRTIO_STATUS_DRIVER_OK = 4;
inline constexpr std::uint8_t VIRTIO_STATUS_FEATURES_OK = 8;
inline constexpr std::uint8_t VIRTIO_STATUS_DEVICE_NEEDS_RESET = 64;
inline constexpr std::uint8_t VIRTIO_STATUS_FAILED = 128;

// ---- 6 Reserved Feature Bits (bit numbers, not masks) ----------------------------
// 24..41 belong to the transport and queue mechanics; the core owns them.
inline constexpr unsigned VIRTIO_TRANSPORT_FEATURE_FIRST = 24;
inline constexpr unsigned VIRTIO_TRANSPORT_FEATURE_LAST = 41;
inline constexpr unsigned VIRTIO_F_NOTIFY_ON_EMPTY = 24;  // legacy only
inline constexpr unsigned VIRTIO_F_ANY_LAYOUT = 27;       // legacy only
// The 1.2 text names these two VIRTIO_F_INDIRECT_DESC / VIRTIO_F_EVENT_IDX;
// we keep the historical ring names that drivers and QEMU use.
inline constexpr unsigned VIRTIO_RING_F_INDIRECT_DESC = 28;
inline constexpr unsigned VIRTIO_RING_F_EVENT_IDX = 29;
inline constexpr unsigned VIRTIO_F_VERSION_1 = 32;
inline constexpr unsigned VIRTIO_F_RING_PACKED = 34;

/// Mask of one feature bit number.
constexpr std::uint64_t feature_bit(unsigned bit) { return std::uint64_t{1} << bit; }

/// Mask of the bits 24..41 reserved for the transport and queue mechanics.
inline constexpr std::uint64_t VIRTIO_TRANSPORT_FEATURES_MASK =
    ((std::uint64_t{1} << (VIRTIO_TRANSPORT_FEATURE_LAST + 1)) - 1) &
    ~((std::uint64_t{1} << VIRTIO_TRANSPORT_FEATURE_FIRST) - 1);

// ---- 5 Device Types (the DeviceID register) ----------------------------------
inline constexpr std::uint32_t VIRTIO_ID_NET = 1;
inline constexpr std::uint32_t VIRTIO_ID_BLOCK = 2;
inline constexpr std::uint32_t VIRTIO_ID_CONSOLE = 3;
inline constexpr std::uint32_t VIRTIO_ID_ENTROPY = 4;
inline constexpr std::uint32_t VIRTIO_ID_BALLOON = 5;
inline constexpr std::uint32_t VIRTIO_ID_SCSI = 8;
inline constexpr std::uint32_t VIRTIO_ID_9P = 9;
inline constexpr std::uint32_t VIRTIO_ID_GPU = 16;
inline constexpr std::uint32_t VIRTIO_ID_INPUT = 18;
inline constexpr std::uint32_t VIRTIO_ID_VSOCK = 19;

// ---- Interrupt status bits (4.2.2 InterruptStatus; 4.1.4.5 ISR status) --------
inline constexpr std::uint32_t VIRTIO_INT_USED_BUFFER = 1u << 0;
inline constexpr std::uint32_t VIRTIO_INT_CONFIG_CHANGE = 1u << 1;

// ---- 2.7 Split Virtqueues ------------------------------------------------------
/// 2.7: the largest queue size; sizes are powers of two.
inline constexpr std::uint32_t VIRTQ_MAX_SIZE = 32768;

// 2.7.5 The Virtqueue Descriptor Table: descriptor flags.
inline constexpr std::uint16_t VIRTQ_DESC_F_NEXT = 1;
inline constexpr std::uint16_t VIRTQ_DESC_F_WRITE = 2;
inline constexpr std::uint16_t VIRTQ_DESC_F_INDIRECT = 4;
// 2.7.7 Used Buffer Notification Suppression: avail.flags.
inline constexpr std::uint16_t VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
// 2.7.10 Available Buffer Notification Suppression: used.flags.
inline constexpr std::uint16_t VIRTQ_USED_F_NO_NOTIFY = 1;

/// 2.7.5 The Virtqueue Descriptor Table.
struct VirtqDesc {
    std::uint64_t addr;  ///< guest-physical address of the buffer
    std::uint32_t len;
    std::uint16_t flags;
    std::uint16_t next;  ///< valid when flags & VIRTQ_DESC_F_NEXT
};
static_assert(sizeof(VirtqDesc) == 16 && alignof(VirtqDesc) == 8);
static_assert(offsetof(VirtqDesc, len) == 8 && offsetof(VirtqDesc, flags) == 12 &&
              offsetof(VirtqDesc, next) == 14);

/// 2.7.6 The Virtqueue Available Ring: header; then le16 ring[size], le16 used_event.
struct VirtqAvail {
    std::uint16_t flags;
    std::uint16_t idx;
};
static_assert(sizeof(VirtqAvail) == 4 && alignof(VirtqAvail) == 2);

/// 2.7.8 The Virtqueue Used Ring: one entry.
struct VirtqUsedElem {
    std::uint32_t id;   ///< head of the used descriptor chain (le32 for padding)
    std::uint32_t len;  ///< bytes written into the chain's device-writable part
};
static_assert(sizeof(VirtqUsedElem) == 8 && alignof(VirtqUsedElem) == 4);

/// 2.7.8 The Virtqueue Used Ring: header; then VirtqUsedElem ring[size], le16 avail_event.
struct VirtqUsed {
    std::uint16_t flags;
    std::uint16_t idx;
};
static_assert(sizeof(VirtqUsed) == 4 && alignof(VirtqUsed) == 2);

// 2.7: minimum alignment of each part.
inline constexpr std::size_t VIRTQ_DESC_ALIGN = 16;
inline constexpr std::size_t VIRTQ_AVAIL_ALIGN = 2;
inline constexpr std::size_t VIRTQ_USED_ALIGN = 4;

/// 2.7.2 Legacy Interfaces: the Queue Align of the contiguous legacy layout.
/// virtio-pci legacy fixes it at 4096; virtio-mmio legacy lets the driver choose
/// (QueueAlign) and we always choose this value.
inline constexpr std::size_t VIRTIO_LEGACY_QUEUE_ALIGN = 4096;

constexpr std::size_t align_up(std::size_t x, std::size_t align) {
    return (x + align - 1) & ~(align - 1);
}
constexpr bool is_power_of_two(std::uint64_t x) { return x != 0 && (x & (x - 1)) == 0; }

// 2.7 sizes of the three parts, including the optional event words (always
// allocated, so EVENT_IDX can be negotiated without a different layout).
constexpr std::size_t virtq_desc_size(std::size_t qsz) { return sizeof(VirtqDesc) * qsz; }
constexpr std::size_t virtq_avail_size(std::size_t qsz) {
    return sizeof(VirtqAvail) + sizeof(std::uint16_t) * qsz + sizeof(std::uint16_t);
}
constexpr std::size_t virtq_used_size(std::size_t qsz) {
    return sizeof(VirtqUsed) + sizeof(VirtqUsedElem) * qsz + sizeof(std::uint16_t);
}
/// 2.7.7: used_event sits right after avail.ring[qsz].
constexpr std::size_t virtq_used_event_offset(std::size_t qsz) {
    return sizeof(VirtqAvail) + sizeof(std::uint16_t) * qsz;
}
/// 2.7.10: avail_event sits right after used.ring[qsz].
constexpr std::size_t virtq_avail_event_offset(std::size_t qsz) {
    return sizeof(VirtqUsed) + sizeof(VirtqUsedElem) * qsz;
}

/// 2.7.2 Legacy layout: offset of the used ring from the descriptor table
/// (desc, avail, padding to Queue Align, used).
constexpr std::size_t virtq_legacy_used_offset(std::size_t qsz, std::size_t qalign) {
    return align_up(virtq_desc_size(qsz) + virtq_avail_size(qsz), qalign);
}
/// 2.7.2 Legacy layout: total bytes (the spec's virtq_size()).
constexpr std::size_t virtq_legacy_size(std::size_t qsz, std::size_t qalign) {
    return virtq_legacy_used_offset(qsz, qalign) + align_up(virtq_used_size(qsz), qalign);
}
static_assert(virtq_legacy_used_offset(256, 4096) == 8192);  // 4096 + 518 -> 8192
static_assert(virtq_legacy_size(8, 4096) == 8192);

/// 2.7.7 / 2.7.10: true when moving an index from `old_idx` to `new_idx` passes
/// the other side's event index (all arithmetic modulo 2^16).
constexpr bool vring_need_event(std::uint16_t event_idx, std::uint16_t new_idx,
                                std::uint16_t old_idx) {
    return static_cast<std::uint16_t>(new_idx - event_idx - 1) <
           static_cast<std::uint16_t>(new_idx - old_idx);
}
static_assert(vring_need_event(0, 1, 0) && !vring_need_event(0, 2, 1) &&
              vring_need_event(65535, 0, 65535));

// ---- 2.8 Packed Virtqueues ------------------------------------------------------
/// 2.8: a packed queue holds at most 2^15 descriptors.
inline constexpr std::uint32_t PVIRTQ_MAX_SIZE = 32768;

// 2.8.1: available / used marks in pvirtq_desc.flags (with VIRTQ_DESC_F_NEXT,
// _WRITE and _INDIRECT of 2.7.5, same values).
inline constexpr std::uint16_t VIRTQ_DESC_F_AVAIL = 1u << 7;
inline constexpr std::uint16_t VIRTQ_DESC_F_USED = 1u << 15;

// 2.8.10 Driver and Device Event Suppression: desc_event_flags.
inline constexpr std::uint16_t RING_EVENT_FLAGS_ENABLE = 0;
inline constexpr std::uint16_t RING_EVENT_FLAGS_DISABLE = 1;
inline constexpr std::uint16_t RING_EVENT_FLAGS_DESC = 2;  ///< only with EVENT_IDX
/// 2.8.14: desc_event_wrap is the top bit of the desc (offset) field.
inline constexpr unsigned RING_EVENT_WRAP_SHIFT = 15;

/// 2.8.13 The Virtqueue Descriptor Format (also an indirect table's entry).
struct PvirtqDesc {
    std::uint64_t addr;
    std::uint32_t len;
    std::uint16_t id;     ///< Buffer ID, in the last descriptor of a list
    std::uint16_t flags;  ///< written last: it makes the descriptor available / used
};
static_assert(sizeof(PvirtqDesc) == 16 && offsetof(PvirtqDesc, id) == 12 &&
              offsetof(PvirtqDesc, flags) == 14);

/// 2.8.14 Event Suppression Structure Format (Driver Area and Device Area).
struct PvirtqEventSuppress {
    std::uint16_t desc;   ///< desc_event_off (bits 0..14), desc_event_wrap (bit 15)
    std::uint16_t flags;  ///< RING_EVENT_FLAGS_*
};
static_assert(sizeof(PvirtqEventSuppress) == 4);

// 2.8.10.1: alignment of each part (the descriptor ring's is VIRTQ_DESC_ALIGN).
inline constexpr std::size_t PVIRTQ_EVENT_ALIGN = 4;

/// 2.8.14: an event suppression desc field: ring offset and wrap counter.
constexpr std::uint16_t pvirtq_off_wrap(std::uint16_t offset, bool wrap) {
    return static_cast<std::uint16_t>(offset | (wrap ? 1u << RING_EVENT_WRAP_SHIFT : 0u));
}

/// 2.8.10 with EVENT_IDX: whether moving a ring position from `old_pos` to
/// `new_pos` (both in ring units, new_pos in the lap of wrap counter `wrap`,
/// old_pos at most one ring size before it) passes the event position
/// `off_wrap` of the other side (an event in the previous lap counts from
/// one ring size back).
constexpr bool pvirtq_need_event(std::uint16_t off_wrap, std::uint16_t size, bool wrap,
                                 std::uint16_t new_pos, std::uint16_t old_pos) {
    // Our wrap bit cleared: the offset itself in our lap, else offset +
    // 0x8000, which becomes offset - size.
    auto event = static_cast<std::uint16_t>(off_wrap ^ (wrap ? 1u << RING_EVENT_WRAP_SHIFT : 0u));
    if ((event >> RING_EVENT_WRAP_SHIFT) != 0)
        event = static_cast<std::uint16_t>(event - (1u << RING_EVENT_WRAP_SHIFT) - size);
    return vring_need_event(event, new_pos, old_pos);
}
static_assert(pvirtq_need_event(pvirtq_off_wrap(0, true), 8, true, 1, 0));
static_assert(!pvirtq_need_event(pvirtq_off_wrap(3, true), 8, true, 3, 0));
// Across the end of the ring: 6 -> 1 (lap 0 -> 1) passes 7 of lap 1, not 1 of lap 0.
static_assert(pvirtq_need_event(pvirtq_off_wrap(7, true), 8, false, 1,
                                static_cast<std::uint16_t>(6 - 8)));
static_assert(!pvirtq_need_event(pvirtq_off_wrap(1, false), 8, false, 1,
                                 static_cast<std::uint16_t>(6 - 8)));

}  // namespace virtio
