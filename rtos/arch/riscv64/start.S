/* riscv64 entry from OpenSBI: S-mode, a0 = hart id, a1 = device tree. */
    .section .text.boot, "ax"
    .global _start
_start:
    csrw    sie, zero
    csrci   sstatus, 2                  /* SIE off until the scheduler starts */
    la      t0, rtos_riscv_trap_entry
    csrw    stvec, t0                   /* direct mode: one entry for all traps */
    la      sp, __boot_stack_top
    mv      s0, a1
    la      t0, __bss_start
    la      t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  mv      a0, s0
    call    rtos_kernel_main
3:  wfi
    j       3b
