// ARM GICv2 and GICv3 (Arm IHI 0048B "GIC Architecture Specification v2",
// Arm IHI 0069 "GIC Architecture Specification v3 and v4").
//
// Security: QEMU's virt board has a GIC without security extensions unless
// started with secure=on; then the kernel runs in Secure EL1 (start.S) and
// uses the secure view. Either way interrupts end up signalled as IRQ:
//   v2: group 0 (reset value), GICC_CTLR.FIQEn = 0;
//   v3: group 1 ("non-secure group 1" with one security state, "secure
//       group 1" with two), acknowledged through ICC_IAR1_EL1.
//
// Priorities carry the port's nesting model (rtos/arch/port.hpp,
// arch/aarch64/irq_priority.hpp): the timer PPI gets kTickPriority, every
// other interrupt kDevicePriority, and the binary point is the smallest the
// CPU interface takes. While a handler runs, the GIC's running priority is
// that of its interrupt, so with IRQs unmasked (the port does that between
// claim and complete) only the tick is signalled; other interrupts wait for
// the EOI. init() checks that the hardware kept the two priorities in
// different preemption groups.
#include "gic.hpp"

#include <rtos/config.hpp>
#include <rtos/panic.hpp>

#include "arch/aarch64/irq_priority.hpp"
#include "arch/aarch64/soft_interrupt.hpp"
#include "arch/aarch64/sysreg.hpp"
#include "drivers/mmio.hpp"

namespace rtos::drivers {
namespace {

// Distributor registers common to v2 and v3 (IHI 0069 12.9, IHI 0048B 4.3).
constexpr uintptr_t GICD_CTLR = 0x000;
constexpr uintptr_t GICD_TYPER = 0x004;
constexpr uintptr_t GICD_IGROUPR = 0x080;
constexpr uintptr_t GICD_ISENABLER = 0x100;
constexpr uintptr_t GICD_ICENABLER = 0x180;
constexpr uintptr_t GICD_ICPENDR = 0x280;
constexpr uintptr_t GICD_IPRIORITYR = 0x400;
constexpr uintptr_t GICD_ITARGETSR = 0x800;  // v2 only
constexpr uintptr_t GICD_SGIR = 0xf00;       // v2 only
constexpr uintptr_t GICD_IGRPMODR = 0xd00;   // v3 only
constexpr uintptr_t GICD_IROUTER = 0x6000;   // v3 only, 64-bit per SPI

constexpr unsigned kSpiBase = 32;     // SGIs 0-15, PPIs 16-31, SPIs from 32
constexpr unsigned kMaxIntid = 1020;  // 1020-1023 are special
using rtos::arch::aarch64::kDevicePriority;
using rtos::arch::aarch64::kTickPriority;
using rtos::arch::aarch64::kTimerIntid;
constexpr uint32_t kPriority4 = kDevicePriority * 0x01010101u;  // four at a time
constexpr uint32_t kLowestPriorityMask = 0xff;

unsigned dist_lines(uintptr_t dist) {
    unsigned n = 32 * ((mmio::read32(dist + GICD_TYPER) & 0x1f) + 1);
    return n < kMaxIntid ? n : kMaxIntid;
}

// Interrupts [first, end) at device priority; `priority_regs` is
// GICD_IPRIORITYR or its redistributor counterpart.
void set_priorities(uintptr_t priority_regs, unsigned first, unsigned end) {
    for (unsigned i = first; i < end; i += 4) mmio::write32(priority_regs + i, kPriority4);
}

// The banked SGIs and PPIs of this CPU (`priority_regs` as above): device
// priority, except the tick above them all.
void set_banked_priorities(uintptr_t priority_regs) {
    set_priorities(priority_regs, 0, kSpiBase);
    mmio::write8(priority_regs + kTimerIntid, kTickPriority);
}

// The nesting model needs the tick to preempt every other handler: its
// priority must lie in a more urgent preemption group than the others' under
// the binary point the CPU interface kept, and the priority mask must let
// both through. Priorities are read back (unimplemented low bits read as
// zero). BPR n leaves bits [7:n+1] as the group priority for group 0 and
// secure group 1 and [7:n] for non-secure group 1; the first, stricter, rule
// is applied to all.
void check_tick_preempts(const char* gic, uintptr_t priority_regs, unsigned bpr, unsigned pmr) {
    unsigned tick = mmio::read8(priority_regs + kTimerIntid);
    unsigned device = mmio::read8(priority_regs + rtos::arch::aarch64::kSoftInterruptSgi);
    unsigned group_mask = (0xffu << ((bpr & 7) + 1)) & 0xff;
    if ((tick & group_mask) >= (device & group_mask) || device >= pmr)
        panic("%s: the tick cannot preempt other interrupts (priorities %#x/%#x, BPR %u, PMR %#x)",
              gic, tick, device, bpr, pmr);
}

// SPIs off, not pending, device priority; groups as given.
void dist_reset_spis(uintptr_t dist, unsigned lines, uint32_t group, bool set_grpmod) {
    for (unsigned i = kSpiBase; i < lines; i += 32) {
        mmio::write32(dist + GICD_ICENABLER + i / 8, ~0u);
        mmio::write32(dist + GICD_ICPENDR + i / 8, ~0u);
        mmio::write32(dist + GICD_IGROUPR + i / 8, group);
        if (set_grpmod) mmio::write32(dist + GICD_IGRPMODR + i / 8, ~0u);
    }
    set_priorities(dist + GICD_IPRIORITYR, kSpiBase, lines);
}

void set_bit(uintptr_t reg_base, unsigned irq) {
    mmio::write32(reg_base + 4 * (irq / 32), 1u << (irq % 32));
}

#if !defined(CONFIG_DRIVER_GIC_V3)
// ---------------------------------------------------------------- GICv2 --

// CPU interface (IHI 0048B 4.4).
constexpr uintptr_t GICC_CTLR = 0x00;
constexpr uintptr_t GICC_PMR = 0x04;
constexpr uintptr_t GICC_BPR = 0x08;
constexpr uintptr_t GICC_IAR = 0x0c;
constexpr uintptr_t GICC_EOIR = 0x10;
constexpr uint32_t kCtlrEnableGrp0 = 1;  // GICD_CTLR and GICC_CTLR
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
        set_banked_priorities(dist_ + GICD_IPRIORITYR);
        mmio::write32(dist_ + GICD_CTLR, kCtlrEnableGrp0);

        mmio::write32(cpu_ + GICC_PMR, kLowestPriorityMask);
        mmio::write32(cpu_ + GICC_BPR, 0);  // the minimum is implementation defined
        check_tick_preempts("gic-v2", dist_ + GICD_IPRIORITYR, mmio::read32(cpu_ + GICC_BPR),
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
    const char* name() const override { return "gic-v2"; }
    void send_sgi_to_self(unsigned intid) const {
        mmio::write32(dist_ + GICD_SGIR, kSgirToSelf | (intid & 0xf));
    }

private:
    uintptr_t dist_ = 0, cpu_ = 0;
    unsigned lines_ = 0;
};

GicV2 gic_v2;
void gic_v2_sgi(unsigned intid) { gic_v2.send_sgi_to_self(intid); }
#endif

#if !defined(CONFIG_DRIVER_GIC_V2)
// ---------------------------------------------------------------- GICv3 --

// Distributor control (IHI 0069 12.9.4): the layout depends on the number
// of security states (DS = 1: one).
constexpr uint32_t kDCtlrRwp = 1u << 31;
constexpr uint32_t kDCtlrDs = 1u << 6;
constexpr uint32_t kDCtlrAre = 1u << 4;                // one state: ARE
constexpr uint32_t kDCtlrEnableGrp1 = 1u << 1;         // one state: EnableGrp1
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
    void init(uintptr_t dist, uintptr_t redist) {
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
        for (unsigned i = kSpiBase; i < lines_; ++i) {
            uintptr_t r = dist_ + GICD_IROUTER + 8 * i;
            mmio::write32(r, static_cast<uint32_t>(route));
            mmio::write32(r + 4, static_cast<uint32_t>(route >> 32));
        }
        uint32_t enable_group = two_states_ ? kDCtlrEnableGrp1S : kDCtlrEnableGrp1;
        mmio::write32(dist_ + GICD_CTLR, are | enable_group);
        wait_dist();

        rd_ = find_redistributor(redist);
        if (!rd_) panic("gic-v3: no redistributor for this CPU at 0x%lx", redist);
        mmio::write32(rd_ + GICR_WAKER, mmio::read32(rd_ + GICR_WAKER) & ~kWakerProcessorSleep);
        while (mmio::read32(rd_ + GICR_WAKER) & kWakerChildrenAsleep) {
        }
        mmio::write32(rd_ + GICR_ICENABLER0, ~0u);
        wait_redist();
        mmio::write32(rd_ + GICR_ICPENDR0, ~0u);
        mmio::write32(rd_ + GICR_IGROUPR0, group);
        if (two_states_) mmio::write32(rd_ + GICR_IGRPMODR0, ~0u);
        set_banked_priorities(rd_ + GICR_IPRIORITYR);

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
        check_tick_preempts("gic-v3", rd_ + GICR_IPRIORITYR, static_cast<unsigned>(bpr),
                            static_cast<unsigned>(read_sysreg(icc_pmr_el1)));
        write_sysreg(icc_igrpen1_el1, 1);
        rtos::arch::aarch64::isb();
    }

    unsigned count() const override { return lines_; }
    void enable(unsigned irq) override {
        if (irq < kSpiBase) set_bit(rd_ + GICR_ISENABLER0, irq);
        else set_bit(dist_ + GICD_ISENABLER, irq);
    }
    void disable(unsigned irq) override {
        if (irq < kSpiBase) {
            set_bit(rd_ + GICR_ICENABLER0, irq);
            wait_redist();
        } else {
            set_bit(dist_ + GICD_ICENABLER, irq);
            wait_dist();
        }
    }
    unsigned claim() override {
        unsigned id = read_sysreg(icc_iar1_el1) & 0xffffff;
        rtos::arch::aarch64::dsb_sy();  // acknowledged before the handler touches the device
        return id < lines_ ? id : lines_;  // 1020-1023: nothing pending
    }
    void complete(unsigned irq) override {
        write_sysreg(icc_eoir1_el1, irq);
        rtos::arch::aarch64::isb();
    }
    const char* name() const override { return "gic-v3"; }
    // ICC_SGI1R_EL1 (IHI 0069 12.2.22): this CPU's Aff3.Aff2.Aff1, range
    // selector Aff0 / 16, target list bit Aff0 % 16.
    static void send_sgi_to_self(unsigned intid) {
        uint64_t aff = mpidr_affinity();
        uint64_t aff0 = aff & 0xff;
        uint64_t sgi = ((aff >> 32) & 0xff) << 48     // Aff3
                       | (aff0 >> 4) << 44               // RS
                       | ((aff >> 16) & 0xff) << 32      // Aff2
                       | uint64_t{intid & 0xf} << 24     // INTID
                       | ((aff >> 8) & 0xff) << 16       // Aff1
                       | uint64_t{1} << (aff0 & 0xf);    // TargetList
        rtos::arch::aarch64::dsb_ish();  // earlier stores visible to the handler
        write_sysreg(icc_sgi1r_el1, sgi);
        rtos::arch::aarch64::isb();
    }

private:
    void wait_dist() const {
        while (mmio::read32(dist_ + GICD_CTLR) & kDCtlrRwp) {
        }
    }
    void wait_redist() const {
        while (mmio::read32(rd_ + GICR_CTLR) & kRCtlrRwp) {
        }
    }
    // Walks the redistributor region until GICR_TYPER.Affinity matches this
    // CPU (or the frame marked Last).
    static uintptr_t find_redistributor(uintptr_t rd) {
        uint64_t aff = mpidr_affinity();
        uint32_t want = static_cast<uint32_t>((aff & 0xffffff) | ((aff >> 32) << 24));
        for (unsigned n = 0; n < 4096; ++n) {
            uint64_t typer = mmio::read32(rd + GICR_TYPER) |
                             uint64_t{mmio::read32(rd + GICR_TYPER + 4)} << 32;
            if (static_cast<uint32_t>(typer >> 32) == want) return rd;
            if (typer & kRTyperLast) break;
            rd += kRedistStride + ((typer & kRTyperVlpis) ? kVlpiFrames : 0);
        }
        return 0;
    }

    uintptr_t dist_ = 0, rd_ = 0;
    unsigned lines_ = 0;
    bool two_states_ = false;
};

GicV3 gic_v3;
void gic_v3_sgi(unsigned intid) { GicV3::send_sgi_to_self(intid); }
#endif

}  // namespace

#if !defined(CONFIG_DRIVER_GIC_V3)
irq::Controller* gic_v2_init(uintptr_t dist, uintptr_t cpu) {
    gic_v2.init(dist, cpu);
    rtos::arch::aarch64::set_sgi_sender(gic_v2_sgi);
    return &gic_v2;
}
#endif

#if !defined(CONFIG_DRIVER_GIC_V2)
irq::Controller* gic_v3_init(uintptr_t dist, uintptr_t redist) {
    gic_v3.init(dist, redist);
    rtos::arch::aarch64::set_sgi_sender(gic_v3_sgi);
    return &gic_v3;
}
#endif

}  // namespace rtos::drivers
