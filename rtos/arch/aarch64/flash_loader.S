/* aarch64 flash loader: the first code of a QEMU pflash image (flash.img,
 * tools/flash_image.py). With a pflash unit 0 and no -kernel, QEMU's virt
 * machine starts the CPU at the flash base (0x0) with the MMU off: at EL1,
 * at EL2 with virtualization=on, at EL3 with secure=on (then unit 0 is the
 * secure flash). QEMU puts the device tree at the start of RAM and passes
 * nothing in a register. The loader parks every CPU but 0.0.0.0, copies
 * the kernel to its link address and enters it as a Linux-style boot loader
 * does: x0 = device tree, at the exception level it was started at
 * (start.S drops to EL1 itself).
 *
 * Position-independent (PC-relative only): it runs wherever the flash is. */
#define IMG_HEADER   0x1000      /* tools/flash_image.py: header offset */
#define IMG_MAGIC    0x00676d496e726554  /* "TernImg\0" */

    .section .text, "ax"
    .global _start
_start:
    mrs     x1, mpidr_el1
    mov     x2, #0x00ffffff
    orr     x2, x2, #0xff00000000   /* Aff3..Aff0 */
    tst     x1, x2
    b.ne    .Lpark

    adr     x0, _start
    add     x0, x0, #IMG_HEADER
    ldr     x1, [x0]
    ldr     x2, =IMG_MAGIC
    cmp     x1, x2
    b.ne    .Lbad
    ldr     x3, [x0, #8]            /* kernel size (a multiple of 16) */
    ldr     x4, [x0, #24]           /* kernel offset in the flash */
    adr     x5, _start
    add     x5, x5, x4
    ldr     x6, =CONFIG_PLATFORM_KERNEL_BASE
    add     x3, x3, x6
1:  cmp     x6, x3
    b.hs    2f
    ldp     x7, x8, [x5], #16
    stp     x7, x8, [x6], #16
    b       1b
2:  dsb     sy
    ic      iallu
    dsb     sy
    isb
    ldr     x0, =CONFIG_PLATFORM_RAM_BASE   /* the device tree QEMU put there */
    mov     x1, xzr
    mov     x2, xzr
    mov     x3, xzr
    ldr     x4, =CONFIG_PLATFORM_KERNEL_BASE
    br      x4

.Lbad:                              /* no image: say so on the UART (PL011) */
    ldr     x0, =CONFIG_PLATFORM_UART_BASE
    adr     x1, .Lmsg
3:  ldrb    w2, [x1], #1
    cbz     w2, .Lpark
4:  ldr     w3, [x0, #0x18]         /* FR: TXFF */
    tbnz    w3, #5, 4b
    str     w2, [x0]
    b       3b
.Lpark:
    wfe
    b       .Lpark
    .ltorg
.Lmsg:
    .asciz  "flash: no Tern image at offset 0x1000 (write flash.img with scons ... flash)\r\n"
