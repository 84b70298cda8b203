// PSCI (Arm DEN 0022) and semihosting (Arm IHI 0056) for the aarch64 port.
#pragma once

#include <cstdint>

extern "C" {
/// SMCCC calls: x0 = function id, x1..x3 arguments; returns x0.
int64_t rtos_aarch64_hvc_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
int64_t rtos_aarch64_smc_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
/// Semihosting: operation, pointer to its parameter block; returns x0.
int64_t rtos_aarch64_semihost_call(uint64_t op, const void* params);
extern const char rtos_aarch64_hvc_insn[], rtos_aarch64_smc_insn[], rtos_aarch64_semihost_insn[];
/// Loads the translation registers and turns the MMU and caches on (start.S).
void rtos_aarch64_mmu_on(const void* regs);
}

namespace rtos::arch::aarch64 {

/// MAIR_EL1, TCR_EL1, TTBR0_EL1 and SCTLR_EL1 as mmu.cpp computes them for
/// every core (start.S's rtos_aarch64_mmu_on loads them in this order).
struct MmuRegs {
    uint64_t mair, tcr, ttbr0, sctlr;
};

/// How PSCI is reached. The default follows the exception level the kernel
/// was entered at (QEMU virt: EL1 -> hvc, EL2 -> smc, EL3 -> none, as its
/// device tree's /psci "method" says); the platform layer may override it
/// from the device tree.
enum class PsciConduit { none, hvc, smc };
void set_psci_conduit(PsciConduit conduit);
PsciConduit psci_conduit();

/// PSCI 0.2+ function ids (SMC32 calling convention).
constexpr uint64_t kPsciSystemOff = 0x84000008;
constexpr uint64_t kPsciSystemReset = 0x84000009;
constexpr uint64_t kPsciCpuOn = 0xc4000003;  // SMC64: target MPIDR, entry, context id
constexpr int64_t kPsciNotSupported = -1;
constexpr int64_t kPsciInvalidParameters = -2;
constexpr int64_t kPsciAlreadyOn = -4;
constexpr int64_t kPsciOnPending = -5;

int64_t psci_call(uint64_t fn, uint64_t a1 = 0, uint64_t a2 = 0, uint64_t a3 = 0);

/// Ends QEMU through semihosting SYS_EXIT with `code` as its exit status;
/// returns if semihosting is not enabled.
void semihosting_exit(uint32_t code);

/// Exception level the kernel was entered at (1..3), recorded by start.S.
unsigned boot_el();

}  // namespace rtos::arch::aarch64
