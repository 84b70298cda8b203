// The transport interface: the only thing the core and the device drivers see
// of how a device is attached (4 Virtio Transport Options). virtio-mmio
// (transport/mmio_transport.hpp) and virtio-pci (transport/pci_transport.hpp)
// implement it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "drivers/virtio/error.hpp"

namespace virtio {

/// "virtio-blk" for a known DeviceID (5 Device Types), else nullptr.
const char* device_type_name(std::uint32_t device_id);

/// Where a transport delivers the device's interrupts (virtio::Device is one).
/// Which of the three it calls depends on how the interrupts arrive.
class InterruptSink {
public:
    /// One interrupt for everything (an MMIO or INTx line): read the
    /// interrupt status, then check the configuration and every queue.
    virtual void on_shared_interrupt() = 0;
    /// A vector of the queue's own (MSI-X): used buffers on queue `index`.
    virtual void on_queue_interrupt(std::uint16_t index) = 0;
    /// The configuration-change vector (MSI-X).
    virtual void on_config_interrupt() = 0;

protected:
    ~InterruptSink() = default;
};

class Transport {
public:
    /// 4.2.2 DeviceID / VendorID (5 Device Types). 0 means no device.
    virtual std::uint32_t device_id() const = 0;
    virtual std::uint32_t vendor_id() const = 0;
    /// True for a legacy (pre-1.0) interface: 32 feature bits, no FEATURES_OK,
    /// the contiguous ring layout of 2.7.2, no configuration generation.
    virtual bool is_legacy() const = 0;

    /// 2.1 Device Status Field.
    virtual std::uint8_t status() = 0;
    virtual void set_status(std::uint8_t status) = 0;
    /// Writes status 0 (device reset, 2.4) and waits, bounded, until it reads 0.
    virtual void reset() = 0;

    /// 2.2 Feature Bits: all 64 (legacy: the low 32) device features.
    virtual std::uint64_t device_features() = 0;
    /// Writes the accepted features (legacy: the low 32 bits only).
    virtual void set_driver_features(std::uint64_t features) = 0;

    /// QueueNumMax of queue `index`; 0 means the queue does not exist.
    virtual std::uint32_t queue_max_size(std::uint16_t index) = 0;
    /// True when the device fixes the size of every queue at queue_max_size()
    /// (the legacy virtio-pci interface cannot set it): the queue then takes
    /// exactly that size, whatever the driver asked for.
    virtual bool queue_size_fixed() const { return false; }
    /// Tells the device where queue `index` lives and enables it. Legacy
    /// transports check that desc/avail/used follow the 2.7.2 layout with
    /// VIRTIO_LEGACY_QUEUE_ALIGN and return bad_layout otherwise; queue_in_use
    /// when the queue is already live. A transport with per-queue notification
    /// addresses (virtio-pci: queue_notify_off * notify_off_multiplier) reads
    /// and checks the queue's here (bad_layout when it lies outside the notify
    /// region), and routes the queue's interrupt (virtio-pci: no MSI-X vector,
    /// so INTx and the ISR register).
    virtual Error setup_queue(std::uint16_t index, std::uint16_t size, std::uint64_t desc_phys,
                              std::uint64_t avail_phys, std::uint64_t used_phys) = 0;
    /// Available buffer notification for queue `index` (at the address
    /// setup_queue() recorded for it).
    virtual void notify_queue(std::uint16_t index) = 0;

    /// Called after every reset, before the first setup_queue(), with the
    /// number of queues the driver will set up: a transport with
    /// message-signalled interrupts (virtio-pci MSI-X) maps the configuration
    /// and the queues onto its vectors here (each queue its own when there
    /// are enough, else one shared by all) and setup_queue() maps each queue.
    /// Transports with one line have nothing to do.
    virtual void plan_interrupts(std::uint16_t /*queues*/) {}
    /// Routes the device's interrupts to `sink` and enables them; once the
    /// queues are set up (an interrupt raised before stays pending until
    /// then). A transport whose vector mapping the device refused falls back
    /// to its line here (logged). False when the device has no usable
    /// interrupt: the driver polls or gives up.
    virtual bool attach_interrupts(InterruptSink& sink);
    /// For boot lines: "irq 33" (a line, shared or not), "msix 3" (vectors in
    /// use: configuration + one per queue, or + one shared), "irq -" (none).
    virtual void describe_interrupts(char* buf, std::size_t size) const;
    /// Queue `index`'s interrupt once attach_interrupts() succeeded: its
    /// number for rtos/irq.hpp, and whether the queue has it to itself (an
    /// MSI-X vector of its own) rather than sharing it with the device's
    /// other queues (a line, one shared vector). False: none.
    virtual bool queue_interrupt(std::uint16_t index, unsigned& irq, bool& own) const;
    /// The line the bus routed the device's interrupt to (its probe sets it).
    void set_interrupt_line(unsigned line) {
        line_ = line;
        has_line_ = true;
    }

    /// VIRTIO_INT_* bits pending; interrupt_ack() clears the given ones. May
    /// clear them itself (virtio-pci's ISR status is read-to-clear; its
    /// interrupt_ack() does nothing), so read it once per interrupt.
    virtual std::uint32_t interrupt_status() = 0;
    virtual void interrupt_ack(std::uint32_t bits) = 0;

    /// 2.5 Device Configuration Space, accessed with the field's own width
    /// (4.2.2: 64-bit fields as two 32-bit halves, see config_read64()).
    virtual std::uint8_t config_read8(std::uint32_t offset) = 0;
    virtual std::uint16_t config_read16(std::uint32_t offset) = 0;
    virtual std::uint32_t config_read32(std::uint32_t offset) = 0;
    virtual void config_write8(std::uint32_t offset, std::uint8_t value) = 0;
    virtual void config_write16(std::uint32_t offset, std::uint16_t value) = 0;
    virtual void config_write32(std::uint32_t offset, std::uint32_t value) = 0;
    /// ConfigGeneration (2.5.1); legacy devices have none and return 0.
    virtual std::uint32_t config_generation() = 0;

    /// Low half then high half; may tear, see Device::read_config_consistent().
    std::uint64_t config_read64(std::uint32_t offset);

    /// "virtio-blk@0x10008000": the prefix of every log line about this device.
    const char* name() const { return name_; }

protected:
    constexpr Transport() = default;
    ~Transport() = default;  // not deleted through this interface
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    /// After writing status 0 (2.4): polls status() until it reads 0, bounded so
    /// a stuck device cannot hang the caller. Every transport's reset() ends here.
    void wait_for_reset();

    static constexpr std::uint32_t lo32(std::uint64_t v) { return static_cast<std::uint32_t>(v); }
    static constexpr std::uint32_t hi32(std::uint64_t v) {
        return static_cast<std::uint32_t>(v >> 32);
    }

    /// Sets name() from the device type (or `fallback` when unknown / 0) and address.
    void set_name(std::uint32_t device_id, const char* fallback, std::uint64_t address);
    /// The same with a location already formatted ("00:02.0").
    void set_name(std::uint32_t device_id, const char* fallback, const char* location);

    /// 2.7.2 / 4.2.4 / 4.1.4.8: the legacy interface takes one page number and
    /// computes avail and used itself, so the ring must be one block laid out
    /// with VIRTIO_LEGACY_QUEUE_ALIGN at a page boundary the page number can
    /// express (32 bits of `page_size` pages). Sets `pfn`; bad_layout (logged)
    /// otherwise. Every legacy transport uses this one check.
    Error legacy_ring_pfn(std::uint16_t size, std::uint64_t desc_phys, std::uint64_t avail_phys,
                          std::uint64_t used_phys, std::uint32_t page_size, std::uint32_t& pfn);

    /// attach_interrupts() for the line: on_shared_interrupt() on each interrupt.
    bool attach_line(InterruptSink& sink);

private:
    char name_[40] = "virtio";
    unsigned line_ = 0;
    bool has_line_ = false;
};

}  // namespace virtio
