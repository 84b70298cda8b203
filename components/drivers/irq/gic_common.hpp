// ARM GICv2 and GICv3 (Arm IHI 0048B "GIC Architecture Specification v2",
// Arm IHI 0069 "GIC Architecture Specification v3 and v4"): what the two
// drivers (gic_v2.cpp, gic_v3.cpp) share. Both serve the boot CPU at EL1;
// every interrupt is level/edge as reset left it, routed to this CPU, and
// signalled as IRQ (never FIQ).
//
// Security: QEMU's virt board has a GIC without security extensions unless
// started with secure=on; then the kernel runs in Secure EL1 (start.S) and
// uses the secure view. Either way interrupts end up signalled as IRQ:
//   v2: group 0 (reset value), GICC_CTLR.FIQEn = 0;
//   v3: group 1 ("non-secure group 1" with one security state, "secure
//       group 1" with two), acknowledged through ICC_IAR1_EL1.
//
// Priorities carry the nesting model (rtos/arch/port.hpp) through the two
// classes of irq::Priority: every interrupt starts at kNormalPriority; the
// port moves the tick to kPreemptingPriority (Controller::set_priority); the
// binary point is the smallest the CPU interface takes. While a handler
// runs, the GIC's running priority is that of its interrupt, so with IRQs
// unmasked (the aarch64 port does that between claim and complete) only a
// preempting interrupt is signalled; the others wait for the EOI. init()
// checks that the hardware kept the two priorities in different preemption
// groups; if not, set_priority(preempting) fails.
#pragma once

#include <cstdint>

#include <rtos/irq.hpp>
#include <rtos/printk.hpp>

#include "drivers/mmio.hpp"

namespace rtos::drivers::gic {

// Distributor registers common to v2 and v3 (IHI 0069 12.9, IHI 0048B 4.3).
constexpr uintptr_t GICD_CTLR = 0x000;
constexpr uintptr_t GICD_TYPER = 0x004;
constexpr uintptr_t GICD_IGROUPR = 0x080;
constexpr uintptr_t GICD_ISENABLER = 0x100;
constexpr uintptr_t GICD_ICENABLER = 0x180;
constexpr uintptr_t GICD_ICPENDR = 0x280;
constexpr uintptr_t GICD_IPRIORITYR = 0x400;
constexpr uintptr_t GICD_ICFGR = 0xc00;
constexpr uintptr_t GICD_IGRPMODR = 0xd00;  // v3 only

constexpr unsigned kSgiCount = 16;  // SGIs 0-15, PPIs 16-31, SPIs from 32
constexpr unsigned kSpiBase = 32;
constexpr unsigned kMaxIntid = 1020;  // 1020-1023 are special

// Lower numbers are more urgent. The two differ in their top two bits, so
// they stay in different preemption groups for every binary point up to 5.
constexpr uint8_t kPreemptingPriority = 0x40;
constexpr uint8_t kNormalPriority = 0xa0;
constexpr uint32_t kNormalPriority4 = kNormalPriority * 0x01010101u;  // four at a time
constexpr uint32_t kLowestPriorityMask = 0xff;

inline uint8_t priority_of(irq::Priority p) {
    return p == irq::Priority::preempting ? kPreemptingPriority : kNormalPriority;
}

inline unsigned dist_lines(uintptr_t dist) {
    unsigned n = 32 * ((mmio::read32(dist + GICD_TYPER) & 0x1f) + 1);
    return n < kMaxIntid ? n : kMaxIntid;
}

// Interrupts [first, end) at normal priority; `priority_regs` is
// GICD_IPRIORITYR or its redistributor counterpart.
inline void set_normal_priorities(uintptr_t priority_regs, unsigned first, unsigned end) {
    for (unsigned i = first; i < end; i += 4) mmio::write32(priority_regs + i, kNormalPriority4);
}

// Whether a preempting interrupt can preempt a normal handler: its priority
// must lie in a more urgent preemption group under the binary point the CPU
// interface kept, and the priority mask must let both through. The
// implemented bits are learnt by writing both values to SGI 0's byte of the
// banked frame `priority_regs` and reading them back (unimplemented low bits
// read as zero); the byte is left normal. BPR n leaves bits [7:n+1] as the
// group priority for group 0 and secure group 1 and [7:n] for non-secure
// group 1; the first, stricter, rule is applied to all.
inline bool preemption_works(const char* gic, uintptr_t priority_regs, unsigned bpr, unsigned pmr) {
    mmio::write8(priority_regs, kPreemptingPriority);
    unsigned high = mmio::read8(priority_regs);
    mmio::write8(priority_regs, kNormalPriority);
    unsigned normal = mmio::read8(priority_regs);
    unsigned group_mask = (0xffu << ((bpr & 7) + 1)) & 0xff;
    if ((high & group_mask) < (normal & group_mask) && normal < pmr) return true;
    printk("%s: no interrupt can preempt another (priorities %#x/%#x, BPR %u, PMR %#x)\n", gic,
           high, normal, bpr, pmr);
    return false;
}

// SPIs off, not pending, normal priority; groups as given.
inline void dist_reset_spis(uintptr_t dist, unsigned lines, uint32_t group, bool set_grpmod) {
    for (unsigned i = kSpiBase; i < lines; i += 32) {
        mmio::write32(dist + GICD_ICENABLER + i / 8, ~0u);
        mmio::write32(dist + GICD_ICPENDR + i / 8, ~0u);
        mmio::write32(dist + GICD_IGROUPR + i / 8, group);
        if (set_grpmod) mmio::write32(dist + GICD_IGRPMODR + i / 8, ~0u);
    }
    set_normal_priorities(dist + GICD_IPRIORITYR, kSpiBase, lines);
}

// A 64-bit register as two 32-bit accesses, low word first (GICv3 allows
// both; every GIC takes these).
inline uint64_t read64(uintptr_t a) {
    return mmio::read32(a) | uint64_t{mmio::read32(a + 4)} << 32;
}
inline void write64(uintptr_t a, uint64_t v) {
    mmio::write32(a, static_cast<uint32_t>(v));
    mmio::write32(a + 4, static_cast<uint32_t>(v >> 32));
}

// SPIs [first, end) edge-triggered (GICD_ICFGR Int_config[1], two bits per
// interrupt): for interrupts raised by a pulse (MSI frames), which a
// level-triggered SPI loses while disabled. Only while they are disabled: a
// change to an enabled interrupt's configuration is UNPREDICTABLE.
inline void set_edge_triggered(uintptr_t dist, unsigned first, unsigned end) {
    for (unsigned i = first; i < end; ++i) {
        uintptr_t reg = dist + GICD_ICFGR + 4 * (i / 16);
        mmio::write32(reg, mmio::read32(reg) | 2u << (2 * (i % 16)));
    }
}

inline void set_bit(uintptr_t reg_base, unsigned irq) {
    mmio::write32(reg_base + 4 * (irq / 32), 1u << (irq % 32));
}

}  // namespace rtos::drivers::gic
