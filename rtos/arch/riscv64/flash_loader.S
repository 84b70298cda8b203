/* riscv64 flash loader: the first code of a QEMU pflash image (flash.img,
 * tools/flash_image.py). QEMU 7.2's virt machine with a pflash unit 0 makes
 * its reset vector jump to the flash base (0x20000000) instead of to the
 * firmware, in M-mode, with a0 = hart id, a1 = device tree and a2 = its
 * fw_dynamic_info (next_addr 0: no kernel). OpenSBI (fw_dynamic, -bios
 * default) is still loaded at the start of RAM. So the loader copies the
 * kernel to its link address and enters OpenSBI with a fw_dynamic_info of
 * its own that names the kernel: the kernel starts in S-mode with a0 = hart
 * id, a1 = device tree and SBI available, exactly as with -kernel.
 *
 * Position-independent (PC-relative only): it runs wherever the flash is. */
#define IMG_HEADER   0x1000      /* tools/flash_image.py: header offset */
#define IMG_MAGIC    0x00676d496e726554  /* "TernImg\0" */
#define FW_DYN_MAGIC 0x4942534f  /* "OSBI" */
#define FW_DYN_NEXT_MODE_S 1

    .section .text, "ax"
    .global _start
_start:
    lla     t0, _start
    li      t1, IMG_HEADER
    add     t0, t0, t1
    ld      t1, 0(t0)
    li      t2, IMG_MAGIC
    bne     t1, t2, .Lbad
    ld      t3, 8(t0)               /* kernel size (a multiple of 16) */
    ld      t4, 24(t0)              /* kernel offset in the flash */
    lla     t5, _start
    add     t5, t5, t4
    li      t6, CONFIG_PLATFORM_KERNEL_BASE
    add     t3, t3, t6
1:  bgeu    t6, t3, 2f
    ld      t1, 0(t5)
    sd      t1, 0(t6)
    addi    t5, t5, 8
    addi    t6, t6, 8
    j       1b
2:  fence.i
    lla     a2, .Lfw_dynamic_info   /* a0, a1 as the reset vector left them */
    li      t0, CONFIG_PLATFORM_RAM_BASE
    jr      t0

.Lbad:                              /* no image: say so on the UART (NS16550) */
    li      t0, CONFIG_PLATFORM_UART_BASE
    lla     t1, .Lmsg
3:  lbu     t2, 0(t1)
    beqz    t2, 5f
4:  lbu     t3, 5(t0)               /* LSR: THRE */
    andi    t3, t3, 0x20
    beqz    t3, 4b
    sb      t2, 0(t0)
    addi    t1, t1, 1
    j       3b
5:  wfi
    j       5b

    .balign 8
.Lfw_dynamic_info:                  /* OpenSBI's struct fw_dynamic_info, version 2 */
    .dword  FW_DYN_MAGIC
    .dword  2                       /* version */
    .dword  CONFIG_PLATFORM_KERNEL_BASE  /* next_addr */
    .dword  FW_DYN_NEXT_MODE_S      /* next_mode */
    .dword  0                       /* options */
    .dword  -1                      /* boot_hart: any (lottery) */
.Lmsg:
    .asciz  "flash: no Tern image at offset 0x1000 (write flash.img with scons ... flash)\r\n"
