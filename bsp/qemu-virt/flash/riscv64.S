/* riscv64 flash loader entry: the first code of a QEMU pflash image
 * (flash.img; layout in bsp/qemu-virt/flash/layout.hpp). QEMU 7.2's
 * virt machine with a pflash unit 0 makes its reset vector jump to the flash
 * base (0x20000000) instead of to the firmware, in M-mode, with a0 = hart
 * id, a1 = device tree and a2 = its fw_dynamic_info (next_addr 0: no
 * kernel). OpenSBI (fw_dynamic, -bios default) is still loaded at the start
 * of RAM. So the loader (loader.cpp) picks a slot and copies
 * its kernel to its link address, and this entry enters OpenSBI with a
 * fw_dynamic_info of its own that names the kernel: the kernel starts in
 * S-mode with a0 = hart id, a1 = device tree and SBI available, exactly as
 * with -kernel.
 *
 * Position-independent (PC-relative only): it runs wherever the flash is. */
#define FW_DYN_MAGIC 0x4942534f  /* "OSBI" */
#define FW_DYN_NEXT_MODE_S 1
#define LOADER_STACK (CONFIG_PLATFORM_KERNEL_BASE + 0x1000000)  /* above any kernel image */

    .section .text.entry, "ax"
    .global _start
_start:
    mv      s0, a0
    mv      s1, a1
    li      sp, LOADER_STACK
    lla     a0, _start              /* the flash base */
    call    tern_flash_loader
    beqz    a0, 1f
    fence.i
    mv      a0, s0
    mv      a1, s1
    lla     a2, .Lfw_dynamic_info
    li      t0, CONFIG_PLATFORM_RAM_BASE
    jr      t0
1:  wfi                             /* nothing to boot (the loader said so) */
    j       1b

    .balign 8
.Lfw_dynamic_info:                  /* OpenSBI's struct fw_dynamic_info, version 2 */
    .dword  FW_DYN_MAGIC
    .dword  2                       /* version */
    .dword  CONFIG_PLATFORM_KERNEL_BASE  /* next_addr */
    .dword  FW_DYN_NEXT_MODE_S      /* next_mode */
    .dword  0                       /* options */
    .dword  -1                      /* boot_hart: any (lottery) */
