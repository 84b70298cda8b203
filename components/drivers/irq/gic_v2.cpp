// GICv2: memory-mapped distributor and CPU interface (IHI 0048B); see
// gic_common.hpp for groups and priorities.
#include <rtos/config.hpp>
#include <rtos/irq.hpp>
#include <rtos/printk.hpp>

#include "drivers/irq/gic_common.hpp"
#include "drivers/irq/gic_v2m.hpp"
#include "drivers/mmio.hpp"
#include "platform/device.hpp"

namespace rtos::drivers {
namespace {

using namespace gic;

constexpr uintptr_t GICD_ITARGETSR = 0x800;
constexpr uintptr_t GICD_SGIR = 0xf00;

// CPU interface (IHI 0048B 4.4).
constexpr uintptr_t GICC_CTLR = 0x00;
constexpr uintptr_t GICC_PMR = 0x04;
constexpr uintptr_t GICC_BPR = 0x08;
constexpr uintptr_t GICC_IAR = 0x0c;
constexpr uintptr_t GICC_EOIR = 0x10;
constexpr uint32_t kCtlrEnableGrp0 = 1;     // GICD_CTLR and GICC_CTLR
constexpr uint32_t kSgirToSelf = 2u << 24;  // TargetListFilter: the requesting CPU

class GicV2 final : public irq::Controller {
public:
    void init(uintptr_t dist, uintptr_t cpu) {
        dist_ = dist;
        cpu_ = cpu;
        mmio::write32(dist_ + GICD_CTLR, 0);
        lines_ = dist_lines(dist_);
        dist_reset_spis(dist_, lines_, 0, false);
        // This CPU's target bit, from a banked SGI target byte (RAZ on a
        // uniprocessor GIC, where targets do not matter).
        uint8_t self = 0;
        for (unsigned i = 0; i < 32 && !self; ++i) self = mmio::read8(dist_ + GICD_ITARGETSR + i);
        if (!self) self = 1;
        for (unsigned i = kSpiBase; i < lines_; ++i) mmio::write8(dist_ + GICD_ITARGETSR + i, self);
        // Banked SGIs and PPIs of this CPU.
        mmio::write32(dist_ + GICD_ICENABLER, ~0u);
        mmio::write32(dist_ + GICD_ICPENDR, ~0u);
        set_normal_priorities(dist_ + GICD_IPRIORITYR, 0, kSpiBase);
        mmio::write32(dist_ + GICD_CTLR, kCtlrEnableGrp0);

        mmio::write32(cpu_ + GICC_PMR, kLowestPriorityMask);
        mmio::write32(cpu_ + GICC_BPR, 0);  // the minimum is implementation defined
        preemption_ =
            preemption_works("gic-v2", dist_ + GICD_IPRIORITYR, mmio::read32(cpu_ + GICC_BPR),
                             mmio::read32(cpu_ + GICC_PMR));
        mmio::write32(cpu_ + GICC_CTLR, kCtlrEnableGrp0);  // FIQEn = 0: group 0 as IRQ
    }

    unsigned count() const override { return lines_; }
    void enable(unsigned irq) override { set_bit(dist_ + GICD_ISENABLER, irq); }
    void disable(unsigned irq) override { set_bit(dist_ + GICD_ICENABLER, irq); }
    unsigned claim() override {
        // Bits 12:10 (the source CPU of an SGI) are dropped: it is always
        // this CPU, number 0, so complete() writes the same value back.
        unsigned id = mmio::read32(cpu_ + GICC_IAR) & 0x3ff;
        return id < lines_ ? id : lines_;
    }
    void complete(unsigned irq) override { mmio::write32(cpu_ + GICC_EOIR, irq); }
    // SGIs and PPIs are banked per CPU in the distributor itself.
    bool set_priority(unsigned irq, irq::Priority p) override {
        if (irq >= lines_ || (p == irq::Priority::preempting && !preemption_)) return false;
        mmio::write8(dist_ + GICD_IPRIORITYR + irq, priority_of(p));
        return true;
    }
    bool raise(unsigned irq) override {
        if (irq >= kSgiCount) return false;
        mmio::write32(dist_ + GICD_SGIR, kSgirToSelf | irq);
        return true;
    }
    const char* name() const override { return "gic-v2"; }

private:
    uintptr_t dist_ = 0, cpu_ = 0;
    unsigned lines_ = 0;
    bool preemption_ = false;
};

GicV2 gic_v2;

// reg: distributor, CPU interface. A GICv2m child node: the MSI controller.
bool probe(const platform::Device& dev) {
    if (dev.reg_count < 2) {
        printk("gic-v2: %s lacks the distributor or CPU interface registers\n", dev.name);
        return false;
    }
    auto dist = static_cast<uintptr_t>(dev.reg[0].base);
    gic_v2.init(dist, static_cast<uintptr_t>(dev.reg[1].base));
    irq::set_controller(&gic_v2);
#if defined(CONFIG_GIC_V2M)
    probe_v2m(dev, dist, gic_v2.count());
#endif
    return true;
}

}  // namespace

BOARD_DRIVER(gic_v2, platform::DeviceClass::interrupt_controller, probe, "arm,gic-400",
             "arm,cortex-a15-gic");

}  // namespace rtos::drivers
