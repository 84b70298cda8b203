// virtio-pci register map: 4.1.4 Virtio Structure PCI Capabilities (modern)
// and 4.1.4.8 Legacy Interfaces (the I/O BAR 0 of a transitional device).
#pragma once

#include <cstdint>

namespace virtio::pci_regs {

inline constexpr std::uint16_t VENDOR_ID = 0x1af4;
/// 4.1.2: 0x1000..0x103f transitional (type from the subsystem id),
/// 0x1040 + type modern-only.
inline constexpr std::uint16_t DEVICE_ID_TRANSITIONAL_FIRST = 0x1000;
inline constexpr std::uint16_t DEVICE_ID_TRANSITIONAL_LAST = 0x103f;
inline constexpr std::uint16_t DEVICE_ID_MODERN_BASE = 0x1040;
inline constexpr std::uint16_t DEVICE_ID_LAST = 0x107f;

/// 4.1.4 struct virtio_pci_cap (a vendor-specific capability).
namespace cap {
inline constexpr std::uint8_t cfg_type = 3, bar = 4, offset = 8, length = 12;
inline constexpr std::uint8_t notify_off_multiplier = 16;  ///< VIRTIO_PCI_CAP_NOTIFY_CFG only
inline constexpr std::uint8_t min_len = 16, notify_min_len = 20;
}  // namespace cap
inline constexpr std::uint8_t CAP_COMMON_CFG = 1, CAP_NOTIFY_CFG = 2, CAP_ISR_CFG = 3,
                              CAP_DEVICE_CFG = 4;

/// 4.1.4.3 struct virtio_pci_common_cfg.
namespace common {
inline constexpr std::uint32_t device_feature_select = 0x00, device_feature = 0x04;
inline constexpr std::uint32_t driver_feature_select = 0x08, driver_feature = 0x0c;
inline constexpr std::uint32_t config_msix_vector = 0x10, num_queues = 0x12;
inline constexpr std::uint32_t device_status = 0x14, config_generation = 0x15;
inline constexpr std::uint32_t queue_select = 0x16, queue_size = 0x18, queue_msix_vector = 0x1a;
inline constexpr std::uint32_t queue_enable = 0x1c, queue_notify_off = 0x1e;
inline constexpr std::uint32_t queue_desc = 0x20, queue_driver = 0x28, queue_device = 0x30;
/// Bytes of the structure this driver uses (through queue_device).
inline constexpr std::uint32_t size = 0x38;
}  // namespace common
/// 4.1.4.3: "no MSI-X vector": the device signals through INTx and ISR.
inline constexpr std::uint16_t NO_VECTOR = 0xffff;

/// 4.1.4.8 legacy registers in I/O BAR 0. With MSI-X on, the two vector
/// registers follow the header and the device configuration moves behind
/// them (0x18 instead of 0x14).
namespace legacy {
inline constexpr std::uint32_t device_features = 0x00, driver_features = 0x04;
inline constexpr std::uint32_t queue_address = 0x08, queue_size = 0x0c, queue_select = 0x0e;
inline constexpr std::uint32_t queue_notify = 0x10, device_status = 0x12, isr = 0x13;
inline constexpr std::uint32_t config = 0x14;
inline constexpr std::uint32_t config_msix_vector = 0x14, queue_msix_vector = 0x16;
inline constexpr std::uint32_t config_with_msix = 0x18;
/// queue_address counts pages of this size.
inline constexpr std::uint32_t PAGE_SIZE = 4096;
}  // namespace legacy

}  // namespace virtio::pci_regs
