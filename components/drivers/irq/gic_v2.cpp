// GICv2: memory-mapped distributor and CPU interface (IHI 0048B); see
// gic_common.hpp for groups and priorities.
#include <rtos/config.hpp>
#include <rtos/irq.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>

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
        // Every SPI to this CPU (route() moves them).
        uint8_t self = target_of_this_cpu();
        targets_[0] = self;
        for (unsigned i = kSpiBase; i < lines_; ++i) mmio::write8(dist_ + GICD_ITARGETSR + i, self);
        init_banked();
        mmio::write32(dist_ + GICD_CTLR, kCtlrEnableGrp0);
        init_cpu_interface();
        preemption_ =
            preemption_works("gic-v2", dist_ + GICD_IPRIORITYR, mmio::read32(cpu_ + GICC_BPR),
                             mmio::read32(cpu_ + GICC_PMR));
        mmio::write32(cpu_ + GICC_CTLR, kCtlrEnableGrp0);  // FIQEn = 0: group 0 as IRQ
    }

    unsigned count() const override { return lines_; }
    void enable(unsigned irq) override {
        if (irq < kSpiBase) banked_enabled_ |= 1u << irq;
        set_bit(dist_ + GICD_ISENABLER, irq);
    }
    void disable(unsigned irq) override {
        if (irq < kSpiBase) banked_enabled_ &= ~(1u << irq);
        set_bit(dist_ + GICD_ICENABLER, irq);
    }
    unsigned claim() override {
        uint32_t iar = mmio::read32(cpu_ + GICC_IAR);
        unsigned id = iar & 0x3ff;
        // An SGI's EOI must name its source CPU (IAR bits 12:10, IHI 0048B
        // 4.4.5): kept for complete(). SGIs do not nest in each other. With
        // SMP off the source is always this one, number 0.
        if constexpr (kMaxCpus > 1)
            if (id < kSgiCount) sgi_source() = static_cast<uint8_t>((iar >> 10) & 7);
        return id < lines_ ? id : lines_;
    }
    void complete(unsigned irq) override {
        uint32_t v = irq;
        if constexpr (kMaxCpus > 1)
            if (irq < kSgiCount) v |= uint32_t{sgi_source()} << 10;
        mmio::write32(cpu_ + GICC_EOIR, v);
    }
    // SGIs and PPIs are banked per CPU in the distributor itself: the boot
    // CPU's setting is copied to each other CPU as it starts.
    bool set_priority(unsigned irq, irq::Priority p) override {
        if (irq >= lines_ || (p == irq::Priority::preempting && !preemption_)) return false;
        if (irq < kSpiBase) banked_priority_[irq] = priority_of(p);
        mmio::write8(dist_ + GICD_IPRIORITYR + irq, priority_of(p));
        return true;
    }
    bool raise(unsigned irq) override {
        if (irq >= kSgiCount) return false;
        mmio::write32(dist_ + GICD_SGIR, kSgirToSelf | irq);
        return true;
    }
    const char* name() const override { return "gic-v2"; }

    // ---- SMP: every CPU's interface and banked interrupts; SPIs by
    // ---- GICD_ITARGETSR, SGIs by target list. The uniprocessor kernel
    // ---- starts no other CPU and sends no SGI to one: left out of its image.
#if defined(CONFIG_RTOS_SMP)
    void init_cpu(unsigned cpu) override {
        if (cpu >= kMaxCpus) return;
        targets_[cpu] = target_of_this_cpu();
        init_banked();
        for (unsigned i = 0; i < kSpiBase; ++i)
            if (banked_priority_[i]) mmio::write8(dist_ + GICD_IPRIORITYR + i, banked_priority_[i]);
        mmio::write32(dist_ + GICD_ISENABLER, banked_enabled_);
        init_cpu_interface();
        mmio::write32(cpu_ + GICC_CTLR, kCtlrEnableGrp0);
    }
    bool raise_on(unsigned irq, unsigned cpu) override {
        if (irq >= kSgiCount || cpu >= kMaxCpus || !targets_[cpu]) return false;
        // The sender's stores (the reasons the handler reads) are observed
        // before the SGI is (ARM ARM B2.3.12: DMB ISHST orders the stores
        // before the distributor write; as Linux's gic_raise_softirq).
        asm volatile("dmb ishst" ::: "memory");
        mmio::write32(dist_ + GICD_SGIR, uint32_t{targets_[cpu]} << 16 | irq);
        return true;
    }
#endif
    bool route(unsigned irq, unsigned cpu) override {
        if (irq < kSpiBase || irq >= lines_ || cpu >= kMaxCpus || !targets_[cpu]) return false;
        mmio::write8(dist_ + GICD_ITARGETSR + irq, targets_[cpu]);
        return true;
    }

private:
    // Where this CPU keeps the source of the SGI it handles: its own slot
    // with several CPUs running; alone, slot 0 (no per-CPU read on the
    // single-CPU path). claim() and complete() run with interrupts masked.
    uint8_t& sgi_source() {
        return smp::active() ? sgi_source_[smp::cpu_id_masked()] : sgi_source_[0];
    }
    // This CPU's target bit, from a banked SGI target byte (RAZ on a
    // uniprocessor GIC, where targets do not matter).
    uint8_t target_of_this_cpu() const {
        uint8_t self = 0;
        for (unsigned i = 0; i < 32 && !self; ++i) self = mmio::read8(dist_ + GICD_ITARGETSR + i);
        return self ? self : 1;
    }
    // Banked SGIs and PPIs of this CPU: off, not pending, normal priority.
    void init_banked() {
        mmio::write32(dist_ + GICD_ICENABLER, ~0u);
        mmio::write32(dist_ + GICD_ICPENDR, ~0u);
        set_normal_priorities(dist_ + GICD_IPRIORITYR, 0, kSpiBase);
    }
    void init_cpu_interface() {
        mmio::write32(cpu_ + GICC_PMR, kLowestPriorityMask);
        mmio::write32(cpu_ + GICC_BPR, 0);  // the minimum is implementation defined
    }

    uintptr_t dist_ = 0, cpu_ = 0;
    unsigned lines_ = 0;
    bool preemption_ = false;
    // The boot CPU's banked SGI/PPI set-up, for the others (0: untouched).
    uint32_t banked_enabled_ = 0;
    uint8_t banked_priority_[kSpiBase] = {};
    uint8_t targets_[kMaxCpus] = {};     // each CPU's CPU interface bit
    uint8_t sgi_source_[kMaxCpus] = {};  // source of the SGI each CPU handles
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
