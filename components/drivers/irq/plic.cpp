// RISC-V Platform-Level Interrupt Controller, S-mode context of hart 0.
#include <rtos/irq.hpp>
#include <rtos/printk.hpp>

#include "drivers/mmio.hpp"
#include "platform/device.hpp"

namespace rtos::drivers {
namespace {

// Register map (PLIC spec 1.0.0, chapter 3). Context 1 = hart 0 S-mode on
// QEMU virt (context 0 is its M-mode, owned by OpenSBI).
constexpr unsigned kContext = 1;
constexpr uintptr_t kPriority = 0x0;
constexpr uintptr_t kEnable = 0x2000;
constexpr uintptr_t kEnableStride = 0x80;
constexpr uintptr_t kContextBase = 0x200000;
constexpr uintptr_t kContextStride = 0x1000;
constexpr uintptr_t kThreshold = 0x0;
constexpr uintptr_t kClaim = 0x4;
constexpr uint32_t kMaxSources = 1023;    // source 0 does not exist
constexpr uint32_t kDefaultSources = 95;  // QEMU virt, when riscv,ndev is missing

class Plic final : public irq::Controller {
public:
    void init(uintptr_t base, unsigned sources) {
        base_ = base;
        count_ = sources + 1;  // source 0 does not exist
        for (unsigned i = 1; i < count_; ++i) disable(i);
        mmio::write32(context() + kThreshold, 0);
    }
    unsigned count() const override { return count_; }
    // The priority is written last: QEMU 7.2's PLIC re-evaluates its output
    // on a priority write but not on an enable write, so a source already
    // pending when enabled (a PCI device that interrupted before its driver
    // attached) would otherwise wait for some other PLIC event.
    void enable(unsigned irq) override {
        uintptr_t reg = enable_word(irq);
        mmio::write32(reg, mmio::read32(reg) | (1u << (irq % 32)));
        mmio::write32(base_ + kPriority + 4 * irq, 1);
    }
    void disable(unsigned irq) override {
        uintptr_t reg = enable_word(irq);
        mmio::write32(reg, mmio::read32(reg) & ~(1u << (irq % 32)));
    }
    unsigned claim() override {
        unsigned irq = mmio::read32(context() + kClaim);
        return irq == 0 ? count_ : irq;
    }
    void complete(unsigned irq) override { mmio::write32(context() + kClaim, irq); }
    // One level for everything: the riscv64 port does its nesting with sie
    // (rtos/arch/port.hpp), not with PLIC priorities.
    bool set_priority(unsigned, irq::Priority p) override { return p == irq::Priority::normal; }
    bool raise(unsigned) override { return false; }  // software interrupts are the hart's SSIP
    const char* name() const override { return "plic"; }

private:
    uintptr_t context() const { return base_ + kContextBase + kContext * kContextStride; }
    uintptr_t enable_word(unsigned irq) const {
        return base_ + kEnable + kContext * kEnableStride + 4 * (irq / 32);
    }
    uintptr_t base_ = 0;
    unsigned count_ = 0;
};

Plic plic;

bool probe(const platform::Device& dev) {
    uint32_t sources = dev.prop_u32("riscv,ndev", kDefaultSources);
    if (dev.reg_count == 0 || sources == 0 || sources > kMaxSources) {
        printk("plic: %s: no registers or riscv,ndev %u out of range, skipped\n", dev.name,
               sources);
        return false;
    }
    plic.init(static_cast<uintptr_t>(dev.reg[0].base), sources);
    irq::set_controller(&plic);
    return true;
}

}  // namespace

BOARD_DRIVER(plic, platform::DeviceClass::interrupt_controller, probe, "sifive,plic-1.0.0",
             "riscv,plic0");

}  // namespace rtos::drivers
