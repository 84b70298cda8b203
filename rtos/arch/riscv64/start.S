/* riscv64 entry from OpenSBI: S-mode, a0 = hart id, a1 = device tree. With
 * several harts OpenSBI starts one, whichever wins its boot lottery (not
 * necessarily hart 0), and keeps the others stopped until the kernel starts
 * them through the SBI HSM extension (rtos_riscv_secondary_entry). */
#define CPU_EXCEPTION_STACK 32      /* arch/cpu_local.hpp (SMP) */

    .section .text.boot, "ax"
    .global _start
_start:
    csrw    sie, zero
    csrci   sstatus, 2                  /* SIE off until the scheduler starts */
    la      t0, rtos_riscv_trap_entry
    csrw    stvec, t0                   /* direct mode: one entry for all traps */
    la      sp, __boot_stack_top
    mv      s0, a1
    mv      s1, a0
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:
    la      t0, rtos_riscv_boot_hart
    sd      s1, 0(t0)
#if defined(CONFIG_RTOS_SMP)
    la      tp, rtos_cpu_locals         /* logical CPU 0: this hart, whatever its id */
#endif
    mv      a0, s0
    call    rtos_kernel_main
3:  wfi
    j       3b

#if defined(CONFIG_RTOS_SMP)
/* A secondary hart started by SBI HSM hart_start (port.cpp, start_cpu):
 * S-mode, satp 0, a0 = hart id, a1 = the opaque value, here its CpuLocal,
 * which holds its boot stack (CpuLocal::exception_stack). SIE is clear
 * (SBI spec v2.0, 9.1: sstatus.SIE = 0 at entry). */
    .text
    .global rtos_riscv_secondary_entry
rtos_riscv_secondary_entry:
    csrw    sie, zero
    csrci   sstatus, 2
    la      t0, rtos_riscv_trap_entry
    csrw    stvec, t0
    mv      tp, a1
    ld      sp, CPU_EXCEPTION_STACK(tp)
    call    rtos_kernel_cpu_entry
1:  wfi
    j       1b
#endif
