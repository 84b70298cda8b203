// virtio-mmio discovery: the device tree's "virtio,mmio" nodes, or the
// board's slot range (Kconfig) when the tree has none. Empty slots
// (DeviceID 0) are skipped quietly; each device goes to bind_driver()
// (driver.cpp), which the PCI probe shares.
#include <cstdio>
#include <new>

#include <rtos/config.hpp>
#include <rtos/init.hpp>
#include <rtos/printk.hpp>

#include "drivers/virtio/driver.hpp"
#include "drivers/virtio/transport/mmio_transport.hpp"
#include "drivers/virtio/transport/register_window.hpp"
#include "platform/platform.hpp"

namespace virtio {
namespace {

// One transport per slot that holds a device, alive for the whole run.
constexpr unsigned kMaxDevices = 32;

struct Slot {
    MmioWindow window;
    MmioTransport transport;
    char location[24];  // "@0x10008000"
    explicit Slot(std::uintptr_t base) : window(base), transport(window) {
        std::snprintf(location, sizeof(location), "@%#llx", static_cast<unsigned long long>(base));
    }
};

alignas(Slot) unsigned char slot_storage[kMaxDevices][sizeof(Slot)];
unsigned used_slots = 0;

void probe_one(std::uint64_t base, unsigned irq) {
    if (used_slots == kMaxDevices) {
        rtos::printk("virtio-mmio: more than %u devices, ignoring @%#llx\n", kMaxDevices,
                     static_cast<unsigned long long>(base));
        return;
    }
    Slot* slot = new (slot_storage[used_slots]) Slot(static_cast<std::uintptr_t>(base));
    Error e = slot->transport.probe();
    if (e != Error::ok) return;  // empty slot, or probe() logged why
    slot->transport.set_interrupt_line(irq);
    switch (bind_driver(slot->transport, "mmio", base, slot->location)) {
    case Bound::taken: ++used_slots; break;  // the transport now belongs to the driver
    case Bound::refused: slot->transport.reset(); break;
    case Bound::no_driver: break;
    }
}

struct Candidate {
    std::uint64_t base;
    std::uint32_t irq;
};

// The tree's virtio,mmio nodes, highest address first: QEMU fills slots from
// the highest address down, so the first -device on the command line is
// probed first and becomes the first device of its type (vda). The tree's
// node order differs between boards, hence the sort.
unsigned collect_from_device_tree(Candidate (&found)[kMaxDevices]) {
    const fdt::Tree& dt = rtos::platform::device_tree();
    unsigned count = 0;
    for (fdt::Node n = dt.find_compatible("virtio,mmio"); n.valid();
         n = dt.find_compatible("virtio,mmio", n)) {
        std::uint64_t base, size;
        std::uint32_t irq;
        if (!dt.reg(n, 0, base, size) || !dt.interrupt(n, 0, irq)) {
            rtos::printk("virtio-mmio: node %s lacks reg or interrupts, skipped\n", dt.name(n));
            continue;
        }
        if (count == kMaxDevices) {
            rtos::printk("virtio-mmio: more than %u nodes, ignoring %s\n", kMaxDevices, dt.name(n));
            continue;
        }
        unsigned i = count++;
        for (; i > 0 && found[i - 1].base < base; --i) found[i] = found[i - 1];  // insertion sort
        found[i] = {base, irq};
    }
    return count;
}

void virtio_mmio_probe() {
    Candidate found[kMaxDevices];
#if defined(CONFIG_VIRTIO_MMIO_SCAN_ALWAYS)
    constexpr bool kUseDeviceTree = false;
#else
    constexpr bool kUseDeviceTree = true;
#endif
    const unsigned count = kUseDeviceTree ? collect_from_device_tree(found) : 0;
    for (unsigned i = 0; i < count; ++i) probe_one(found[i].base, found[i].irq);
    if (count == 0 && CONFIG_VIRTIO_MMIO_SLOT_COUNT > 0) {
        rtos::printk("virtio-mmio: scanning %d slots from %#llx\n", CONFIG_VIRTIO_MMIO_SLOT_COUNT,
                     static_cast<unsigned long long>(CONFIG_VIRTIO_MMIO_SLOT_BASE));
        for (int i = CONFIG_VIRTIO_MMIO_SLOT_COUNT - 1; i >= 0; --i)
            probe_one(
                CONFIG_VIRTIO_MMIO_SLOT_BASE + std::uint64_t(i) * CONFIG_VIRTIO_MMIO_SLOT_STRIDE,
                static_cast<unsigned>(CONFIG_VIRTIO_MMIO_SLOT_IRQ_BASE + i));
    }
}

RTOS_INIT(virtio_mmio_probe, driver);

}  // namespace
}  // namespace virtio
