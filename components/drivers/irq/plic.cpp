#include "plic.hpp"

#include "drivers/mmio.hpp"

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

class Plic final : public irq::Controller {
public:
    void init(uintptr_t base, unsigned sources) {
        base_ = base;
        count_ = sources + 1;  // source 0 does not exist
        for (unsigned i = 1; i < count_; ++i) disable(i);
        mmio::write32(context() + kThreshold, 0);
    }
    unsigned count() const override { return count_; }
    void enable(unsigned irq) override {
        mmio::write32(base_ + kPriority + 4 * irq, 1);
        uintptr_t reg = enable_word(irq);
        mmio::write32(reg, mmio::read32(reg) | (1u << (irq % 32)));
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

}  // namespace

irq::Controller* plic_init(uintptr_t base, unsigned sources) {
    plic.init(base, sources);
    return &plic;
}

}  // namespace rtos::drivers
