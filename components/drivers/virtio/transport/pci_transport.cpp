// virtio-pci: 4.1.4 capabilities and common configuration (modern), 4.1.4.8
// legacy I/O interface. Everything the device or its configuration space
// says is checked before it is used as an address.
#include "drivers/virtio/transport/pci_transport.hpp"

#include <cstdio>
#include <cstring>

#include <rtos/irq.hpp>
#include <rtos/printk.hpp>

#include "drivers/pci/msix.hpp"
#include "drivers/virtio/config.hpp"
#include "drivers/virtio/hal.hpp"
#include "drivers/virtio/spec.hpp"
#include "drivers/virtio/transport/pci_regs.hpp"

namespace virtio {

using namespace pci_regs;

namespace {
struct Walk {
    pci::Function& f;
    PciLayout& layout;
    const char* problem = nullptr;  // the first unusable capability's, kept for the result
    char text[96] = {};
};

// Records why capability `at` is unusable (the first reason wins).
void complain(Walk& w, std::uint8_t at, const char* what, unsigned a = 0,
              unsigned long long b = 0) {
    if (w.problem) return;
    std::snprintf(w.text, sizeof w.text, "capability at %#x: ", at);
    const std::size_t n = std::strlen(w.text);
    std::snprintf(w.text + n, sizeof w.text - n, what, a, b);
    w.problem = w.text;
}

bool visit_capability(void* context, std::uint8_t id, std::uint8_t at) {
    auto& w = *static_cast<Walk*>(context);
    if (id != pci::cap::vendor) return true;
    pci::ConfigSpace& cs = *w.f.config;
    const std::uint8_t type = cs.read8(static_cast<std::uint16_t>(at + cap::cfg_type));
    PciRegion* region = type == CAP_COMMON_CFG   ? &w.layout.common
                        : type == CAP_NOTIFY_CFG ? &w.layout.notify
                        : type == CAP_ISR_CFG    ? &w.layout.isr
                        : type == CAP_DEVICE_CFG ? &w.layout.device
                                                 : nullptr;
    if (!region || region->present) return true;  // 4.1.4: other types ignored; the first one wins

    const unsigned cap_len = cs.read8(static_cast<std::uint16_t>(at + 2));
    const unsigned min_len = type == CAP_NOTIFY_CFG ? cap::notify_min_len : cap::min_len;
    if (cap_len < min_len) return complain(w, at, "length %u too short", cap_len), true;
    if (at + cap_len > 0x100)
        return complain(w, at, "length %u runs past the capability area", cap_len), true;

    const unsigned bar = cs.read8(static_cast<std::uint16_t>(at + cap::bar));
    const std::uint32_t offset = cs.read32(static_cast<std::uint16_t>(at + cap::offset));
    const std::uint32_t length = cs.read32(static_cast<std::uint16_t>(at + cap::length));
    if (bar >= pci::Function::kBars) return complain(w, at, "BAR index %u is not 0..5", bar), true;
    const pci::Bar& b = w.f.bar[bar];
    if (b.kind == pci::Bar::Kind::none || b.size == 0 || b.cpu_address == 0)
        return complain(w, at, "BAR %u is not assigned", bar), true;
    if (std::uint64_t{offset} + length > b.size)
        return complain(w, at, "offset + length past the end of BAR %u (size %#llx)", bar, b.size),
               true;
    const std::uint32_t needed = type == CAP_COMMON_CFG   ? common::size
                                 : type == CAP_NOTIFY_CFG ? 2u
                                 : type == CAP_ISR_CFG    ? 1u
                                                          : 0u;
    if (length < needed)
        return complain(w, at, "length %u too short for its structure", length), true;

    if (type == CAP_NOTIFY_CFG) {
        const std::uint32_t m =
            cs.read32(static_cast<std::uint16_t>(at + cap::notify_off_multiplier));
        // 4.1.4.4: 0 (one address for all queues) or an even power of two.
        if (m != 0 && (!is_power_of_two(m) || m == 1 || m > length))
            return complain(w, at,
                            "notify_off_multiplier %u is not 0 or an even power of two within the "
                            "region",
                            m),
                   true;
        w.layout.notify_off_multiplier = m;
    }
    *region = {true, static_cast<std::uint8_t>(bar), offset, length, at};
    return true;
}
}  // namespace

const char* parse_pci_layout(pci::Function& f, PciLayout& layout) {
    layout = {};
    if (!f.config) return "no configuration space";
    Walk w{f, layout};
    if (!pci::for_each_capability(*f.config, f.address, visit_capability, &w))
        return "capability list is broken";
    const char* missing = !layout.common.present   ? "no usable common configuration capability"
                          : !layout.notify.present ? "no usable notify capability"
                          : !layout.isr.present    ? "no usable ISR capability"
                                                   : nullptr;
    if (!missing) return nullptr;
    if (w.problem) {  // both: what is missing, and the unusable capability that may be why
        static char text[160];  // the probe runs at boot, one function at a time
        std::snprintf(text, sizeof text, "%s (%s)", missing, w.text);
        return text;
    }
    return missing;
}

std::uint32_t pci_device_type(const pci::Function& f) {
    if (f.vendor_id != VENDOR_ID) return 0;
    if (f.device_id >= DEVICE_ID_MODERN_BASE && f.device_id <= DEVICE_ID_LAST)
        return f.device_id - DEVICE_ID_MODERN_BASE;
    if (f.device_id >= DEVICE_ID_TRANSITIONAL_FIRST && f.device_id <= DEVICE_ID_TRANSITIONAL_LAST)
        return f.subsystem_id;
    return 0;
}

PciTransport::PciTransport(std::uint32_t device_type, std::uint32_t vendor, const char* location,
                           const ModernWindows& windows, const PciLayout& layout)
    : device_id_(device_type),
      vendor_id_(vendor),
      modern_(windows),
      notify_length_(layout.notify.length),
      notify_multiplier_(layout.notify_off_multiplier),
      config_length_(windows.device ? layout.device.length : 0) {
    set_name(device_type, "virtio-pci", location);
}

PciTransport::PciTransport(std::uint32_t device_type, std::uint32_t vendor, const char* location,
                           RegisterWindow& io, std::uint64_t length)
    : device_id_(device_type), vendor_id_(vendor), legacy_(&io), legacy_length_(length) {
    set_name(device_type, "virtio-pci", location);
}

std::uint8_t PciTransport::status() {
    return legacy_ ? legacy_->read8(legacy::device_status)
                   : modern_.common->read8(common::device_status);
}

void PciTransport::set_status(std::uint8_t status) {
    if (legacy_) legacy_->write8(legacy::device_status, status);
    else modern_.common->write8(common::device_status, status);
}

void PciTransport::reset() {
    // 4.1.4.3.2: after writing 0 the driver waits for device_status to read 0.
    set_status(0);
    wait_for_reset();
    for (std::uint32_t& off : notify_offset_) off = 0;
}

std::uint64_t PciTransport::device_features() {
    if (legacy_) return legacy_->read32(legacy::device_features);  // 32 bits only
    RegisterWindow& c = *modern_.common;
    c.write32(common::device_feature_select, 0);
    std::uint64_t features = c.read32(common::device_feature);
    c.write32(common::device_feature_select, 1);
    return features | std::uint64_t{c.read32(common::device_feature)} << 32;
}

void PciTransport::set_driver_features(std::uint64_t features) {
    if (legacy_) return legacy_->write32(legacy::driver_features, lo32(features));
    RegisterWindow& c = *modern_.common;
    c.write32(common::driver_feature_select, 0);
    c.write32(common::driver_feature, lo32(features));
    c.write32(common::driver_feature_select, 1);
    c.write32(common::driver_feature, hi32(features));
}

std::uint32_t PciTransport::queue_max_size(std::uint16_t index) {
    if (index >= kMaxQueues) return 0;
    if (legacy_) {
        legacy_->write16(legacy::queue_select, index);
        return legacy_->read16(legacy::queue_size);
    }
    RegisterWindow& c = *modern_.common;
    if (index >= c.read16(common::num_queues)) return 0;
    c.write16(common::queue_select, index);
    return c.read16(common::queue_size);  // the maximum until the driver writes it
}

Error PciTransport::setup_queue(std::uint16_t index, std::uint16_t size, std::uint64_t desc_phys,
                                std::uint64_t avail_phys, std::uint64_t used_phys) {
    if (index >= kMaxQueues) return Error::queue_unavailable;
    if (!legacy_) return setup_modern_queue(index, size, desc_phys, avail_phys, used_phys);
#if defined(CONFIG_VIRTIO_LEGACY)
    legacy_->write16(legacy::queue_select, index);
    if (legacy_->read32(legacy::queue_address) != 0) return Error::queue_in_use;
    if (legacy_->read16(legacy::queue_size) != size)
        return Error::bad_layout;  // size is the device's
    std::uint32_t pfn = 0;
    const Error e = legacy_ring_pfn(size, desc_phys, avail_phys, used_phys, legacy::PAGE_SIZE, pfn);
    if (e != Error::ok) return e;
    if (msix_vectors_) map_vector(legacy::queue_msix_vector, queue_vector(index));
    legacy_->write32(legacy::queue_address, pfn);
    notify_offset_[index] = legacy::queue_notify;
    return Error::ok;
#else
    return Error::unsupported;  // not reached: the probe refuses legacy devices
#endif
}

// 4.1.5.1.3 Virtqueue Configuration.
Error PciTransport::setup_modern_queue(std::uint16_t index, std::uint16_t size,
                                       std::uint64_t desc_phys, std::uint64_t avail_phys,
                                       std::uint64_t used_phys) {
    RegisterWindow& c = *modern_.common;
    c.write16(common::queue_select, index);
    if (c.read16(common::queue_enable) != 0) return Error::queue_in_use;
    const std::uint64_t notify =
        std::uint64_t{c.read16(common::queue_notify_off)} * notify_multiplier_;
    if (notify + 2 > notify_length_) {
        rtos::printk("%s: queue %u: notify offset %#llx outside the %llu-byte notify region\n",
                     name(), index, static_cast<unsigned long long>(notify),
                     static_cast<unsigned long long>(notify_length_));
        return Error::bad_layout;
    }
    c.write16(common::queue_size, size);
    map_vector(common::queue_msix_vector, queue_vector(index));
    c.write32(common::queue_desc, lo32(desc_phys));
    c.write32(common::queue_desc + 4, hi32(desc_phys));
    c.write32(common::queue_driver, lo32(avail_phys));
    c.write32(common::queue_driver + 4, hi32(avail_phys));
    c.write32(common::queue_device, lo32(used_phys));
    c.write32(common::queue_device + 4, hi32(used_phys));
    notify_offset_[index] = static_cast<std::uint32_t>(notify);
    c.write16(common::queue_enable, 1);
    return Error::ok;
}

void PciTransport::notify_queue(std::uint16_t index) {
    if (index >= kMaxQueues) return;
    (legacy_ ? legacy_ : modern_.notify)->write16(notify_offset_[index], index);
}

std::uint32_t PciTransport::interrupt_status() {
    // 4.1.4.5: reading ISR status clears it (and deasserts INTx).
    return legacy_ ? legacy_->read8(legacy::isr) : modern_.isr->read8(0);
}

RegisterWindow* PciTransport::config_window(std::uint32_t offset, std::uint32_t width,
                                            std::uint32_t& at) {
    if (legacy_) {
        // 4.1.4.8: the configuration follows the MSI-X vector registers when MSI-X is on.
        const std::uint32_t base = msix_vectors_ ? legacy::config_with_msix : legacy::config;
        if (base + std::uint64_t{offset} + width > legacy_length_) return nullptr;
        at = base + offset;
        return legacy_;
    }
    if (std::uint64_t{offset} + width > config_length_) return nullptr;  // also: no config at all
    at = offset;
    return modern_.device;
}

// Outside the device's configuration structure: reads give 0, writes are dropped.
std::uint8_t PciTransport::config_read8(std::uint32_t offset) {
    std::uint32_t at;
    RegisterWindow* w = config_window(offset, 1, at);
    return w ? w->read8(at) : 0;
}
std::uint16_t PciTransport::config_read16(std::uint32_t offset) {
    std::uint32_t at;
    RegisterWindow* w = config_window(offset, 2, at);
    return w ? w->read16(at) : 0;
}
std::uint32_t PciTransport::config_read32(std::uint32_t offset) {
    std::uint32_t at;
    RegisterWindow* w = config_window(offset, 4, at);
    return w ? w->read32(at) : 0;
}
void PciTransport::config_write8(std::uint32_t offset, std::uint8_t value) {
    std::uint32_t at;
    if (RegisterWindow* w = config_window(offset, 1, at)) w->write8(at, value);
}
void PciTransport::config_write16(std::uint32_t offset, std::uint16_t value) {
    std::uint32_t at;
    if (RegisterWindow* w = config_window(offset, 2, at)) w->write16(at, value);
}
void PciTransport::config_write32(std::uint32_t offset, std::uint32_t value) {
    std::uint32_t at;
    if (RegisterWindow* w = config_window(offset, 4, at)) w->write32(at, value);
}

std::uint32_t PciTransport::config_generation() {
    return legacy_ ? 0 : modern_.common->read8(common::config_generation);
}

}  // namespace virtio

namespace virtio {

// ---- MSI-X (4.1.4.3 config/queue_msix_vector, 4.1.5.1.2) ----

void PciTransport::use_msix(pci::Function* function, const unsigned* irqs, unsigned n) {
    if (n < 2) return;
    if (n > kMaxVectors) n = kMaxVectors;
    msix_function_ = function;
    msix_vectors_ = n;
    for (unsigned v = 0; v < n; ++v) msix_irq_[v] = irqs[v];
}

unsigned PciTransport::wanted_vectors() {
    unsigned queues = 0;
    while (queues < kMaxQueues && queue_max_size(static_cast<std::uint16_t>(queues)) != 0) ++queues;
    return queues + 1 < kMaxVectors ? queues + 1 : kMaxVectors;
}

std::uint16_t PciTransport::queue_vector(std::uint16_t index) const {
    if (!msix_vectors_) return NO_VECTOR;
    return per_queue_ ? static_cast<std::uint16_t>(index + 1) : 1;
}

void PciTransport::map_vector(std::uint32_t reg, std::uint16_t vector) {
    RegisterWindow& w = legacy_ ? *legacy_ : *modern_.common;
    w.write16(reg, vector);
    if (vector != NO_VECTOR && w.read16(reg) != vector) msix_refused_ = true;
}

void PciTransport::plan_interrupts(std::uint16_t queues) {
    if (!msix_vectors_) return;
    planned_queues_ = queues;
    per_queue_ = msix_vectors_ > queues;
    msix_refused_ = false;
    map_vector(legacy_ ? legacy::config_msix_vector : common::config_msix_vector, 0);
}

void PciTransport::drop_msix() {
    RegisterWindow& w = legacy_ ? *legacy_ : *modern_.common;
    const std::uint32_t select = legacy_ ? legacy::queue_select : common::queue_select;
    const std::uint32_t queue_reg = legacy_ ? legacy::queue_msix_vector : common::queue_msix_vector;
    w.write16(legacy_ ? legacy::config_msix_vector : common::config_msix_vector, NO_VECTOR);
    for (std::uint16_t q = 0; q < planned_queues_; ++q) {
        w.write16(select, q);
        w.write16(queue_reg, NO_VECTOR);
    }
#if defined(CONFIG_PCI_MSIX)
    if (msix_function_) pci::disable_msix(*msix_function_);
#endif
    msix_vectors_ = 0;
}

void PciTransport::on_vector(void* arg) {
    const Route& r = *static_cast<const Route*>(arg);
    PciTransport& t = *r.transport;
    if (r.vector == 0) return t.sink_->on_config_interrupt();
    if (t.per_queue_) return t.sink_->on_queue_interrupt(static_cast<std::uint16_t>(r.vector - 1));
    for (std::uint16_t q = 0; q < t.planned_queues_; ++q) t.sink_->on_queue_interrupt(q);
}

bool PciTransport::attach_interrupts(InterruptSink& sink) {
    sink_ = &sink;
    if (msix_vectors_ && !msix_refused_) {
        const unsigned used = vectors_in_use();
        unsigned v = 0;
        for (; v < used; ++v) {
            routes_[v] = {this, static_cast<std::uint16_t>(v)};
            if (!rtos::irq::attach(msix_irq_[v], &on_vector, &routes_[v])) break;
        }
        if (v == used) return true;
        rtos::printk("%s: MSI-X interrupt %u unavailable, using INTx\n", name(), msix_irq_[v]);
    } else if (msix_vectors_) {
        rtos::printk("%s: device refused an MSI-X vector mapping, using INTx\n", name());
    }
    if (msix_vectors_) drop_msix();
    return attach_line(sink);
}

bool PciTransport::queue_interrupt(std::uint16_t index, unsigned& irq, bool& own) const {
    if (!msix_vectors_) return Transport::queue_interrupt(index, irq, own);
    if (index >= planned_queues_) return false;
    irq = msix_irq_[queue_vector(index)];
    own = per_queue_;
    return true;
}

void PciTransport::describe_interrupts(char* buf, std::size_t size) const {
    if (msix_vectors_) std::snprintf(buf, size, "msix %u", vectors_in_use());
    else Transport::describe_interrupts(buf, size);
}

}  // namespace virtio
