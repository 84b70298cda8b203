// virtio-pci transport (4.1 Virtio Over PCI Bus): the modern interface of
// the vendor capabilities (4.1.4) and the legacy interface of I/O BAR 0
// (4.1.4.8, CONFIG_VIRTIO_LEGACY). parse_pci_layout() reads and checks the
// capabilities; PciTransport drives the device through register windows the
// probe (pci_probe.cpp) maps onto the BARs, or host tests onto a model.
#pragma once

#include <cstdint>

#include "drivers/pci/pci.hpp"
#include "drivers/virtio/error.hpp"
#include "drivers/virtio/transport/transport.hpp"
#include "drivers/virtio/transport/register_window.hpp"

namespace virtio {

/// Where one virtio structure lives: BAR, offset, length (4.1.4).
struct PciRegion {
    bool present = false;
    std::uint8_t bar = 0;
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    std::uint8_t cap_offset = 0;  ///< the capability it came from (for log lines)
};

/// The modern interface as the capabilities describe it, checked.
struct PciLayout {
    PciRegion common, notify, isr, device;  ///< device: optional (a device without config)
    std::uint32_t notify_off_multiplier = 0;
};

/// Walks f's capability list (pci::for_each_capability: bounded, loop-safe)
/// and fills `layout` from the first usable capability of each virtio type.
/// Checks every one it uses: capability inside the 256-byte area and long
/// enough, BAR index 0..5 naming an assigned BAR, offset + length within the
/// BAR's size, lengths the structure needs, notify_off_multiplier 0 or an even
/// power of two. Returns nullptr when the common, notify and ISR structures
/// were found sane, else why not (for the caller's log line).
const char* parse_pci_layout(pci::Function& f, PciLayout& layout);

/// The virtio device type of a virtio-pci function (4.1.2): device id - 0x1040
/// for 0x1040.., the subsystem id for a transitional 0x1000..0x103f; 0 if none.
std::uint32_t pci_device_type(const pci::Function& f);

class PciTransport final : public Transport {
public:
    /// The modern interface's windows: each starts at its structure.
    struct ModernWindows {
        RegisterWindow* common;
        RegisterWindow* notify;
        RegisterWindow* isr;
        RegisterWindow* device;  ///< nullptr when the device has no config structure
    };

    /// Queues a transport manages (virtio-console: 2 + 2 per port, 31 ports).
    static constexpr std::uint16_t kMaxQueues = 64;
    /// MSI-X vectors per device: configuration + 7 queues each their own;
    /// a device with more queues shares one vector among them.
    static constexpr unsigned kMaxVectors = 8;

    /// Modern: `layout` gives the lengths (notify, device) checked against.
    PciTransport(std::uint32_t device_type, std::uint32_t vendor, const char* location,
                 const ModernWindows& windows, const PciLayout& layout);
    /// Legacy: `io` is BAR 0 (length bytes; at least pci_regs::legacy::config).
    PciTransport(std::uint32_t device_type, std::uint32_t vendor, const char* location,
                 RegisterWindow& io, std::uint64_t length);

    std::uint32_t device_id() const override { return device_id_; }
    std::uint32_t vendor_id() const override { return vendor_id_; }
    bool is_legacy() const override { return legacy_ != nullptr; }

    std::uint8_t status() override;
    void set_status(std::uint8_t status) override;
    void reset() override;

    std::uint64_t device_features() override;
    void set_driver_features(std::uint64_t features) override;

    std::uint32_t queue_max_size(std::uint16_t index) override;
    bool queue_size_fixed() const override { return is_legacy(); }
    Error setup_queue(std::uint16_t index, std::uint16_t size, std::uint64_t desc_phys,
                      std::uint64_t avail_phys, std::uint64_t used_phys) override;
    void notify_queue(std::uint16_t index) override;

    std::uint32_t interrupt_status() override;
    void interrupt_ack(std::uint32_t) override {}  // the ISR read acknowledged them

    /// MSI-X vectors (4.1.4.3, 4.1.5.1.2) the transport may use: `irqs[0..n)`
    /// already written into `function`'s MSI-X table with MSI-X on
    /// (pci::enable_msix()). Vector 0 carries configuration changes, 1.. the
    /// queues: each its own when n > queues, else all share vector 1. A
    /// device that refuses a mapping (reads back NO_VECTOR) falls back to
    /// INTx at attach_interrupts() (pci::disable_msix()). n < 2: not used.
    void use_msix(pci::Function* function, const unsigned* irqs, unsigned n);
    /// Vectors worth asking for: configuration + one per queue the device
    /// has, at most kMaxVectors.
    unsigned wanted_vectors();

    void plan_interrupts(std::uint16_t queues) override;
    bool attach_interrupts(InterruptSink& sink) override;
    void describe_interrupts(char* buf, std::size_t size) const override;
    bool queue_interrupt(std::uint16_t index, unsigned& irq, bool& own) const override;

    std::uint8_t config_read8(std::uint32_t offset) override;
    std::uint16_t config_read16(std::uint32_t offset) override;
    std::uint32_t config_read32(std::uint32_t offset) override;
    void config_write8(std::uint32_t offset, std::uint8_t value) override;
    void config_write16(std::uint32_t offset, std::uint16_t value) override;
    void config_write32(std::uint32_t offset, std::uint32_t value) override;
    std::uint32_t config_generation() override;

    /// Where queue `index` is notified (offset in the notify window), after setup_queue().
    std::uint32_t notify_offset(std::uint16_t index) const { return notify_offset_[index]; }

private:
    /// The config window and whether [offset, offset + width) lies inside it.
    RegisterWindow* config_window(std::uint32_t offset, std::uint32_t width, std::uint32_t& at);
    Error setup_modern_queue(std::uint16_t index, std::uint16_t size, std::uint64_t desc_phys,
                             std::uint64_t avail_phys, std::uint64_t used_phys);
    /// The vector queue `index` uses (NO_VECTOR without MSI-X).
    std::uint16_t queue_vector(std::uint16_t index) const;
    /// Writes a vector register and reads it back (4.1.5.1.2); a refusal
    /// is remembered for attach_interrupts().
    void map_vector(std::uint32_t reg, std::uint16_t vector);
    /// Unmaps every vector and turns MSI-X off: the device falls back to INTx.
    void drop_msix();
    /// Vectors in use: configuration + per-queue ones, or + the shared one.
    unsigned vectors_in_use() const { return per_queue_ ? planned_queues_ + 1u : 2u; }
    static void on_vector(void* route);

    struct Route {
        PciTransport* transport;
        std::uint16_t vector;
    };

    std::uint32_t device_id_;
    std::uint32_t vendor_id_;
    ModernWindows modern_{};
    RegisterWindow* legacy_ = nullptr;
    std::uint64_t notify_length_ = 0;
    std::uint32_t notify_multiplier_ = 0;
    std::uint64_t config_length_ = 0;
    std::uint64_t legacy_length_ = 0;
    std::uint32_t notify_offset_[kMaxQueues] = {};
    // MSI-X (msix_vectors_ == 0: INTx).
    pci::Function* msix_function_ = nullptr;
    unsigned msix_vectors_ = 0;
    unsigned msix_irq_[kMaxVectors] = {};
    Route routes_[kMaxVectors] = {};
    std::uint16_t planned_queues_ = 0;
    bool per_queue_ = false;
    bool msix_refused_ = false;
    InterruptSink* sink_ = nullptr;
};

}  // namespace virtio
