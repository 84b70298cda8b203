// virtio-mmio register map: 4.2.2 MMIO Device Register Layout (Version 2) and
// 4.2.4 Legacy interface (Version 1). Offsets from the window base; control
// registers are 32 bits wide, the device config space starts at Config.
#pragma once

#include <cstddef>
#include <cstdint>

namespace virtio::mmio {

inline constexpr std::uint32_t MAGIC_VALUE = 0x74726976;  // "virt", little-endian
inline constexpr std::uint32_t VERSION_LEGACY = 1;
inline constexpr std::uint32_t VERSION_MODERN = 2;
/// Size of one virtio-mmio window (QEMU maps 0x200 per transport).
inline constexpr std::size_t WINDOW_SIZE = 0x200;
/// 4.2.4: the GuestPageSize we program; QueuePFN counts pages of this size.
inline constexpr std::uint32_t LEGACY_GUEST_PAGE_SIZE = 4096;

namespace reg {
// Both versions. In 4.2.4 the feature registers are called HostFeatures,
// HostFeaturesSel, GuestFeatures and GuestFeaturesSel: same offsets.
inline constexpr std::uint32_t MagicValue = 0x000;
inline constexpr std::uint32_t Version = 0x004;
inline constexpr std::uint32_t DeviceID = 0x008;
inline constexpr std::uint32_t VendorID = 0x00c;
inline constexpr std::uint32_t DeviceFeatures = 0x010;
inline constexpr std::uint32_t DeviceFeaturesSel = 0x014;
inline constexpr std::uint32_t DriverFeatures = 0x020;
inline constexpr std::uint32_t DriverFeaturesSel = 0x024;
inline constexpr std::uint32_t QueueSel = 0x030;
inline constexpr std::uint32_t QueueNumMax = 0x034;
inline constexpr std::uint32_t QueueNum = 0x038;
inline constexpr std::uint32_t QueueNotify = 0x050;
inline constexpr std::uint32_t InterruptStatus = 0x060;
inline constexpr std::uint32_t InterruptACK = 0x064;
inline constexpr std::uint32_t Status = 0x070;
inline constexpr std::uint32_t Config = 0x100;

// Version 1 only (4.2.4).
inline constexpr std::uint32_t GuestPageSize = 0x028;
inline constexpr std::uint32_t QueueAlign = 0x03c;
inline constexpr std::uint32_t QueuePFN = 0x040;

// Version 2 only (4.2.2).
inline constexpr std::uint32_t QueueReady = 0x044;
inline constexpr std::uint32_t QueueDescLow = 0x080;
inline constexpr std::uint32_t QueueDescHigh = 0x084;
inline constexpr std::uint32_t QueueDriverLow = 0x090;
inline constexpr std::uint32_t QueueDriverHigh = 0x094;
inline constexpr std::uint32_t QueueDeviceLow = 0x0a0;
inline constexpr std::uint32_t QueueDeviceHigh = 0x0a4;
inline constexpr std::uint32_t ConfigGeneration = 0x0fc;
}  // namespace reg

}  // namespace virtio::mmio
