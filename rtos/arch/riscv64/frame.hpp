// The trap frame pushed by trap.S: x1..x31 (x2 = sp before the trap), then
// sepc and sstatus. s2..s11 (x18..x27) are stored for exceptions only (the
// panic report); an interrupt leaves those slots stale. Keep in sync with the offsets in trap.S.
#pragma once

#include <cstdint>

namespace rtos::arch::riscv {

struct TrapFrame {
    uint64_t x[31];  // x[i-1] holds register xi
    uint64_t sepc;
    uint64_t sstatus;
    uint64_t pad;
};
static_assert(sizeof(TrapFrame) == 272, "trap.S assumes a 272-byte frame");

constexpr unsigned kRegRa = 1, kRegSp = 2, kRegT0 = 5, kRegA0 = 10, kRegA5 = 15;
inline uint64_t& reg(TrapFrame& f, unsigned i) { return f.x[i - 1]; }

constexpr uint64_t kSstatusSie = 1u << 1;
constexpr uint64_t kSstatusSpie = 1u << 5;
constexpr uint64_t kSstatusSpp = 1u << 8;

/// What rtos_arch_switch (trap.S) pushes: the return address and s0..s11.
struct SwitchFrame {
    uint64_t ra;
    uint64_t s[12];
    uint64_t pad;
};
static_assert(sizeof(SwitchFrame) == 112, "trap.S assumes a 112-byte switch frame");

}  // namespace rtos::arch::riscv
