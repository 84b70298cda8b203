/* The first 2 KiB of the aarch64 image: the exception vector table, whose
 * slot 0 is also the image header and the entry, and whose slots' unused
 * tails hold the boot code and the context switch.
 *
 * Layout. VBAR_EL1 needs a 2 KiB-aligned table of 16 slots of 128 bytes.
 * At the image start (2 MiB-aligned) the table costs no alignment padding,
 * and the space a slot's 16-byte stub leaves (112 bytes) is not padding
 * either: the boot code, which runs once, is split across those tails, and
 * the context switch and a thread's first instructions fill another.
 * SLOT's .org fails the build if a tail overruns its slot.
 *
 * Entry. QEMU's -kernel loader jumps to the image's first byte (rtos.bin)
 * or to the ELF entry (_start, the same address); the flash loader
 * (flash_loader.S) jumps to CONFIG_PLATFORM_KERNEL_BASE, the same address
 * again. Always CPU 0, the MMU off, at EL1, EL2 (virtualization=on) or EL3
 * (secure=on). Slot 0 is also the vector "current EL with SP_EL0,
 * synchronous", which this kernel never takes: it selects SP_EL1 before it
 * installs VBAR_EL1. Should it be taken anyway (a corrupt SPSR), the MMU is
 * on by then, and slot 0 panics like every other unexpected vector instead
 * of booting again.
 *
 * Boot: park every CPU but the one with affinity 0.0.0.0; drop to EL1 if
 * entered higher (EL2: non-secure EL1; EL3: secure EL1, since there is no
 * monitor to hand the GIC's secure setup to); clear .bss, take the boot
 * stack, install the vectors; turn on the MMU and caches (mmu.cpp), then
 * rtos_kernel_main(x0). x0 at entry is what the boot loader passed: QEMU's
 * ELF boot passes 0 and puts the device tree at the start of RAM
 * (0x40000000, below the kernel; the platform layer looks for it there);
 * the Linux-style boot of rtos.bin passes the device tree's address. */
#include "frame_layout.h"

#define SCTLR_EL1_RES1   0x30d00800   /* RES1 bits; MMU, caches, alignment off */
#define SCTLR_M          0            /* bit: MMU on */
#define HCR_EL2_RW       (1 << 31)    /* EL1 is AArch64 */
#define HCR_EL2_HCD      (1 << 29)    /* hvc at EL1 is undefined (nothing at EL2) */
#define SCR_EL3_RW       (1 << 10)    /* EL1/EL2 are AArch64 */
#define SCR_EL3_SMD      (1 << 7)     /* smc is undefined (nothing at EL3) */
#define CNTHCTL_EL1PCEN  3            /* EL1 may use the physical counter and timer */
#define CPTR_EL2_RES1    0x33ff       /* no FP/SIMD/SVE traps to EL2 */
#define SPSR_EL1H_MASKED 0x3c5        /* EL1h, D A I F masked */
#define ICC_SRE_EN_ALL   0xf          /* SRE, DFB, DIB, Enable (lower ELs may use SRE) */
#define CPU_EXCEPTION_STACK 32        /* arch/cpu_local.hpp (SMP) */

/* Call-frame information for the context switch, as in vectors.S: gdb
 * unwinds through a switch into the code that switched. */
    .cfi_sections .debug_frame

/* Starts slot n (a local symbol names it in disassembly and backtraces);
 * an error if the previous slot's code overran it. */
.macro SLOT n
    .org    rtos_aarch64_vectors + \n * 128
rtos_aarch64_vector_\n\():
.endm

/* The stub of slot n: make room for a TrapFrame, free x0/x1, say which
 * slot it was (TrapKind, frame.hpp), then the common entry (vectors.S). */
.macro STUB n
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x0, #\n
    b       rtos_aarch64_trap_entry
.endm

.macro VECTOR n
    SLOT    \n
    STUB    \n
.endm

    .section .text.boot, "ax"
    .balign 2048
    .global _start
    .global rtos_aarch64_vectors
_start:
rtos_aarch64_vectors:
    /* Slot 0: an arm64 Linux Image header (Documentation/arch/arm64/
     * booting.rst), so that rtos.bin also boots with -kernel: QEMU then
     * loads it text_offset above the start of RAM (= CONFIG_PLATFORM_
     * KERNEL_BASE) and passes the device tree in x0. For the ELF the header
     * is just a branch. */
    b       .Lslot0                 /* code0 */
    .long   0                       /* code1 */
    .quad   CONFIG_PLATFORM_KERNEL_BASE - CONFIG_PLATFORM_RAM_BASE  /* text_offset */
    .quad   __image_end - . + 16    /* image_size: __image_end - _start */
    .quad   0                       /* flags: little-endian */
    .quad   0, 0, 0                 /* res2..res4 */
    .ascii  "ARM\x64"               /* magic */
    .long   0                       /* res5 */
.Lslot0:
    msr     tpidr_el0, x0           /* scratch (nothing runs at EL0); TPIDR_EL1 is the CpuLocal */
    mrs     x0, sctlr_el1
    tbz     x0, #SCTLR_M, rtos_aarch64_boot
    mrs     x0, tpidr_el0           /* an exception: the stub of slot 0 */
    STUB    0

    VECTOR  1                       /* current EL, SP_EL0: irq */
rtos_aarch64_boot:
    mrs     x19, tpidr_el0          /* boot argument (x0), kept until rtos_kernel_main */
    mrs     x1, mpidr_el1
    mov     x2, #0x00ffffff
    orr     x2, x2, #0xff00000000   /* Aff3..Aff0 */
    tst     x1, x2
    b.ne    .Lpark
    mov     x1, #(SCTLR_EL1_RES1 & 0xffff)  /* a known EL1 state at every EL */
    movk    x1, #(SCTLR_EL1_RES1 >> 16), lsl #16
    msr     sctlr_el1, x1
    mrs     x20, CurrentEL
    ubfx    x20, x20, #2, #2        /* x20 = boot exception level */
    adr     x22, rtos_aarch64_boot_el1  /* where EL2/EL3 set-up returns to, at EL1 */
    cmp     x20, #2
    b.hi    rtos_aarch64_boot_el3
    b.eq    rtos_aarch64_boot_el2
    b       rtos_aarch64_boot_el1
.Lpark:
    wfi                             /* masked: forever (QEMU halts the vCPU) */
    b       .Lpark

    VECTOR  2                       /* fiq */
rtos_aarch64_boot_el3:
    mov     x1, #(SCR_EL3_RW | SCR_EL3_SMD)   /* NS = 0: secure EL1 */
    msr     scr_el3, x1
    msr     cptr_el3, xzr
    mrs     x1, id_aa64pfr0_el1
    ubfx    x1, x1, #24, #4         /* GIC system register interface present? */
    cbz     x1, 1f
    mov     x1, #ICC_SRE_EN_ALL
    msr     icc_sre_el3, x1
    isb
1:  mov     x1, #SPSR_EL1H_MASKED
    msr     spsr_el3, x1
    msr     elr_el3, x22
    isb
    eret

    VECTOR  3                       /* serror */
rtos_aarch64_boot_el2:
    mov     x1, #(HCR_EL2_RW | HCR_EL2_HCD)
    msr     hcr_el2, x1
    mov     x1, #CNTHCTL_EL1PCEN
    msr     cnthctl_el2, x1
    msr     cntvoff_el2, xzr
    mrs     x1, midr_el1
    msr     vpidr_el2, x1
    mrs     x1, mpidr_el1
    msr     vmpidr_el2, x1
    mov     x1, #CPTR_EL2_RES1
    msr     cptr_el2, x1
    msr     hstr_el2, xzr
    mrs     x1, id_aa64pfr0_el1
    ubfx    x1, x1, #24, #4
    cbz     x1, 1f
    mrs     x1, icc_sre_el2
    orr     x1, x1, #ICC_SRE_EN_ALL
    msr     icc_sre_el2, x1
    isb
1:  mov     x1, #SPSR_EL1H_MASKED
    msr     spsr_el2, x1
    msr     elr_el2, x22
    isb
    eret

    SLOT    4                       /* current EL, SP_EL1 (ours): sync */
#if defined(CONFIG_RTOS_STACK_GUARD_PAGES)
    /* A data abort may be a guard-page hit with sp in the guard page: it
     * runs on this CPU's abort stack (x0 parked in TPIDR_EL0, the faulting
     * sp in SP_EL0, both unused otherwise; port.cpp puts that sp in the
     * frame). SMP: the stack is CpuLocal::exception_stack. */
    msr     tpidr_el0, x0
    mrs     x0, esr_el1
    ubfx    x0, x0, #26, #6
    cmp     x0, #0x25               /* EC: data abort, current EL */
    b.ne    1f
    mov     x0, sp
    msr     sp_el0, x0
#if defined(CONFIG_RTOS_SMP)
    mrs     x0, tpidr_el1
    ldr     x0, [x0, #CPU_EXCEPTION_STACK]
    mov     sp, x0
#else
    adrp    x0, rtos_aarch64_abort_stack_top
    add     sp, x0, :lo12:rtos_aarch64_abort_stack_top
#endif
1:  mrs     x0, tpidr_el0
#endif
    STUB    4

    VECTOR  5                       /* irq */
rtos_aarch64_boot_el1:
    msr     daifset, #0xf
    msr     spsel, #1               /* one stack pointer for everything: SP_EL1 */
    msr     cpacr_el1, xzr          /* FPEN = 0: FP/SIMD use traps. The kernel is */
    isb                             /* built -mgeneral-regs-only and the context */
                                    /* switch saves no FP state: any use is a bug */
    adrp    x1, __bss_start         /* PC-relative: the image runs where it is linked */
    add     x1, x1, :lo12:__bss_start
    adrp    x2, __bss_end
    add     x2, x2, :lo12:__bss_end
    b       2f
1:  stp     xzr, xzr, [x1], #16
2:  cmp     x1, x2
    b.lo    1b
    adrp    x1, __boot_stack_top
    add     sp, x1, :lo12:__boot_stack_top
    mov     x29, xzr
    mov     x30, xzr

    adr     x1, rtos_aarch64_vectors
    msr     vbar_el1, x1
    isb

    adrp    x1, rtos_aarch64_boot_el
    str     w20, [x1, :lo12:rtos_aarch64_boot_el]
#if defined(CONFIG_RTOS_SMP)
    bl      rtos_aarch64_boot_cpu_local
#endif
    bl      rtos_aarch64_mmu_init
    mov     x0, x19
    bl      rtos_kernel_main
    b       .Lpark

    VECTOR  6                       /* fiq */
/* void rtos_arch_switch(void** save_sp, void* next_sp), interrupts masked. */
    .global rtos_arch_switch
rtos_arch_switch:
    .cfi_startproc
    sub     sp, sp, #SWITCH_SIZE
    .cfi_def_cfa_offset SWITCH_SIZE
    stp     x19, x20, [sp, #0]
    stp     x21, x22, [sp, #16]
    stp     x23, x24, [sp, #32]
    stp     x25, x26, [sp, #48]
    stp     x27, x28, [sp, #64]
    stp     x29, x30, [sp, #80]
    /* From here on the frame described is the one at sp: the new thread's
     * after the mov (gdb's `tern bt` starts a sleeping thread's backtrace at
     * rtos_aarch64_resume with its saved sp). */
    .cfi_offset x19, -96
    .cfi_offset x20, -88
    .cfi_offset x21, -80
    .cfi_offset x22, -72
    .cfi_offset x23, -64
    .cfi_offset x24, -56
    .cfi_offset x25, -48
    .cfi_offset x26, -40
    .cfi_offset x27, -32
    .cfi_offset x28, -24
    .cfi_offset x29, -16
    .cfi_offset x30, -8
    mov     x2, sp
    str     x2, [x0]
    mov     sp, x1
    .global rtos_aarch64_resume
rtos_aarch64_resume:
    ldp     x19, x20, [sp, #0]
    ldp     x21, x22, [sp, #16]
    ldp     x23, x24, [sp, #32]
    ldp     x25, x26, [sp, #48]
    ldp     x27, x28, [sp, #64]
    ldp     x29, x30, [sp, #80]
    add     sp, sp, #SWITCH_SIZE
    .cfi_def_cfa_offset 0
    .cfi_restore x19
    .cfi_restore x20
    .cfi_restore x21
    .cfi_restore x22
    .cfi_restore x23
    .cfi_restore x24
    .cfi_restore x25
    .cfi_restore x26
    .cfi_restore x27
    .cfi_restore x28
    .cfi_restore x29
    .cfi_restore x30
    ret
    .cfi_endproc

/* First run of a thread (init_stack): x19 = entry, x20 = arg, x21 = exit
 * function, x29 = 0 (ends backtraces). Interrupts on. The entry is called,
 * not jumped to, so a debugger's backtrace ends here (x30 undefined) instead
 * of running into the exit function. */
    .global rtos_aarch64_thread_start
rtos_aarch64_thread_start:
    .cfi_startproc
    .cfi_undefined x30              /* the first frame of a thread */
#if defined(CONFIG_RTOS_SMP)
    bl      rtos_kernel_thread_entry    /* releases the kernel lock (x19..x21 kept) */
#endif
    msr     daifclr, #3
    mov     x0, x20
    blr     x19
    br      x21                     /* x21 kept by the entry (callee-saved) */
    .cfi_endproc

    VECTOR  7                       /* serror */
    VECTOR  8                       /* lower EL, AArch64 */
    VECTOR  9
    VECTOR  10
    VECTOR  11
    VECTOR  12                      /* lower EL, AArch32 */
    VECTOR  13
    VECTOR  14
    VECTOR  15

#if defined(CONFIG_RTOS_STACK_GUARD_PAGES) || defined(CONFIG_RTOS_SMP)
    .section .bss, "aw", %nobits
    .balign 16
rtos_aarch64_abort_stack:           /* the boot CPU's (SMP: CpuLocal::exception_stack) */
    .space  4096
rtos_aarch64_abort_stack_top:
#endif

#if defined(CONFIG_RTOS_SMP)
/* The boot core is logical CPU 0 whatever its MPIDR: TPIDR_EL1 points to
 * its CpuLocal, whose exception stack is the static abort stack. */
    .text
rtos_aarch64_boot_cpu_local:
    adrp    x0, rtos_cpu_locals
    add     x0, x0, :lo12:rtos_cpu_locals
    msr     tpidr_el1, x0
    adrp    x1, rtos_aarch64_abort_stack_top
    add     x1, x1, :lo12:rtos_aarch64_abort_stack_top
    str     x1, [x0, #CPU_EXCEPTION_STACK]
    ret

/* A secondary core started by PSCI CPU_ON (port.cpp, start_cpu): MMU and
 * caches off, x0 = the context id, here its CpuLocal, at the exception
 * level of the caller (EL1; EL2 is handled too, as at boot). The boot core
 * cleaned what is read here before the MMU is on (the CpuLocal and
 * rtos_aarch64_mmu_regs) to the point of coherency. Nothing touches the
 * stack before the MMU is on: with it off, stores bypass the caches, which
 * may hold stale copies of that memory. */
    .text
    .global rtos_aarch64_secondary_entry
rtos_aarch64_secondary_entry:
    mov     x19, x0
    mov     x1, #(SCTLR_EL1_RES1 & 0xffff)
    movk    x1, #(SCTLR_EL1_RES1 >> 16), lsl #16
    msr     sctlr_el1, x1
    mrs     x20, CurrentEL
    ubfx    x20, x20, #2, #2
    adr     x22, 1f
    cmp     x20, #2
    b.hi    rtos_aarch64_boot_el3
    b.eq    rtos_aarch64_boot_el2
1:  msr     daifset, #0xf
    msr     spsel, #1
    msr     cpacr_el1, xzr          /* FP/SIMD traps, as on the boot core */
    adr     x1, rtos_aarch64_vectors
    msr     vbar_el1, x1
    msr     tpidr_el1, x19
    isb
    adrp    x0, rtos_aarch64_mmu_regs
    add     x0, x0, :lo12:rtos_aarch64_mmu_regs
    bl      rtos_aarch64_mmu_on
    ldr     x1, [x19, #CPU_EXCEPTION_STACK]
    mov     sp, x1
    mov     x29, xzr
    mov     x30, xzr
    bl      rtos_kernel_cpu_entry
2:  wfi
    b       2b
#endif

/* void rtos_aarch64_mmu_on(const MmuRegs* regs): MAIR, TCR, TTBR0, then the
 * MMU and caches (SCTLR_EL1), as mmu.cpp computed them (ARM ARM D8: the
 * TLB and instruction cache invalidated before the MMU is turned on). No
 * stack: secondary cores call it before theirs is usable. */
    .text
    .global rtos_aarch64_mmu_on
rtos_aarch64_mmu_on:
    ldp     x1, x2, [x0]
    ldp     x3, x4, [x0, #16]
    msr     mair_el1, x1
    msr     tcr_el1, x2
    msr     ttbr0_el1, x3
    isb
    tlbi    vmalle1
    dsb     nsh
    ic      iallu
    dsb     nsh
    isb
    msr     sctlr_el1, x4
    isb
    ret
