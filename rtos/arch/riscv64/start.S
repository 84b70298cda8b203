/* riscv64 entry from OpenSBI: S-mode, a0 = hart id, a1 = device tree. With
 * several harts OpenSBI starts one, whichever wins its boot lottery (not
 * necessarily hart 0), and keeps the others stopped until the kernel starts
 * them through the SBI HSM extension (port.cpp, start_cpu), here too. */
#define CPU_EXCEPTION_STACK 32      /* arch/cpu_local.hpp (SMP) */
#define CPU_HW_ID 96                /* arch/cpu_local.hpp (SMP), checked in port.cpp */
#define CPU_LOCAL_SIZE 152          /* sizeof(CpuLocal) (SMP), checked in port.cpp */

    .section .text.boot, "ax"
    .global _start
_start:
    csrw    sie, zero
    csrci   sstatus, 2                  /* SIE off until the scheduler starts */
    la      t0, rtos_riscv_trap_entry
    csrw    stvec, t0                   /* direct mode: one entry for all traps */
#if defined(CONFIG_RTOS_SMP)
    /* Every hart enters here: the first is the boot hart (it claims
     * rtos_riscv_boot_hart, in .data, ~0 until then; OpenSBI lets one hart
     * in, and starts no other before the kernel asks), any later one a
     * secondary the kernel started. OpenSBI v1.1's hart_start marks the hart
     * START_PENDING before it stores the start address and opaque value, so
     * a hart that reaches its HSM wait in between jumps to the firmware's
     * default next address, this entry, with a1 = the device tree: a
     * secondary is told apart here, and a1 is never trusted. */
    la      t0, rtos_riscv_boot_hart
    ld      t1, 0(t0)
    addi    t1, t1, 1
    bnez    t1, secondary               /* claimed: the kernel runs */
    sd      a0, 0(t0)
#endif
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
#if defined(CONFIG_RTOS_SMP)
    la      tp, rtos_cpu_locals         /* logical CPU 0: this hart, whatever its id */
#else
    la      t0, rtos_riscv_boot_hart
    sd      s1, 0(t0)
#endif
    mv      a0, s0
    call    rtos_kernel_main
3:  wfi
    j       3b

#if defined(CONFIG_RTOS_SMP)
/* A secondary hart: S-mode, satp 0, SIE clear (SBI spec v2.0, 9.1), a0 = its
 * hart id. Its CpuLocal
 * is the one start_cpu prepared for this hart id (hw_id, and the boot stack
 * in exception_stack, ordered before the hart_start call by its fence); a
 * hart no CpuLocal names parks. */
secondary:
    la      tp, rtos_cpu_locals
    li      t1, CONFIG_RTOS_MAX_CPUS - 1
4:  beqz    t1, 6f
    addi    tp, tp, CPU_LOCAL_SIZE      /* slot 0 is the boot CPU's */
    addi    t1, t1, -1
    ld      t0, CPU_HW_ID(tp)
    bne     t0, a0, 4b
    ld      sp, CPU_EXCEPTION_STACK(tp)
    beqz    sp, 4b                      /* not started: a slot left over */
    call    rtos_kernel_cpu_entry
6:  wfi
    j       6b
#endif
