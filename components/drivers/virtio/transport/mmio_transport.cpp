// virtio-mmio: 4.2.2 (Version 2) and 4.2.4 Legacy interface (Version 1).
#include "drivers/virtio/transport/mmio_transport.hpp"

#include "drivers/virtio/config.hpp"
#include "drivers/virtio/hal.hpp"
#include "drivers/virtio/transport/mmio_regs.hpp"
#include "drivers/virtio/spec.hpp"

namespace virtio {

using namespace mmio;

Error MmioTransport::probe() {
    version_ = 0;
    device_id_ = 0;
    set_name(0, "virtio-mmio", regs_.base());

    const std::uint32_t magic = regs_.read32(reg::MagicValue);
    if (magic != MAGIC_VALUE) {
        rtos::printk("%s: bad magic 0x%x, not a virtio-mmio device\n", name(), magic);
        return Error::not_virtio;
    }
    const std::uint32_t version = regs_.read32(reg::Version);
    if (version != VERSION_LEGACY && version != VERSION_MODERN) {
        rtos::printk("%s: unknown virtio-mmio version %u\n", name(), version);
        return Error::unsupported;
    }
    const std::uint32_t id = regs_.read32(reg::DeviceID);
    if (id == 0) return Error::no_device;  // placeholder slot
    set_name(id, "virtio-mmio", regs_.base());

    if (version == VERSION_LEGACY && !config::legacy) {
        rtos::printk("%s: legacy device, but CONFIG_VIRTIO_LEGACY is off\n", name());
        return Error::unsupported;
    }
    if (version == VERSION_MODERN && !config::modern) {
        rtos::printk("%s: modern device, but CONFIG_VIRTIO_MODERN is off\n", name());
        return Error::unsupported;
    }
    version_ = version;
    device_id_ = id;
    vendor_id_ = regs_.read32(reg::VendorID);
    return Error::ok;
}

bool MmioTransport::is_legacy() const { return version_ == VERSION_LEGACY; }

std::uint8_t MmioTransport::status() {
    return static_cast<std::uint8_t>(regs_.read32(reg::Status));
}

void MmioTransport::set_status(std::uint8_t status) { regs_.write32(reg::Status, status); }

void MmioTransport::reset() {
    regs_.write32(reg::Status, 0);
    wait_for_reset();
}

std::uint64_t MmioTransport::device_features() {
    // 4.2.2: DeviceFeaturesSel must be written before each DeviceFeatures read.
    regs_.write32(reg::DeviceFeaturesSel, 0);
    std::uint64_t features = regs_.read32(reg::DeviceFeatures);
    if (!is_legacy()) {  // 4.2.4: a legacy device has 32 feature bits
        regs_.write32(reg::DeviceFeaturesSel, 1);
        features |= std::uint64_t{regs_.read32(reg::DeviceFeatures)} << 32;
    }
    return features;
}

void MmioTransport::set_driver_features(std::uint64_t features) {
    regs_.write32(reg::DriverFeaturesSel, 0);
    regs_.write32(reg::DriverFeatures, lo32(features));
    if (!is_legacy()) {
        regs_.write32(reg::DriverFeaturesSel, 1);
        regs_.write32(reg::DriverFeatures, hi32(features));
    }
}

std::uint32_t MmioTransport::queue_max_size(std::uint16_t index) {
    regs_.write32(reg::QueueSel, index);
    return regs_.read32(reg::QueueNumMax);
}

Error MmioTransport::setup_queue(std::uint16_t index, std::uint16_t size, std::uint64_t desc_phys,
                                 std::uint64_t avail_phys, std::uint64_t used_phys) {
    regs_.write32(reg::QueueSel, index);
#if defined(CONFIG_VIRTIO_LEGACY)
    if (is_legacy()) return setup_legacy_queue(size, desc_phys, avail_phys, used_phys);
#endif
#if defined(CONFIG_VIRTIO_MODERN)
    if (!is_legacy()) return setup_modern_queue(size, desc_phys, avail_phys, used_phys);
#endif
    return Error::unsupported;  // not reached: probe() refused the version
}

#if defined(CONFIG_VIRTIO_LEGACY)
// 4.2.4: one page-aligned block; the device derives avail and used itself
// from QueuePFN, QueueNum and QueueAlign (2.7.2), so anything else is refused
// here rather than silently never completing.
Error MmioTransport::setup_legacy_queue(std::uint16_t size, std::uint64_t desc_phys,
                                        std::uint64_t avail_phys, std::uint64_t used_phys) {
    if (regs_.read32(reg::QueuePFN) != 0) return Error::queue_in_use;
    std::uint32_t pfn = 0;
    const Error e =
        legacy_ring_pfn(size, desc_phys, avail_phys, used_phys, LEGACY_GUEST_PAGE_SIZE, pfn);
    if (e != Error::ok) return e;
    regs_.write32(reg::GuestPageSize, LEGACY_GUEST_PAGE_SIZE);
    regs_.write32(reg::QueueNum, size);
    regs_.write32(reg::QueueAlign, VIRTIO_LEGACY_QUEUE_ALIGN);
    regs_.write32(reg::QueuePFN, pfn);
    return Error::ok;
}
#endif

#if defined(CONFIG_VIRTIO_MODERN)
// 4.2.3.2 Virtqueue Configuration.
Error MmioTransport::setup_modern_queue(std::uint16_t size, std::uint64_t desc_phys,
                                        std::uint64_t avail_phys, std::uint64_t used_phys) {
    if (regs_.read32(reg::QueueReady) != 0) return Error::queue_in_use;
    regs_.write32(reg::QueueNum, size);
    regs_.write32(reg::QueueDescLow, lo32(desc_phys));
    regs_.write32(reg::QueueDescHigh, hi32(desc_phys));
    regs_.write32(reg::QueueDriverLow, lo32(avail_phys));
    regs_.write32(reg::QueueDriverHigh, hi32(avail_phys));
    regs_.write32(reg::QueueDeviceLow, lo32(used_phys));
    regs_.write32(reg::QueueDeviceHigh, hi32(used_phys));
    regs_.write32(reg::QueueReady, 1);
    return Error::ok;
}
#endif

void MmioTransport::notify_queue(std::uint16_t index) { regs_.write32(reg::QueueNotify, index); }

std::uint32_t MmioTransport::interrupt_status() { return regs_.read32(reg::InterruptStatus); }

void MmioTransport::interrupt_ack(std::uint32_t bits) { regs_.write32(reg::InterruptACK, bits); }

std::uint8_t MmioTransport::config_read8(std::uint32_t offset) {
    return regs_.read8(reg::Config + offset);
}
std::uint16_t MmioTransport::config_read16(std::uint32_t offset) {
    return regs_.read16(reg::Config + offset);
}
std::uint32_t MmioTransport::config_read32(std::uint32_t offset) {
    return regs_.read32(reg::Config + offset);
}
void MmioTransport::config_write8(std::uint32_t offset, std::uint8_t value) {
    regs_.write8(reg::Config + offset, value);
}
void MmioTransport::config_write16(std::uint32_t offset, std::uint16_t value) {
    regs_.write16(reg::Config + offset, value);
}
void MmioTransport::config_write32(std::uint32_t offset, std::uint32_t value) {
    regs_.write32(reg::Config + offset, value);
}

std::uint32_t MmioTransport::config_generation() {
    return is_legacy() ? 0 : regs_.read32(reg::ConfigGeneration);
}

}  // namespace virtio
