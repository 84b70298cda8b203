/* Trap entry and exit. The vector table is the image's first 2 KiB
 * (start.S, which also holds the context switch): every exception pushes a TrapFrame
 * (frame.hpp) on the current stack, its slot's stub the first part, and
 * pops it on the way out; the outermost exit first checks the frame against the
 * running thread's stack limit and calls the kernel only when a trap made a
 * thread ready (rtos_cpu_local.switch_pending). A switch there is the same
 * cooperative rtos_arch_switch a thread makes when it blocks or yields, so a
 * preempted thread resumes inside its own trap exit and pops its frame.
 * Handlers run with D, A, I and F masked, as the exception entry leaves them,
 * except that an IRQ handler other than the tick's unmasks IRQs while it
 * runs (port.cpp, run_irq_handler; the model is in arch/port.hpp), so the
 * tick, the only interrupt above the GIC's running priority then, can nest
 * into it. A nested IRQ is taken at EL1 on SP_EL1, the stack in use, and
 * pushes its own frame (with its ELR and SPSR) below the interrupted one;
 * it counts in trap_depth, and its exit (depth still > 0) only
 * pops that frame and returns into the interrupted handler. Handlers return
 * with IRQs masked, so the exit path below runs masked. */
#include "frame_layout.h"

#define CPU_DEPTH   0       /* arch/cpu_local.hpp */
#define CPU_PENDING 4
#define CPU_LIMIT   8

/* Call-frame information (in .debug_frame: nothing is loaded), so gdb
 * unwinds through a trap into the code it interrupted (start.S describes
 * the context switch the same way). A trap frame is described like a signal
 * frame: the CFA is the interrupted sp (sp + FRAME_SIZE), the interrupted
 * pc is the saved ELR (DWARF column 32, the pc, as return-address column)
 * and x0..x21, x28..x30 are read from the frame; x22..x27 are not saved by
 * an IRQ, but the handler keeps them (callee-saved), so "same value" is
 * right. The vector stubs (start.S) are not described. */
#define DWARF_PC    32
    .cfi_sections .debug_frame

    .section .text, "ax"
    .balign 4
    .global rtos_aarch64_trap_entry
rtos_aarch64_trap_entry:
    .cfi_startproc
    .cfi_signal_frame
    .cfi_return_column DWARF_PC
    .cfi_def_cfa sp, FRAME_SIZE
    .cfi_undefined DWARF_PC         /* in ELR_EL1 until stored below */
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x28, x29, [sp, #224]
    add     x1, sp, #FRAME_SIZE
    stp     x30, x1, [sp, #X30_OFF]
    mrs     x1, elr_el1
    mrs     x2, spsr_el1
    stp     x1, x2, [sp, #ELR_OFF]
    .cfi_offset x0, -272
    .cfi_offset x1, -264
    .cfi_offset x2, -256
    .cfi_offset x3, -248
    .cfi_offset x4, -240
    .cfi_offset x5, -232
    .cfi_offset x6, -224
    .cfi_offset x7, -216
    .cfi_offset x8, -208
    .cfi_offset x9, -200
    .cfi_offset x10, -192
    .cfi_offset x11, -184
    .cfi_offset x12, -176
    .cfi_offset x13, -168
    .cfi_offset x14, -160
    .cfi_offset x15, -152
    .cfi_offset x16, -144
    .cfi_offset x17, -136
    .cfi_offset x18, -128
    .cfi_offset x19, -120
    .cfi_offset x20, -112
    .cfi_offset x21, -104
    .cfi_offset x28, -48
    .cfi_offset x29, -40
    .cfi_offset x30, -32
    .cfi_offset DWARF_PC, ELR_OFF - FRAME_SIZE
    /* x22..x27 are callee-saved: the handler keeps them and a switch saves
     * them itself. Only an exception stores them, for the panic report. */
    cmp     x0, #5                  /* IRQ, current EL, SP_EL1 */
    b.eq    1f
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
1:

#if defined(CONFIG_RTOS_SMP)
    mrs     x19, tpidr_el1          /* this core's CpuLocal; callee-saved */
#else
    adrp    x19, rtos_cpu_local     /* callee-saved: kept across the call */
    add     x19, x19, :lo12:rtos_cpu_local
#endif
    ldr     w20, [x19, #CPU_DEPTH]
    add     w20, w20, #1
    str     w20, [x19, #CPU_DEPTH]

    mov     x1, sp                  /* x0 = slot, x1 = frame */
    mov     x29, xzr                /* backtraces stop here */
    bl      rtos_aarch64_trap_handler

    ldr     w20, [x19, #CPU_DEPTH]
    sub     w20, w20, #1
    str     w20, [x19, #CPU_DEPTH]
    cbnz    w20, rtos_aarch64_restore_frame
    ldr     x0, [x19, #CPU_LIMIT]   /* x0..x18 are restored from the frame */
    mov     x1, sp
    cmp     x1, x0
    b.lo    2f
    ldr     w20, [x19, #CPU_PENDING]
    cbz     w20, rtos_aarch64_restore_frame
    bl      rtos_kernel_preempt

/* Pops the frame at sp and returns into it. Interrupts are masked until
 * the eret. */
    .global rtos_aarch64_restore_frame
rtos_aarch64_restore_frame:
    ldp     x0, x1, [sp, #ELR_OFF]
    msr     elr_el1, x0
    msr     spsr_el1, x1
    isb                             /* explicit, though eret synchronises too */
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #X30_OFF]
    ldp     x0, x1, [sp, #0]
    .cfi_remember_state
    add     sp, sp, #FRAME_SIZE
    .cfi_def_cfa_offset 0
    .cfi_restore x0
    .cfi_restore x1
    .cfi_restore x2
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
    .cfi_restore x18
    .cfi_restore x19
    .cfi_restore x20
    .cfi_restore x21
    .cfi_restore x28
    .cfi_restore x29
    .cfi_restore x30
    .cfi_undefined DWARF_PC         /* back in ELR_EL1 */
    eret
    .cfi_restore_state

2:  mov     x0, sp                  /* the frame lies in the guard band */
    bl      rtos_kernel_stack_overflow
    .cfi_endproc
