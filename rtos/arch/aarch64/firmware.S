/* Calls into firmware and the debugger: PSCI through hvc or smc (SMC
 * Calling Convention: function id in x0, arguments in x1..x3, result in
 * x0) and Arm semihosting (operation in w0, parameter block in x1).
 *
 * Each trapping instruction has a global label: when nothing is there to
 * answer (no EL2/EL3 PSCI, QEMU without semihosting) the instruction is
 * undefined, and the sync handler (port.cpp) resumes after it with
 * x0 = -1 instead of panicking. */
    .section .text, "ax"
    .balign 4

    .global rtos_aarch64_hvc_call
    .global rtos_aarch64_hvc_insn
rtos_aarch64_hvc_call:
rtos_aarch64_hvc_insn:
    hvc     #0
    ret

    .global rtos_aarch64_smc_call
    .global rtos_aarch64_smc_insn
rtos_aarch64_smc_call:
rtos_aarch64_smc_insn:
    smc     #0
    ret

    .global rtos_aarch64_semihost_call
    .global rtos_aarch64_semihost_insn
rtos_aarch64_semihost_call:
rtos_aarch64_semihost_insn:
    hlt     #0xf000
    ret
