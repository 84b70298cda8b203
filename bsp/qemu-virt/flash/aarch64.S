/* aarch64 flash loader entry: the first code of a QEMU pflash image
 * (flash.img; layout in bsp/qemu-virt/flash/layout.hpp). With a pflash
 * unit 0 and no -kernel, QEMU's virt machine starts the CPU at the flash
 * base (0x0) with the MMU off: at EL1, at EL2 with virtualization=on, at EL3
 * with secure=on (then unit 0 is the secure flash). QEMU puts the device
 * tree at the start of RAM and passes nothing in a register. This entry
 * parks every CPU but 0.0.0.0; the loader (loader.cpp)
 * picks a slot and copies its kernel to its link address; the kernel is
 * entered as a Linux-style boot loader does: x0 = device tree, at the
 * exception level the CPU started at (start.S drops to EL1 itself).
 *
 * Position-independent (PC-relative only): it runs wherever the flash is. */
#define LOADER_STACK (CONFIG_PLATFORM_KERNEL_BASE + 0x1000000)  /* above any kernel image */

    .section .text.entry, "ax"
    .global _start
_start:
    mrs     x1, mpidr_el1
    mov     x2, #0x00ffffff
    orr     x2, x2, #0xff00000000   /* Aff3..Aff0 */
    tst     x1, x2
    b.ne    .Lpark

    ldr     x1, =LOADER_STACK
    mov     sp, x1
    adr     x0, _start              /* the flash base */
    bl      tern_flash_loader
    cbz     x0, .Lpark              /* nothing to boot (the loader said so) */
    dsb     sy
    ic      iallu
    dsb     sy
    isb
    ldr     x0, =CONFIG_PLATFORM_RAM_BASE   /* the device tree QEMU put there */
    mov     x1, xzr
    mov     x2, xzr
    mov     x3, xzr
    ldr     x4, =CONFIG_PLATFORM_KERNEL_BASE
    br      x4
.Lpark:
    wfe
    b       .Lpark
    .ltorg
