/* Trap entry and exit, and the context switch. Every trap pushes a TrapFrame
 * (frame.hpp) on the current stack and pops it on the way out; the outermost
 * exit first checks the frame against the running thread's stack limit and
 * calls the kernel only when a trap made a thread ready
 * (rtos_cpu_local.switch_pending). A switch there is the same cooperative
 * rtos_arch_switch a thread makes when it blocks or yields, so a preempted
 * thread resumes inside its own trap exit and pops its frame.
 *
 * Traps nest (arch/port.hpp): the timer may interrupt an external or
 * software interrupt handler, which runs with sstatus.SIE set. The nested
 * trap pushes its frame below the interrupted handler's on the same stack,
 * with its own sepc and sstatus, and counts in trap_depth. The handler
 * returns with SIE clear, so the depth update and the frame restore below
 * cannot be interrupted; a nested exit (depth still > 0) only pops its
 * frame and returns into the interrupted handler. */
#define FRAME_SIZE 272
#define SEPC_OFF   248
#define SSTATUS_OFF 256
#define CPU_DEPTH   0       /* arch/cpu_local.hpp */
#define CPU_PENDING 4
#define CPU_LIMIT   8
#define SWITCH_SIZE 112     /* ra, s0..s11, padding to 16 bytes */

    .section .text
    .balign 4
    .global rtos_riscv_trap_entry
rtos_riscv_trap_entry:
    addi    sp, sp, -FRAME_SIZE
    sd      x1, 0(sp)
    sd      x3, 16(sp)
    sd      x4, 24(sp)
    sd      x5, 32(sp)
    sd      x6, 40(sp)
    sd      x7, 48(sp)
    sd      x8, 56(sp)
    sd      x9, 64(sp)
    sd      x10, 72(sp)
    sd      x11, 80(sp)
    sd      x12, 88(sp)
    sd      x13, 96(sp)
    sd      x14, 104(sp)
    sd      x15, 112(sp)
    sd      x16, 120(sp)
    sd      x17, 128(sp)
    sd      x28, 216(sp)
    sd      x29, 224(sp)
    sd      x30, 232(sp)
    sd      x31, 240(sp)
    addi    t0, sp, FRAME_SIZE
    sd      t0, 8(sp)                   /* sp before the trap */
    csrr    t0, sepc
    sd      t0, SEPC_OFF(sp)
    csrr    t0, sstatus
    sd      t0, SSTATUS_OFF(sp)
    /* s2..s11 are callee-saved: the handler keeps them and a switch saves
     * them itself. Only an exception stores them, for the panic report. */
    csrr    t0, scause
    bltz    t0, 1f
    sd      x18, 136(sp)
    sd      x19, 144(sp)
    sd      x20, 152(sp)
    sd      x21, 160(sp)
    sd      x22, 168(sp)
    sd      x23, 176(sp)
    sd      x24, 184(sp)
    sd      x25, 192(sp)
    sd      x26, 200(sp)
    sd      x27, 208(sp)
1:

    la      s1, rtos_cpu_local          /* callee-saved: kept across the call */
    lw      t2, CPU_DEPTH(s1)
    addi    t2, t2, 1
    sw      t2, CPU_DEPTH(s1)

    mv      a0, sp
    call    rtos_riscv_trap_handler

    lw      t2, CPU_DEPTH(s1)
    addi    t2, t2, -1
    sw      t2, CPU_DEPTH(s1)
    bnez    t2, rtos_riscv_restore_frame
    ld      t2, CPU_LIMIT(s1)
    bltu    sp, t2, 2f
    lw      t2, CPU_PENDING(s1)
    beqz    t2, rtos_riscv_restore_frame
    call    rtos_kernel_preempt

rtos_riscv_restore_frame:
    ld      t0, SEPC_OFF(sp)
    csrw    sepc, t0
    ld      t0, SSTATUS_OFF(sp)
    csrw    sstatus, t0
    ld      x1, 0(sp)
    ld      x3, 16(sp)
    ld      x4, 24(sp)
    ld      x6, 40(sp)
    ld      x7, 48(sp)
    ld      x8, 56(sp)
    ld      x9, 64(sp)
    ld      x10, 72(sp)
    ld      x11, 80(sp)
    ld      x12, 88(sp)
    ld      x13, 96(sp)
    ld      x14, 104(sp)
    ld      x15, 112(sp)
    ld      x16, 120(sp)
    ld      x17, 128(sp)
    ld      x28, 216(sp)
    ld      x29, 224(sp)
    ld      x30, 232(sp)
    ld      x31, 240(sp)
    ld      x5, 32(sp)
    addi    sp, sp, FRAME_SIZE
    sret

2:  mv      a0, sp                      /* the frame lies in the guard band */
    call    rtos_kernel_stack_overflow

/* void rtos_arch_switch(void** save_sp, void* next_sp), interrupts masked. */
    .global rtos_arch_switch
rtos_arch_switch:
    addi    sp, sp, -SWITCH_SIZE
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
    sd      sp, 0(a0)
    mv      sp, a1
    .global rtos_riscv_resume
rtos_riscv_resume:
    ld      ra, 0(sp)
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
    addi    sp, sp, SWITCH_SIZE
    ret

/* First run of a thread (init_stack): s1 = entry, s2 = arg, s3 = exit
 * function. Interrupts on, frame pointer 0 (ends backtraces). */
    .global rtos_riscv_thread_start
rtos_riscv_thread_start:
    csrsi   sstatus, 2
    li      s0, 0
    mv      a0, s2
    mv      ra, s3
    jr      s1
