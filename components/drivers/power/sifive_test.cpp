// QEMU's test finisher ("sifive,test0" in the riscv64 virt device tree): a
// write ends QEMU with a chosen exit status. The riscv64 port's fail_exit()
// needs it (arch::set_exit_handler) because OpenSBI 1.1 (Debian bookworm)
// ignores the reason of an SBI SRST shutdown and tells the finisher PASS, so
// a panic would end QEMU with status 0. Without it, fail_exit() relies on
// SBI alone.
#include <rtos/printk.hpp>

#include "arch/port.hpp"
#include "drivers/mmio.hpp"
#include "platform/device.hpp"

namespace rtos::drivers {
namespace {

constexpr uint32_t kPass = 0x5555;
constexpr uint32_t kFail = 0x3333;  // exit status in the upper 16 bits

uintptr_t base = 0;

void finish(int status) {
    mmio::write32(base, status == 0 ? kPass : kFail | (static_cast<uint32_t>(status) << 16));
}

bool probe(const platform::Device& dev) {
    if (dev.reg_count == 0 || dev.reg[0].base == 0) {
        printk("sifive-test: %s has no registers, skipped\n", dev.name);
        return false;
    }
    base = static_cast<uintptr_t>(dev.reg[0].base);
    arch::set_exit_handler(finish);
    return true;
}

}  // namespace

BOARD_DRIVER(sifive_test, platform::DeviceClass::power, probe, "sifive,test1", "sifive,test0");

}  // namespace rtos::drivers
