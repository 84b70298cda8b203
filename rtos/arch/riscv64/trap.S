/* Trap entry and exit. Every trap pushes a TrapFrame (frame.hpp) on the
 * current stack; the outermost exit asks the kernel which stack to resume
 * (rtos_kernel_switch_context) and pops that thread's frame.
 *
 * Traps nest (arch/port.hpp): the timer may interrupt an external or
 * software interrupt handler, which runs with sstatus.SIE set. The nested
 * trap pushes its frame below the interrupted handler's on the same stack,
 * with its own sepc and sstatus, and counts in rtos_riscv_trap_depth. The
 * handler returns with SIE clear, so the depth update and the frame restore
 * below cannot be interrupted; a nested exit (depth still > 0) only pops its
 * frame and returns into the interrupted handler. */
#define FRAME_SIZE 272
#define SEPC_OFF   248
#define SSTATUS_OFF 256

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

    la      t1, rtos_riscv_trap_depth
    lw      t2, 0(t1)
    addi    t2, t2, 1
    sw      t2, 0(t1)

    mv      a0, sp
    call    rtos_riscv_trap_handler

    la      t1, rtos_riscv_trap_depth
    lw      t2, 0(t1)
    addi    t2, t2, -1
    sw      t2, 0(t1)
    bnez    t2, rtos_riscv_restore_frame
    mv      a0, sp
    call    rtos_kernel_switch_context
    mv      sp, a0

    .global rtos_riscv_restore_frame
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
    ld      x18, 136(sp)
    ld      x19, 144(sp)
    ld      x20, 152(sp)
    ld      x21, 160(sp)
    ld      x22, 168(sp)
    ld      x23, 176(sp)
    ld      x24, 184(sp)
    ld      x25, 192(sp)
    ld      x26, 200(sp)
    ld      x27, 208(sp)
    ld      x28, 216(sp)
    ld      x29, 224(sp)
    ld      x30, 232(sp)
    ld      x31, 240(sp)
    ld      x5, 32(sp)
    addi    sp, sp, FRAME_SIZE
    sret
