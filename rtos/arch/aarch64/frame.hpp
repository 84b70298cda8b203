// The trap frame pushed by vectors.S on the current stack (SP_EL1): x0..x30,
// the stack pointer before the trap, ELR_EL1 and SPSR_EL1; 272 bytes, so sp
// stays 16-byte aligned. x22..x27 are stored for exceptions only (the panic
// report); an IRQ leaves those slots stale. The assembly's view of the
// layout is frame_layout.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "frame_layout.h"

namespace rtos::arch::aarch64 {

struct TrapFrame {
    uint64_t x[31];  // x[30] is the link register
    uint64_t sp;
    uint64_t elr;
    uint64_t spsr;
};
static_assert(sizeof(TrapFrame) == FRAME_SIZE, "frame_layout.h: FRAME_SIZE");
static_assert(offsetof(TrapFrame, x[30]) == X30_OFF && offsetof(TrapFrame, sp) == X30_OFF + 8 &&
                  offsetof(TrapFrame, elr) == ELR_OFF && offsetof(TrapFrame, spsr) == ELR_OFF + 8,
              "frame_layout.h: frame offsets");

// SPSR_EL1 / PSTATE bits (ARM ARM C5.2.18).
constexpr uint64_t kSpsrEl1h = 0x5;  // M[3:0]: return to EL1 using SP_EL1
constexpr uint64_t kSpsrF = 1u << 6, kSpsrI = 1u << 7, kSpsrA = 1u << 8, kSpsrD = 1u << 9;
/// DAIF as seen by mrs/msr: the same bit positions as in SPSR.
constexpr uint64_t kDaifIrqFiq = kSpsrI | kSpsrF;

/// What rtos_arch_switch (start.S) pushes: x19..x30.
struct SwitchFrame {
    uint64_t x[12];  // x[i] holds x(19 + i)
};
static_assert(sizeof(SwitchFrame) == SWITCH_SIZE, "frame_layout.h: SWITCH_SIZE");

/// Vector slot of the trap, passed by vectors.S to rtos_aarch64_trap_handler.
enum class TrapKind : unsigned {
    sync_sp0,
    irq_sp0,
    fiq_sp0,
    serror_sp0,  // current EL, SP_EL0 (unused)
    sync,
    irq,
    fiq,
    serror,  // current EL, SP_EL1 (ours)
    sync_lower,
    irq_lower,
    fiq_lower,
    serror_lower,  // lower EL, AArch64
    sync_a32,
    irq_a32,
    fiq_a32,
    serror_a32,  // lower EL, AArch32
};

}  // namespace rtos::arch::aarch64
