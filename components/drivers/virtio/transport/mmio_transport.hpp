// virtio-mmio transport (4.2 Virtio Over MMIO), Version 2 and the Version 1
// legacy interface (4.2.4); which ones are compiled in is decided by
// CONFIG_VIRTIO_MODERN and CONFIG_VIRTIO_LEGACY.
#pragma once

#include <cstdint>

#include "drivers/virtio/error.hpp"
#include "drivers/virtio/transport/register_window.hpp"
#include "drivers/virtio/transport/transport.hpp"

namespace virtio {

class MmioTransport final : public Transport {
public:
    constexpr explicit MmioTransport(RegisterWindow& regs) : regs_(regs) {}

    /// 4.2.3.1 Device Initialization: checks MagicValue and Version, reads DeviceID.
    /// Returns ok, or
    ///   not_virtio   MagicValue wrong (logged);
    ///   no_device    DeviceID 0, an empty slot (not logged, as 4.2.3.1 asks);
    ///   unsupported  unknown Version, or a version whose Kconfig symbol is off (logged).
    /// The other calls are valid only after probe() returned ok.
    Error probe();

    std::uint32_t device_id() const override { return device_id_; }
    std::uint32_t vendor_id() const override { return vendor_id_; }
    bool is_legacy() const override;

    std::uint8_t status() override;
    void set_status(std::uint8_t status) override;
    void reset() override;

    std::uint64_t device_features() override;
    void set_driver_features(std::uint64_t features) override;

    std::uint32_t queue_max_size(std::uint16_t index) override;
    Error setup_queue(std::uint16_t index, std::uint16_t size, std::uint64_t desc_phys,
                      std::uint64_t avail_phys, std::uint64_t used_phys) override;
    void notify_queue(std::uint16_t index) override;

    std::uint32_t interrupt_status() override;
    void interrupt_ack(std::uint32_t bits) override;

    std::uint8_t config_read8(std::uint32_t offset) override;
    std::uint16_t config_read16(std::uint32_t offset) override;
    std::uint32_t config_read32(std::uint32_t offset) override;
    void config_write8(std::uint32_t offset, std::uint8_t value) override;
    void config_write16(std::uint32_t offset, std::uint16_t value) override;
    void config_write32(std::uint32_t offset, std::uint32_t value) override;
    std::uint32_t config_generation() override;

private:
    Error setup_legacy_queue(std::uint16_t size, std::uint64_t desc_phys, std::uint64_t avail_phys,
                             std::uint64_t used_phys);
    Error setup_modern_queue(std::uint16_t size, std::uint64_t desc_phys, std::uint64_t avail_phys,
                             std::uint64_t used_phys);

    RegisterWindow& regs_;
    std::uint32_t version_ = 0;
    std::uint32_t device_id_ = 0;
    std::uint32_t vendor_id_ = 0;
};

}  // namespace virtio
