// QEMU's test finisher ("sifive,test0" in the device tree): a write ends
// QEMU with a chosen exit status. fail_exit() needs it because OpenSBI 1.1
// (Debian bookworm) ignores the reason of an SBI SRST shutdown and tells the
// finisher PASS, so a panic would end QEMU with status 0. The board layer
// passes the address it found; without one, fail_exit() relies on SBI alone.
#pragma once

#include <cstdint>

namespace rtos::arch::riscv {

void set_test_finisher(uintptr_t base);

}  // namespace rtos::arch::riscv
