/* Trap entry and exit, and the context switch. Every trap pushes a TrapFrame
 * (frame.hpp) on the current stack and pops it on the way out; the outermost
 * exit first checks the frame against the running thread's stack limit and
 * calls the kernel only when a trap made a thread ready
 * (rtos_cpu_local.switch_pending). A switch there is the same cooperative
 * rtos_arch_switch a thread makes when it blocks or yields, so a preempted
 * thread resumes inside its own trap exit and pops its frame.
 *
 * SMP: s1 below is this hart's CpuLocal, from tp (arch/cpu_local.hpp). tp
 * is never restored from a frame: a preempted thread may resume on another
 * hart, whose tp must stay.
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

/* Call-frame information (in .debug_frame: nothing is loaded), so gdb
 * unwinds through a trap into the code it interrupted and through a switch
 * into the code that switched. A trap frame is described like a signal
 * frame: the CFA is the interrupted sp (sp + FRAME_SIZE), the interrupted
 * pc is the saved sepc (DWARF column 4096 + CSR number, the return-address
 * column here) and ra, s0, s1 and the other saved registers are read from
 * the frame; s2..s11 are not saved by an interrupt, but the handler keeps
 * them (callee-saved), so their rule "same value" is right. */
#define DWARF_SEPC  (4096 + 0x141)
    .cfi_sections .debug_frame

    .section .text
    .balign 4
    .global rtos_riscv_trap_entry
rtos_riscv_trap_entry:
    .cfi_startproc
    .cfi_signal_frame
    .cfi_return_column DWARF_SEPC
    .cfi_undefined DWARF_SEPC       /* in the CSR until stored below */
    addi    sp, sp, -FRAME_SIZE
    .cfi_def_cfa_offset FRAME_SIZE
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
    /* x1, x3..x17, x28..x31 (what every trap saves) */
    .cfi_rel_offset x1, 0
    .cfi_rel_offset x3, 16
    .cfi_rel_offset x4, 24
    .cfi_rel_offset x5, 32
    .cfi_rel_offset x6, 40
    .cfi_rel_offset x7, 48
    .cfi_rel_offset x8, 56
    .cfi_rel_offset x9, 64
    .cfi_rel_offset x10, 72
    .cfi_rel_offset x11, 80
    .cfi_rel_offset x12, 88
    .cfi_rel_offset x13, 96
    .cfi_rel_offset x14, 104
    .cfi_rel_offset x15, 112
    .cfi_rel_offset x16, 120
    .cfi_rel_offset x17, 128
    .cfi_rel_offset x28, 216
    .cfi_rel_offset x29, 224
    .cfi_rel_offset x30, 232
    .cfi_rel_offset x31, 240
    addi    t0, sp, FRAME_SIZE
    sd      t0, 8(sp)                   /* sp before the trap */
    csrr    t0, sepc
    sd      t0, SEPC_OFF(sp)
    .cfi_rel_offset DWARF_SEPC, SEPC_OFF
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

#if defined(CONFIG_RTOS_SMP)
    mv      s1, tp                      /* this hart's CpuLocal; callee-saved */
#else
    la      s1, rtos_cpu_local          /* callee-saved: kept across the call */
#endif
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
#if !defined(CONFIG_RTOS_SMP)
    ld      x4, 24(sp)
#endif
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
    .cfi_remember_state
    addi    sp, sp, FRAME_SIZE
    .cfi_def_cfa_offset 0
    .cfi_restore x1
    .cfi_restore x3
    .cfi_restore x4
    .cfi_restore x5
    .cfi_restore x6
    .cfi_restore x7
    .cfi_restore x8
    .cfi_restore x9
    .cfi_restore x10
    .cfi_restore x11
    .cfi_restore x12
    .cfi_restore x13
    .cfi_restore x14
    .cfi_restore x15
    .cfi_restore x16
    .cfi_restore x17
    .cfi_restore x28
    .cfi_restore x29
    .cfi_restore x30
    .cfi_restore x31
    .cfi_undefined DWARF_SEPC       /* back in the CSR */
    sret
    .cfi_restore_state

2:  mv      a0, sp                      /* the frame lies in the guard band */
    call    rtos_kernel_stack_overflow
    .cfi_endproc

/* void rtos_arch_switch(void** save_sp, void* next_sp), interrupts masked. */
    .global rtos_arch_switch
rtos_arch_switch:
    .cfi_startproc
    addi    sp, sp, -SWITCH_SIZE
    .cfi_def_cfa_offset SWITCH_SIZE
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
    /* From here on the frame described is the one at sp: the new thread's
     * after the mv (gdb's `tern bt` starts a sleeping thread's backtrace at
     * rtos_riscv_resume with its saved sp). */
    .cfi_rel_offset ra, 0
    .cfi_rel_offset s0, 8
    .cfi_rel_offset s1, 16
    .cfi_rel_offset s2, 24
    .cfi_rel_offset s3, 32
    .cfi_rel_offset s4, 40
    .cfi_rel_offset s5, 48
    .cfi_rel_offset s6, 56
    .cfi_rel_offset s7, 64
    .cfi_rel_offset s8, 72
    .cfi_rel_offset s9, 80
    .cfi_rel_offset s10, 88
    .cfi_rel_offset s11, 96
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
    .cfi_def_cfa_offset 0
    .cfi_restore ra
    .cfi_restore s0
    .cfi_restore s1
    .cfi_restore s2
    .cfi_restore s3
    .cfi_restore s4
    .cfi_restore s5
    .cfi_restore s6
    .cfi_restore s7
    .cfi_restore s8
    .cfi_restore s9
    .cfi_restore s10
    .cfi_restore s11
    ret
    .cfi_endproc

/* First run of a thread (init_stack): s1 = entry, s2 = arg, s3 = exit
 * function. Interrupts on, frame pointer 0 (ends backtraces). The entry is
 * called, not jumped to, so a debugger's backtrace ends here (ra undefined)
 * instead of running into the exit function. */
    .global rtos_riscv_thread_start
rtos_riscv_thread_start:
    .cfi_startproc
    .cfi_undefined ra               /* the first frame of a thread */
#if defined(CONFIG_RTOS_SMP)
    call    rtos_kernel_thread_entry    /* releases the kernel lock (s1..s3 kept) */
#endif
    csrsi   sstatus, 2
    li      s0, 0
    mv      a0, s2
    jalr    s1
    jr      s3                      /* s3 kept by the entry (callee-saved) */
    .cfi_endproc
