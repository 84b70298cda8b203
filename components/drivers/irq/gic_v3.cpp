// GICv3: distributor, redistributors and the system-register CPU interface
// (IHI 0069); see gic_common.hpp for groups and priorities. LPIs (the ITS's
// MSIs, gic_v3_its.hpp) follow the distributor's lines in the numbering.
#include <rtos/irq.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>

#include "arch/aarch64/sysreg.hpp"
#include "drivers/irq/gic_common.hpp"
#include "drivers/irq/gic_v3_its.hpp"
#include "drivers/mmio.hpp"
#include "platform/device.hpp"

namespace rtos::drivers {
namespace {

using namespace gic;

constexpr uintptr_t GICD_IROUTER = 0x6000;  // 64-bit per SPI

// Distributor control (IHI 0069 12.9.4): the layout depends on the number
// of security states (DS = 1: one).
constexpr uint32_t kDCtlrRwp = 1u << 31;
constexpr uint32_t kDCtlrDs = 1u << 6;
constexpr uint32_t kDCtlrAre = 1u << 4;                          // one state: ARE
constexpr uint32_t kDCtlrEnableGrp1 = 1u << 1;                   // one state: EnableGrp1
constexpr uint32_t kDCtlrAreS = 1u << 4, kDCtlrAreNs = 1u << 5;  // two states (secure view)
constexpr uint32_t kDCtlrEnableGrp1S = 1u << 2;

// Redistributor: RD_base frame, then the SGI_base frame 64 KiB above
// (IHI 0069 12.10, 12.11).
constexpr uintptr_t GICR_CTLR = 0x0000;
constexpr uintptr_t GICR_TYPER = 0x0008;
constexpr uintptr_t GICR_WAKER = 0x0014;
constexpr uintptr_t kSgiFrame = 0x10000;
constexpr uintptr_t GICR_IGROUPR0 = kSgiFrame + 0x080;
constexpr uintptr_t GICR_ISENABLER0 = kSgiFrame + 0x100;
constexpr uintptr_t GICR_ICENABLER0 = kSgiFrame + 0x180;
constexpr uintptr_t GICR_ICPENDR0 = kSgiFrame + 0x280;
constexpr uintptr_t GICR_IPRIORITYR = kSgiFrame + 0x400;
constexpr uintptr_t GICR_IGRPMODR0 = kSgiFrame + 0xd00;
constexpr uint32_t kRCtlrRwp = 1u << 3;
constexpr uint32_t kWakerProcessorSleep = 1u << 1, kWakerChildrenAsleep = 1u << 2;
constexpr uint64_t kRTyperVlpis = 1u << 1, kRTyperLast = 1u << 4;
constexpr uintptr_t kRedistStride = 0x20000, kVlpiFrames = 0x20000;

// ICC_SRE_EL1 (IHI 0069 12.2.15): system register interface, no IRQ/FIQ bypass.
constexpr uint64_t kSreEnable = 0x7;
// ICC_CTLR_EL1.CBPR: ICC_BPR0_EL1 governs group 1 preemption too.
constexpr uint64_t kIccCtlrCbpr = 1;

uint64_t mpidr_affinity() { return read_sysreg(mpidr_el1) & 0xff00ffffffull; }

class GicV3 final : public irq::Controller {
public:
    void init(const platform::Device& dev, uintptr_t dist, uintptr_t redist) {
        dist_ = dist;
        mmio::write32(dist_ + GICD_CTLR, 0);
        wait_dist();
        // With two security states only the secure view (ours, start.S)
        // sees DS; use secure group 1 there, else (non-secure) group 1.
        two_states_ = !(mmio::read32(dist_ + GICD_CTLR) & kDCtlrDs);
        uint32_t group = two_states_ ? 0 : ~0u;
        lines_ = dist_lines(dist_);
        uint32_t are = two_states_ ? (kDCtlrAreS | kDCtlrAreNs) : kDCtlrAre;
        mmio::write32(dist_ + GICD_CTLR, are);  // affinity routing before any group is on
        wait_dist();
        dist_reset_spis(dist_, lines_, group, two_states_);
        uint64_t route = mpidr_affinity();
        for (unsigned i = kSpiBase; i < lines_; ++i) write64(dist_ + GICD_IROUTER + 8 * i, route);
        uint32_t enable_group = two_states_ ? kDCtlrEnableGrp1S : kDCtlrEnableGrp1;
        mmio::write32(dist_ + GICD_CTLR, are | enable_group);
        wait_dist();

        redist_base_ = redist;
        group_ = group;
        rd_ = setup_redistributor();
        preemption_ = setup_cpu_interface();
        count_ = lines_ + its::probe(dev, rd_, lines_, two_states_);
    }

    unsigned count() const override { return count_; }
    void enable(unsigned irq) override {
        if (irq < kSpiBase) {
            banked_enabled_ |= 1u << irq;
            set_bit(rd() + GICR_ISENABLER0, irq);
        } else if (irq < lines_) {
            set_bit(dist_ + GICD_ISENABLER, irq);
        } else {
            its::set_enabled(irq - lines_, true);
        }
    }
    void disable(unsigned irq) override {
        if (irq < kSpiBase) {
            banked_enabled_ &= ~(1u << irq);
            set_bit(rd() + GICR_ICENABLER0, irq);
            wait_redist(rd());
        } else if (irq < lines_) {
            set_bit(dist_ + GICD_ICENABLER, irq);
            wait_dist();
        } else {
            its::set_enabled(irq - lines_, false);
        }
    }
    // LPI INTID its::kLpiBase + k is interrupt lines_ + k; 1020-1023 (none
    // pending) and INTIDs outside both ranges are count_. The LPI side is
    // out of line: the lines (the tick) pay one compare each way.
    unsigned claim() override {
        unsigned id = read_sysreg(icc_iar1_el1) & 0xffffff;
        rtos::arch::aarch64::dsb_sy();  // acknowledged before the handler touches the device
        if (id < lines_) [[likely]]
            return id;
        return from_intid(id);
    }
    void complete(unsigned irq) override {
        if (irq >= lines_) [[unlikely]]
            irq = to_intid(irq);
        write_sysreg(icc_eoir1_el1, irq);
        rtos::arch::aarch64::isb();
    }
    bool set_priority(unsigned irq, irq::Priority p) override {
        if (irq >= count_ || (p == irq::Priority::preempting && !preemption_)) return false;
        // LPIs: their configuration byte holds the normal priority.
        if (irq >= lines_) return p == irq::Priority::normal;
        if (irq < kSpiBase) {
            banked_priority_[irq] = priority_of(p);
            mmio::write8(rd() + GICR_IPRIORITYR + irq, priority_of(p));
        } else {
            mmio::write8(dist_ + GICD_IPRIORITYR + irq, priority_of(p));
        }
        return true;
    }
    bool raise(unsigned intid) override { return send_sgi(intid, mpidr_affinity()); }
    const char* name() const override { return "gic-v3"; }

    // ---- SMP: each CPU's redistributor and CPU interface; SPIs by
    // ---- GICD_IROUTER; SGIs by affinity; LPIs by the ITS's collection of
    // ---- each CPU (gic_v3_its.cpp).
    void init_cpu(unsigned cpu) override {
        if (cpu >= kMaxCpus) return;
        uintptr_t rd = setup_redistributor();
        rds_[cpu] = rd;
        its::add_cpu(cpu, rd);
        for (unsigned i = 0; i < kSpiBase; ++i)
            if (banked_priority_[i]) mmio::write8(rd + GICR_IPRIORITYR + i, banked_priority_[i]);
        mmio::write32(rd + GICR_ISENABLER0, banked_enabled_);
        setup_cpu_interface();
    }
    bool raise_on(unsigned intid, unsigned cpu) override {
        return cpu < kMaxCpus && send_sgi(intid, smp::hw_id(cpu));
    }
    // IHI 0069 12.9.22: Interrupt_Routing_Mode 0, the target's Aff3.Aff2.Aff1.Aff0
    // (the layout of our hardware ids).
    bool route(unsigned irq, unsigned cpu) override {
        if (irq >= lines_ && irq < count_) return its::route(irq - lines_, cpu);
        if (irq < kSpiBase || irq >= lines_ || cpu >= kMaxCpus) return false;
        write64(dist_ + GICD_IROUTER + 8 * irq, smp::hw_id(cpu) & 0xff00ffffffull);
        return true;
    }

private:
    // ICC_SGI1R_EL1 (IHI 0069 12.2.22): the target's Aff3.Aff2.Aff1, range
    // selector Aff0 / 16, target list bit Aff0 % 16.
    bool send_sgi(unsigned intid, uint64_t aff) {
        if (intid >= kSgiCount) return false;
        uint64_t aff0 = aff & 0xff;
        uint64_t sgi = ((aff >> 32) & 0xff) << 48      // Aff3
                       | (aff0 >> 4) << 44             // RS
                       | ((aff >> 16) & 0xff) << 32    // Aff2
                       | uint64_t{intid & 0xf} << 24   // INTID
                       | ((aff >> 8) & 0xff) << 16     // Aff1
                       | uint64_t{1} << (aff0 & 0xf);  // TargetList
        // Earlier stores (the reasons the handler reads) are observed before
        // the SGI: a system register write is no memory access, so DMB
        // cannot order it; DSB completes the stores first (IHI 0069 12.1.8;
        // as Linux's gic_send_sgi path).
        rtos::arch::aarch64::dsb_ish();
        write_sysreg(icc_sgi1r_el1, sgi);
        rtos::arch::aarch64::isb();
        return true;
    }
    uintptr_t rd() const { return kMaxCpus == 1 ? rd_ : rds_[smp::cpu_id()]; }
    // This CPU's redistributor: awake, its SGIs and PPIs off, not pending,
    // in our group, at normal priority.
    uintptr_t setup_redistributor() {
        uintptr_t rd = find_redistributor(redist_base_);
        if (!rd) panic("gic-v3: no redistributor for this CPU at 0x%lx", redist_base_);
        mmio::write32(rd + GICR_WAKER, mmio::read32(rd + GICR_WAKER) & ~kWakerProcessorSleep);
        while (mmio::read32(rd + GICR_WAKER) & kWakerChildrenAsleep) {
        }
        mmio::write32(rd + GICR_ICENABLER0, ~0u);
        wait_redist(rd);
        mmio::write32(rd + GICR_ICPENDR0, ~0u);
        mmio::write32(rd + GICR_IGROUPR0, group_);
        if (two_states_) mmio::write32(rd + GICR_IGRPMODR0, ~0u);
        set_normal_priorities(rd + GICR_IPRIORITYR, 0, kSpiBase);
        if (kMaxCpus > 1) rds_[kMaxCpus == 1 ? 0 : smp::cpu_id()] = rd;
        return rd;
    }
    // This CPU's system-register interface; whether preemption works.
    bool setup_cpu_interface() {
        write_sysreg(icc_sre_el1, read_sysreg(icc_sre_el1) | kSreEnable);
        rtos::arch::aarch64::isb();
        if (!(read_sysreg(icc_sre_el1) & 1))
            panic("gic-v3: system register interface disabled by a higher exception level");
        write_sysreg(icc_pmr_el1, kLowestPriorityMask);
        write_sysreg(icc_ctlr_el1, 0);  // EOImode 0: EOIR drops priority and deactivates
        write_sysreg(icc_bpr1_el1, 0);  // the minimum is implementation defined
        rtos::arch::aarch64::isb();
        // CBPR (kept set by a higher EL) makes group 1 use the group 0 binary point.
        uint64_t bpr = (read_sysreg(icc_ctlr_el1) & kIccCtlrCbpr) ? read_sysreg(icc_bpr0_el1)
                                                                  : read_sysreg(icc_bpr1_el1);
        bool works = preemption_works("gic-v3", rd() + GICR_IPRIORITYR, static_cast<unsigned>(bpr),
                                      static_cast<unsigned>(read_sysreg(icc_pmr_el1)));
        write_sysreg(icc_igrpen1_el1, 1);
        rtos::arch::aarch64::isb();
        return works;
    }
    [[gnu::noinline, gnu::cold]] unsigned from_intid(unsigned id) const {
        unsigned k = id - its::kLpiBase;  // wraps below the LPIs
        return k < count_ - lines_ ? lines_ + k : count_;
    }
    [[gnu::noinline, gnu::cold]] unsigned to_intid(unsigned irq) const {
        return irq - lines_ + its::kLpiBase;
    }
    void wait_dist() const {
        while (mmio::read32(dist_ + GICD_CTLR) & kDCtlrRwp) {
        }
    }
    static void wait_redist(uintptr_t rd) {
        while (mmio::read32(rd + GICR_CTLR) & kRCtlrRwp) {
        }
    }
    // Walks the redistributor region until GICR_TYPER.Affinity matches this
    // CPU (or the frame marked Last).
    static uintptr_t find_redistributor(uintptr_t rd) {
        uint64_t aff = mpidr_affinity();
        uint32_t want = static_cast<uint32_t>((aff & 0xffffff) | ((aff >> 32) << 24));
        for (unsigned n = 0; n < 4096; ++n) {
            uint64_t typer = read64(rd + GICR_TYPER);
            if (static_cast<uint32_t>(typer >> 32) == want) return rd;
            if (typer & kRTyperLast) break;
            rd += kRedistStride + ((typer & kRTyperVlpis) ? kVlpiFrames : 0);
        }
        return 0;
    }

    uintptr_t dist_ = 0, rd_ = 0;  // rd_: the boot CPU's redistributor
    uintptr_t redist_base_ = 0;    // the first redistributor region
    uint32_t group_ = 0;
    unsigned lines_ = 0, count_ = 0;  // distributor lines; and the LPIs after them
    bool two_states_ = false;
    bool preemption_ = false;
    // The boot CPU's banked SGI/PPI set-up, for the others (0: untouched).
    uint32_t banked_enabled_ = 0;
    uint8_t banked_priority_[kSpiBase] = {};
    uintptr_t rds_[kMaxCpus] = {};  // each CPU's redistributor
};

GicV3 gic_v3;

// reg: distributor, then the first redistributor region; the boot CPU's
// redistributor is found there by its affinity.
bool probe(const platform::Device& dev) {
    if (dev.reg_count < 2) {
        printk("gic-v3: %s lacks the distributor or redistributor registers\n", dev.name);
        return false;
    }
    gic_v3.init(dev, static_cast<uintptr_t>(dev.reg[0].base),
                static_cast<uintptr_t>(dev.reg[1].base));
    irq::set_controller(&gic_v3);
    return true;
}

}  // namespace

BOARD_DRIVER(gic_v3, platform::DeviceClass::interrupt_controller, probe, "arm,gic-v3");

}  // namespace rtos::drivers
