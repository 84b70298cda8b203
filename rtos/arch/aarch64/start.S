/* aarch64 entry: QEMU's -kernel loader jumps here (ELF entry) on CPU 0 with
 * the MMU off, at EL1, EL2 (virtualization=on) or EL3 (secure=on).
 *
 *  1. park every CPU but the one with affinity 0.0.0.0;
 *  2. drop to EL1 if entered higher (EL2: non-secure EL1; EL3: secure EL1,
 *     since there is no monitor to hand the GIC's secure setup to);
 *  3. clear .bss, take the boot stack, install the vectors;
 *  4. turn on the MMU and caches (mmu.cpp), then rtos_kernel_main(x0).
 *
 * x0 at entry is what the boot loader passed: QEMU's ELF boot passes 0 and
 * puts the device tree at the start of RAM (0x40000000, below the kernel;
 * the platform layer looks for it there); the Linux-style boot of rtos.bin
 * passes the device tree's address. */

#define SCTLR_EL1_RES1   0x30d00800   /* RES1 bits; MMU, caches, alignment off */
#define HCR_EL2_RW       (1 << 31)    /* EL1 is AArch64 */
#define HCR_EL2_HCD      (1 << 29)    /* hvc at EL1 is undefined (nothing at EL2) */
#define SCR_EL3_RW       (1 << 10)    /* EL1/EL2 are AArch64 */
#define SCR_EL3_SMD      (1 << 7)     /* smc is undefined (nothing at EL3) */
#define CNTHCTL_EL1PCEN  3            /* EL1 may use the physical counter and timer */
#define CPTR_EL2_RES1    0x33ff       /* no FP/SIMD/SVE traps to EL2 */
#define SPSR_EL1H_MASKED 0x3c5        /* EL1h, D A I F masked */
#define ICC_SRE_EN_ALL   0xf          /* SRE, DFB, DIB, Enable (lower ELs may use SRE) */

    .section .text.boot, "ax"
    .global _start
_start:
    /* arm64 Linux Image header (Documentation/arch/arm64/booting.rst), so
     * that rtos.bin also boots with -kernel: QEMU then loads it text_offset
     * above the start of RAM (= CONFIG_PLATFORM_KERNEL_BASE) and passes the
     * device tree in x0. For the ELF the header is just a branch. */
    b       .Lentry                 /* code0 */
    .long   0                       /* code1 */
    .quad   CONFIG_PLATFORM_KERNEL_BASE - CONFIG_PLATFORM_RAM_BASE  /* text_offset */
    .quad   __image_end - . + 16    /* image_size: __image_end - _start */
    .quad   0                       /* flags: little-endian */
    .quad   0, 0, 0                 /* res2..res4 */
    .ascii  "ARM\x64"               /* magic */
    .long   0                       /* res5 */

.Lentry:
    mov     x19, x0                 /* boot argument, kept until rtos_kernel_main */

    mrs     x1, mpidr_el1
    mov     x2, #0x00ffffff
    orr     x2, x2, #0xff00000000   /* Aff3..Aff0 */
    tst     x1, x2
    b.ne    .Lpark

    mrs     x20, CurrentEL
    lsr     x20, x20, #2
    and     x20, x20, #3            /* x20 = boot exception level */
    cmp     x20, #3
    b.eq    .Lfrom_el3
    cmp     x20, #2
    b.eq    .Lfrom_el2
    b       .Lat_el1

.Lfrom_el3:
    mov     x1, #(SCR_EL3_RW | SCR_EL3_SMD)   /* NS = 0: secure EL1 */
    msr     scr_el3, x1
    msr     cptr_el3, xzr
    mrs     x1, id_aa64pfr0_el1
    ubfx    x1, x1, #24, #4         /* GIC system register interface present? */
    cbz     x1, 1f
    mov     x1, #ICC_SRE_EN_ALL
    msr     icc_sre_el3, x1
    isb
1:  ldr     x1, =SCTLR_EL1_RES1
    msr     sctlr_el1, x1
    mov     x1, #SPSR_EL1H_MASKED
    msr     spsr_el3, x1
    adr     x1, .Lat_el1
    msr     elr_el3, x1
    isb
    eret

.Lfrom_el2:
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
1:  ldr     x1, =SCTLR_EL1_RES1
    msr     sctlr_el1, x1
    mov     x1, #SPSR_EL1H_MASKED
    msr     spsr_el2, x1
    adr     x1, .Lat_el1
    msr     elr_el2, x1
    isb
    eret

.Lat_el1:
    msr     daifset, #0xf
    msr     spsel, #1               /* one stack pointer for everything: SP_EL1 */
    msr     cpacr_el1, xzr          /* FPEN = 0: FP/SIMD use traps. The kernel is */
    isb                             /* built -mgeneral-regs-only and the context */
                                    /* switch saves no FP state: any use is a bug */

    ldr     x1, =__bss_start
    ldr     x2, =__bss_end
1:  cmp     x1, x2
    b.hs    2f
    stp     xzr, xzr, [x1], #16
    b       1b
2:
    ldr     x1, =__boot_stack_top
    mov     sp, x1
    mov     x29, xzr
    mov     x30, xzr

    ldr     x1, =rtos_aarch64_vectors
    msr     vbar_el1, x1
    isb

    ldr     x1, =rtos_aarch64_boot_el
    str     w20, [x1]

    bl      rtos_aarch64_mmu_init
    mov     x0, x19
    bl      rtos_kernel_main
.Lpark:
    wfe
    b       .Lpark
    .ltorg
