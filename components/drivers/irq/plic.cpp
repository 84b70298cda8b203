// RISC-V Platform-Level Interrupt Controller: the S-mode context of each
// hart the kernel runs on.
//
// A context is one hart's one privilege mode; the device tree's
// `interrupts-extended` lists them in order as (hart's interrupt
// controller, cause) pairs, cause 9 being the S-mode external interrupt
// (PLIC spec 1.0.0, chapter 1; QEMU virt: context 2h+1 for hart h, the
// fallback without a tree). The boot hart is whichever OpenSBI picked, not
// necessarily hart 0: its context is looked up by its hart id, and so is
// every other CPU's as it starts (init_cpu). A source is enabled in the
// context of the one CPU it is routed to (route(): irq::attach spreads
// them), so one hart takes each interrupt.
#include <rtos/config.hpp>
#include <rtos/irq.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>

#include "drivers/mmio.hpp"
#include "platform/device.hpp"

namespace rtos::drivers {
namespace {

// Register map (PLIC spec 1.0.0, chapter 3).
constexpr uintptr_t kPriority = 0x0;
constexpr uintptr_t kEnable = 0x2000;
constexpr uintptr_t kEnableStride = 0x80;
constexpr uintptr_t kContextBase = 0x200000;
constexpr uintptr_t kContextStride = 0x1000;
constexpr uintptr_t kThreshold = 0x0;
constexpr uintptr_t kClaim = 0x4;
constexpr uint32_t kMaxSources = 1023;       // source 0 does not exist
constexpr uint32_t kDefaultSources = 95;     // QEMU virt, when riscv,ndev is missing
constexpr uint32_t kMaxContexts = 15872;     // PLIC spec: contexts 0-15871
constexpr uint32_t kSupervisorExternal = 9;  // the cause of a context's interrupt line

// The S-mode context of hart `hart`: from the tree's interrupts-extended,
// which names each context's hart by the phandle of the hart's
// riscv,cpu-intc node (a child of its cpu node, whose reg is the hart id).
unsigned s_context_of(const platform::Device& dev, uint64_t hart) {
    const unsigned fallback = static_cast<unsigned>(2 * hart + 1);  // QEMU virt's layout
#if !defined(CONFIG_PLATFORM_USE_DEVICE_TREE)
    (void)dev;
    return fallback;  // no device-tree code in the image (docs/footprint.md)
#else
    if (!dev.tree) return fallback;
    const fdt::Tree& t = *dev.tree;
    std::size_t len = 0;
    const auto* cells = static_cast<const uint8_t*>(t.prop(dev.node, "interrupts-extended", &len));
    if (!cells) return fallback;
    // The phandle of hart `hart`'s cpu-intc: in document order a cpu node
    // comes right before its interrupt-controller child.
    uint32_t intc = 0;
    bool in_hart = false;
    t.for_each_node([&](fdt::Node n) {
        const char* name = t.name(n);
        if (name[0] == 'c' && name[1] == 'p' && name[2] == 'u' && name[3] == '@') {
            uint64_t reg = 0, size = 0;
            in_hart = t.reg(n, 0, reg, size) && reg == hart;
        } else if (in_hart && t.is_compatible(n, "riscv,cpu-intc")) {
            t.prop_u32(n, "phandle", intc);
            in_hart = false;
        }
    });
    if (!intc) return fallback;
    auto be32 = [&](std::size_t i) {
        const uint8_t* p = cells + 4 * i;
        return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
    };
    for (std::size_t i = 0; 8 * i + 8 <= len && i < kMaxContexts; ++i)
        if (be32(2 * i) == intc && be32(2 * i + 1) == kSupervisorExternal)
            return static_cast<unsigned>(i);
    return fallback;
#endif
}

class Plic final : public irq::Controller {
public:
    void init(const platform::Device& dev, uintptr_t base, unsigned sources) {
        dev_ = dev;
        base_ = base;
        count_ = sources + 1;  // source 0 does not exist
        init_cpu(0);
    }
    unsigned count() const override { return count_; }
    // The priority is written last: QEMU 7.2's PLIC re-evaluates its output
    // on a priority write but not on an enable write, so a source already
    // pending when enabled (a PCI device that interrupted before its driver
    // attached) would otherwise wait for some other PLIC event.
    void enable(unsigned irq) override {
        set_enable(context_[cpu_of(irq)], irq, true);
        mmio::write32(base_ + kPriority + 4 * irq, 1);
        enabled_[irq / 32] |= 1u << (irq % 32);
    }
    void disable(unsigned irq) override {
        set_enable(context_[cpu_of(irq)], irq, false);
        enabled_[irq / 32] &= ~(1u << (irq % 32));
    }
    unsigned claim() override {
        unsigned irq = mmio::read32(claim_[this_cpu()]);
        return irq == 0 ? count_ : irq;
    }
    void complete(unsigned irq) override { mmio::write32(claim_[this_cpu()], irq); }
    // One level for everything: the riscv64 port does its nesting with sie
    // (rtos/arch/port.hpp), not with PLIC priorities.
    bool set_priority(unsigned, irq::Priority p) override { return p == irq::Priority::normal; }
    bool raise(unsigned) override { return false; }  // software interrupts are the hart's SSIP
    const char* name() const override { return "plic"; }

    // Every source disabled in this CPU's context, threshold 0.
    void init_cpu(unsigned cpu) override {
        unsigned ctx = s_context_of(dev_, smp::hw_id(cpu));
        if (cpu < kMaxCpus) {
            context_[cpu] = ctx;
            claim_[cpu] = context_base(ctx) + kClaim;
        }
        for (unsigned i = 0; i < count_; i += 32) mmio::write32(enable_word(ctx, i), 0);
        mmio::write32(context_base(ctx) + kThreshold, 0);
    }
    // Moves the enable bit (if set) to the new CPU's context; a claimed
    // interrupt still completes in the context that claimed it.
    bool route(unsigned irq, unsigned cpu) override {
        if (irq == 0 || irq >= count_ || cpu >= kMaxCpus) return false;
        bool on = enabled_[irq / 32] & (1u << (irq % 32));
        if (on) set_enable(context_[cpu_of(irq)], irq, false);
        target_[irq] = static_cast<uint8_t>(cpu);
        if (on) enable(irq);
        return true;
    }

private:
    static unsigned this_cpu() { return kMaxCpus == 1 ? 0 : smp::cpu_id(); }
    unsigned cpu_of(unsigned irq) const { return kMaxCpus == 1 ? 0 : target_[irq]; }
    uintptr_t context_base(unsigned ctx) const {
        return base_ + kContextBase + ctx * kContextStride;
    }
    uintptr_t enable_word(unsigned ctx, unsigned irq) const {
        return base_ + kEnable + ctx * kEnableStride + 4 * (irq / 32);
    }
    void set_enable(unsigned ctx, unsigned irq, bool on) {
        uintptr_t reg = enable_word(ctx, irq);
        uint32_t bit = 1u << (irq % 32);
        mmio::write32(reg, on ? mmio::read32(reg) | bit : mmio::read32(reg) & ~bit);
    }
    platform::Device dev_;
    uintptr_t base_ = 0;
    unsigned count_ = 0;
    unsigned context_[kMaxCpus] = {};
    uintptr_t claim_[kMaxCpus] = {};  // each CPU's claim/complete register
    // Under the irq layer's lock (rtos/kernel/irq.cpp): where each source
    // goes, and which are enabled.
    uint8_t target_[kMaxSources + 1] = {};
    uint32_t enabled_[(kMaxSources + 32) / 32] = {};
};

Plic plic;

bool probe(const platform::Device& dev) {
    uint32_t sources = dev.prop_u32("riscv,ndev", kDefaultSources);
    if (dev.reg_count == 0 || sources == 0 || sources > kMaxSources) {
        printk("plic: %s: no registers or riscv,ndev %u out of range, skipped\n", dev.name,
               sources);
        return false;
    }
    plic.init(dev, static_cast<uintptr_t>(dev.reg[0].base), sources);
    irq::set_controller(&plic);
    return true;
}

}  // namespace

BOARD_DRIVER(plic, platform::DeviceClass::interrupt_controller, probe, "sifive,plic-1.0.0",
             "riscv,plic0");

}  // namespace rtos::drivers
