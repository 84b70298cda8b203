// virtio-pci discovery: the host bridge hands over every function with vendor
// 0x1af4 and device 0x1000..0x107f (BARs assigned, INTx routed); this picks
// the interface (modern when its capabilities are present and sane, else the
// legacy I/O BAR when compiled in), builds the transport, gives it MSI-X
// vectors where the platform has an MSI controller (CONFIG_PCI_MSIX) and
// passes the device to bind_driver() (driver.cpp), as the MMIO probe does.
#include <cstdio>
#include <new>

#include <rtos/irq.hpp>
#include <rtos/printk.hpp>

#include "drivers/pci/msix.hpp"
#include "drivers/pci/pci.hpp"
#include "drivers/virtio/config.hpp"
#include "drivers/virtio/driver.hpp"
#include "drivers/virtio/transport/pci_regs.hpp"
#include "drivers/virtio/transport/pci_transport.hpp"
#include "drivers/virtio/transport/register_window.hpp"

namespace virtio {
namespace {

constexpr unsigned kMaxDevices = 32;
// One per device, alive for the whole run: the windows the transport reads.
struct Slot {
    MmioWindow common{0}, notify{0}, isr{0}, device{0};
    alignas(PciTransport) unsigned char transport[sizeof(PciTransport)];
    char location[8];  // "00:02.0"
};

Slot slots[kMaxDevices];
unsigned used_slots = 0;

std::uintptr_t at(const pci::Function& f, const PciRegion& r) {
    return f.bar[r.bar].cpu_address + r.offset;
}

// The transport of the interface chosen, built in s; `address` is where its
// first structure lies (for Found). nullptr (logged) when neither is usable.
PciTransport* make_transport(pci::Function& f, Slot& s, std::uint32_t type, const char* bdf,
                             std::uint64_t& address) {
    PciLayout layout;
    const char* why_not_modern = parse_pci_layout(f, layout);
    if (!why_not_modern && !config::modern) why_not_modern = "CONFIG_VIRTIO_MODERN is off";
    if (!why_not_modern) {
        s.common = MmioWindow(at(f, layout.common));
        s.notify = MmioWindow(at(f, layout.notify));
        s.isr = MmioWindow(at(f, layout.isr));
        s.device = MmioWindow(layout.device.present ? at(f, layout.device) : 0);
        const PciTransport::ModernWindows w{&s.common, &s.notify, &s.isr,
                                            layout.device.present ? &s.device : nullptr};
        address = at(f, layout.common);
        return new (s.transport) PciTransport(type, f.subsystem_vendor_id, bdf, w, layout);
    }
    const bool transitional = f.device_id <= pci_regs::DEVICE_ID_TRANSITIONAL_LAST;
    const pci::Bar& io = f.bar[0];
    if (transitional && config::legacy && io.kind != pci::Bar::Kind::none &&
        io.size > pci_regs::legacy::config && io.cpu_address != 0) {
        s.common = MmioWindow(io.cpu_address);
        address = io.cpu_address;
        return new (s.transport) PciTransport(type, f.subsystem_vendor_id, bdf, s.common, io.size);
    }
    const char* legacy_why = !transitional     ? "a modern-only device has no legacy interface"
                             : !config::legacy ? "CONFIG_VIRTIO_LEGACY is off"
                                               : "its legacy I/O BAR 0 is not assigned";
    rtos::printk("virtio-pci %s: device refused: modern interface unusable: %s; legacy: %s\n", bdf,
                 why_not_modern, legacy_why);
    return nullptr;
}

// MSI-X vectors for the transport: configuration + one per queue, as many
// as the function's table and the MSI controller give. Fewer than two: INTx
// (the boot line says "irq N" instead of "msix N"; why is logged when the
// platform has MSI at all).
void use_msix([[maybe_unused]] pci::Function& f, [[maybe_unused]] PciTransport& t,
              [[maybe_unused]] const char* bdf) {
#if defined(CONFIG_PCI_MSIX)
    unsigned irqs[PciTransport::kMaxVectors];
    const char* why = "the device has one queue vector at most";
    const unsigned want = t.wanted_vectors();
    const unsigned n = want >= 2 ? pci::enable_msix(f, want, irqs, why) : 0;
    if (n >= 2) return t.use_msix(&f, irqs, n);
    if (n == 1) {
        pci::disable_msix(f);
        why = "only one MSI-X vector";
    }
    if (rtos::irq::msi_controller()) rtos::printk("virtio-pci %s: INTx, not MSI-X: %s\n", bdf, why);
#endif
}

bool virtio_pci_probe(pci::Function& f) {
    char bdf[8];
    pci::format_address(f.address, bdf, sizeof bdf);
    const std::uint32_t type = pci_device_type(f);
    if (type == 0) {
        rtos::printk("virtio-pci %s: device %04x has no virtio type, ignored\n", bdf, f.device_id);
        return false;
    }
    if (used_slots == kMaxDevices) {
        rtos::printk("virtio-pci %s: more than %u devices, ignored\n", bdf, kMaxDevices);
        return false;
    }

    Slot& s = slots[used_slots];
    std::snprintf(s.location, sizeof s.location, "%s", bdf);
    std::uint64_t address = 0;
    PciTransport* t = make_transport(f, s, type, s.location, address);
    if (!t) return false;
    // Bus mastering for the rings; INTx on (the host bridge may have left it masked).
    pci::enable(f, pci::command::bus_master);
    f.config->write16(pci::reg::command,
                      static_cast<std::uint16_t>(f.config->read16(pci::reg::command) &
                                                 ~pci::command::intx_disable));
    // INTx lines are shared (QEMU wires every slot onto four): the kernel
    // runs every handler on the line, and each device's reads its own ISR.
    if (f.has_irq) t->set_interrupt_line(f.irq);
    else rtos::printk("virtio-pci %s: no INTx routed\n", bdf);
    use_msix(f, *t, bdf);
    switch (bind_driver(*t, "pci", address, s.location)) {
    case Bound::taken:
        ++used_slots;  // the transport now belongs to the driver
        return true;
    case Bound::refused: t->reset(); break;
    case Bound::no_driver: break;
    }
#if defined(CONFIG_PCI_MSIX)
    if (f.msix_vectors) pci::disable_msix(f);  // its interrupts stay allocated, unused
#endif
    t->~PciTransport();
    return false;
}

}  // namespace

PCI_DRIVER(virtio, pci_regs::VENDOR_ID, pci_regs::DEVICE_ID_TRANSITIONAL_FIRST,
           pci_regs::DEVICE_ID_LAST, virtio_pci_probe);

}  // namespace virtio
