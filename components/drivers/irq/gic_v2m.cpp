// GICv2m MSI frame: a device raises SPI n by writing n (its INTID) to the
// frame's MSI_SETSPI_NS register; MSI_TYPER says which SPIs the frame owns.
// The frame does not check who writes (no device IDs), so allocate() ignores
// device_id. The SPIs are handed out in order and never returned
// (irq::MsiController). QEMU pulses the SPI, so the SPIs are made
// edge-triggered: a pulse on a disabled level-triggered SPI is lost, on an
// edge-triggered one it stays pending until enable().
//
// The device tree may override MSI_TYPER with "arm,msi-base-spi" and
// "arm,msi-num-spis" (both, Linux's binding); either way the range is
// checked against the distributor before use.
#include "drivers/irq/gic_v2m.hpp"

#include <rtos/spinlock.hpp>
#include <rtos/irq.hpp>
#include <rtos/printk.hpp>

#include "drivers/irq/gic_common.hpp"
#include "drivers/mmio.hpp"

namespace rtos::drivers::gic {
namespace {

constexpr uintptr_t MSI_TYPER = 0x008;
constexpr uintptr_t MSI_SETSPI_NS = 0x040;

class V2mFrame final : public irq::MsiController {
public:
    void init(uint64_t frame, unsigned first, unsigned end) {
        frame_ = frame;
        next_ = first;
        end_ = end;
    }

    unsigned allocate(uint32_t, unsigned count, unsigned* irqs,
                      irq::MsiMessage* messages) override {
        unsigned n = 0;
        {
            SpinLockGuard guard(lock_);
            for (; n < count && next_ < end_; ++n, ++next_) {
                irqs[n] = next_;
                messages[n] = {frame_ + MSI_SETSPI_NS, next_};
            }
        }
        if (n < count)
            printk("gic-v2m: %u of %u interrupts given: the frame's SPIs ran out\n", n, count);
        return n;
    }

    const char* name() const override { return "gic-v2m"; }

private:
    uint64_t frame_ = 0;
    // lock_: next_, as drivers probing from any thread and CPU take SPIs.
    // Level 1 of docs/smp.md's lock order (GIC v2m); nothing inside it.
    SpinLock lock_;
    unsigned next_ = 0, end_ = 0;  // SPIs not handed out yet: [next_, end_)
};

V2mFrame v2m;

}  // namespace

void probe_v2m(const platform::Device& gic, uintptr_t dist, unsigned lines) {
    if (!gic.tree) {
        printk("gic-v2m: none (no device tree)\n");
        return;
    }
    const fdt::Tree& tree = *gic.tree;
    fdt::Node frame;
    do {
        frame = tree.find_child_compatible(gic.node, "arm,gic-v2m-frame", frame);
    } while (frame.valid() &&
             !(platform::node_enabled(tree, frame) && tree.prop(frame, "msi-controller")));
    if (!frame.valid()) {
        printk("gic-v2m: none (no arm,gic-v2m-frame msi-controller under %s)\n", gic.name);
        return;
    }
    uint64_t base = 0, size = 0;
    if (!tree.reg(frame, 0, base, size) || base % 4 || size < MSI_SETSPI_NS + 4 ||
        base > UINTPTR_MAX - MSI_SETSPI_NS) {
        printk("gic-v2m: %s: registers missing or too small, not used\n", tree.name(frame));
        return;
    }
    uint32_t first = 0, count = 0;
    bool from_tree = tree.prop_u32(frame, "arm,msi-base-spi", first) &&
                     tree.prop_u32(frame, "arm,msi-num-spis", count);
    if (!from_tree) {
        uint32_t typer = mmio::read32(static_cast<uintptr_t>(base) + MSI_TYPER);
        first = (typer >> 16) & 0x3ff;
        count = typer & 0x3ff;
    }
    if (count == 0 || first < kSpiBase || count > lines || first > lines - count) {
        printk("gic-v2m: @%#llx spis %u from %u (%s) outside the distributor's %u-%u: not used\n",
               static_cast<unsigned long long>(base), count, first,
               from_tree ? "device tree" : "MSI_TYPER", kSpiBase, lines - 1);
        return;
    }
    set_edge_triggered(dist, first, first + count);
    v2m.init(base, first, first + count);
    irq::set_msi_controller(&v2m);
    printk("gic-v2m: @%#llx spis %u (%u-%u)%s\n", static_cast<unsigned long long>(base), count,
           first, first + count - 1, from_tree ? " from the device tree" : "");
}

}  // namespace rtos::drivers::gic
