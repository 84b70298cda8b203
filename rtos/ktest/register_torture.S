/* unsigned long rtos_ktest_register_torture(unsigned long seed, unsigned long spins)
 *
 * For the SMP switch torture (test_smp.cpp): fills every general register
 * the code may use, callee- and caller-saved alike, with a pattern made of
 * `seed` (register n holds seed + n), then spins `spins` times checking
 * that each still holds its pattern. Interrupts, inter-processor
 * interrupts and the context switches they cause (to another CPU, too)
 * come in between: a register that changed means the kernel lost part of
 * a context. Returns 0, or the number of the first register found changed.
 * The stack pointer and the registers the kernel reserves (riscv64 gp, tp)
 * are left alone; one register holds the loop count and one is scratch.
 * The callee-saved registers the pattern overwrites are restored. */

#if defined(__riscv)

/* x10 (a0) seed, x11 (a1) count, x31 (t6) scratch. */
#define PATTERNED 1, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30

    .text
    .balign 4
    .global rtos_ktest_register_torture
rtos_ktest_register_torture:
    addi    sp, sp, -112
    sd      ra, 0(sp)
    sd      s0, 8(sp)
    sd      s1, 16(sp)
    sd      s2, 24(sp)
    sd      s3, 32(sp)
    sd      s4, 40(sp)
    sd      s5, 48(sp)
    sd      s6, 56(sp)
    sd      s7, 64(sp)
    sd      s8, 72(sp)
    sd      s9, 80(sp)
    sd      s10, 88(sp)
    sd      s11, 96(sp)
    .irp    n, PATTERNED
    addi    x\n, a0, \n
    .endr
1:  .irp    n, PATTERNED
    addi    t6, a0, \n
    bne     x\n, t6, 3f
    .endr
    addi    a1, a1, -1
    bnez    a1, 1b
    li      a0, 0
    j       4f
3:  /* which one: compare again, now with the number at hand */
    .irp    n, PATTERNED
    addi    t6, a0, \n
    li      a1, \n
    bne     x\n, t6, 5f
    .endr
    li      a1, 99              /* it changed back meanwhile */
5:  mv      a0, a1
4:  ld      ra, 0(sp)
    ld      s0, 8(sp)
    ld      s1, 16(sp)
    ld      s2, 24(sp)
    ld      s3, 32(sp)
    ld      s4, 40(sp)
    ld      s5, 48(sp)
    ld      s6, 56(sp)
    ld      s7, 64(sp)
    ld      s8, 72(sp)
    ld      s9, 80(sp)
    ld      s10, 88(sp)
    ld      s11, 96(sp)
    addi    sp, sp, 112
    ret

#elif defined(__aarch64__)

/* x0 seed, x1 count, x17 scratch. */
#define PATTERNED 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30

    .text
    .balign 4
    .global rtos_ktest_register_torture
rtos_ktest_register_torture:
    stp     x29, x30, [sp, #-96]!
    stp     x19, x20, [sp, #16]
    stp     x21, x22, [sp, #32]
    stp     x23, x24, [sp, #48]
    stp     x25, x26, [sp, #64]
    stp     x27, x28, [sp, #80]
    .irp    n, PATTERNED
    add     x\n, x0, #\n
    .endr
1:  .irp    n, PATTERNED
    add     x17, x0, #\n
    cmp     x\n, x17
    b.ne    3f
    .endr
    subs    x1, x1, #1
    b.ne    1b
    mov     x0, #0
    b       4f
3:  .irp    n, PATTERNED
    add     x17, x0, #\n
    mov     x1, #\n
    cmp     x\n, x17
    b.ne    5f
    .endr
    mov     x1, #99             /* it changed back meanwhile */
5:  mov     x0, x1
4:  ldp     x19, x20, [sp, #16]
    ldp     x21, x22, [sp, #32]
    ldp     x23, x24, [sp, #48]
    ldp     x25, x26, [sp, #64]
    ldp     x27, x28, [sp, #80]
    ldp     x29, x30, [sp], #96
    ret

#endif
