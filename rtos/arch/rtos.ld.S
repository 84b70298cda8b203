/* One linker script for every port, preprocessed with the build's autoconf.h.
 * The image starts with its entry code (.text.boot): QEMU's riscv64 loader
 * enters an ELF at its lowest loaded address, and QEMU's aarch64 loader and
 * the flash loader jump to the first byte of rtos.bin. On aarch64 that is
 * the 2 KiB-aligned exception vector table, whose first slot is the entry
 * (start.S), so the table costs no alignment padding. Written data starts on its own 4 KiB page,
 * away from code (TCG retranslates pages that are written). */
#if defined(CONFIG_ARCH_RISCV64)
OUTPUT_ARCH(riscv)
#elif defined(CONFIG_ARCH_AARCH64)
OUTPUT_ARCH(aarch64)
#endif
ENTRY(_start)

PHDRS
{
    text PT_LOAD FLAGS(5);
    rodata PT_LOAD FLAGS(4);
    data PT_LOAD FLAGS(6);
}

SECTIONS
{
    . = CONFIG_PLATFORM_KERNEL_BASE;
    __image_start = .;

    .text : {
        KEEP(*(.text.boot))
        *(.text .text.*)
    } :text

    . = ALIGN(4096);
    .rodata : {
        *(.rodata .rodata.*)
        *(.srodata .srodata.*)
        . = ALIGN(8);
        __rtos_init_start = .;
        KEEP(*(SORT(.rtos_init.*)))
        __rtos_init_end = .;
        . = ALIGN(8);
        __shell_commands_start = .;
        KEEP(*(.rtos_shell_commands))
        __shell_commands_end = .;
        . = ALIGN(8);
        __virtio_drivers_start = .;
        KEEP(*(.rtos_virtio_drivers))
        __virtio_drivers_end = .;
        . = ALIGN(8);
        __pci_drivers_start = .;
        KEEP(*(.rtos_pci_drivers))
        __pci_drivers_end = .;
        . = ALIGN(8);
        __board_drivers_start = .;
        KEEP(*(.rtos_board_drivers))
        __board_drivers_end = .;
        . = ALIGN(8);
        __ktests_start = .;
        KEEP(*(.rtos_ktests))
        __ktests_end = .;
        . = ALIGN(8);
        __benchmarks_start = .;
        KEEP(*(.rtos_benchmarks))
        __benchmarks_end = .;
        . = ALIGN(8);
        __smp_switch_start = .;
        KEEP(*(.rtos_smp_switch))
        __smp_switch_end = .;
        . = ALIGN(8);
        __init_array_start = .;
        KEEP(*(SORT(.init_array.*)))
        KEEP(*(.init_array))
        __init_array_end = .;
    } :rodata

    . = ALIGN(4096);
    .data : {
        __data_start = .;
        *(.data .data.*)
        *(.sdata .sdata.*)
    } :data

    .bss (NOLOAD) : ALIGN(16) {
        __bss_start = .;
        *(.sbss .sbss.*)
        *(.bss .bss.*)
        *(COMMON)
        . = ALIGN(16);
        __bss_end = .;
    } :data

    .boot_stack (NOLOAD) : ALIGN(4096) {
        __boot_stack_bottom = .;
        . += 16384;
        __boot_stack_top = .;
    } :data

    . = ALIGN(4096);
    __image_end = .;

    ASSERT(_start == __image_start, "the image must start with its entry, _start (.text.boot)")

    /DISCARD/ : {
        *(.comment) *(.note*) *(.eh_frame*) *(.riscv.attributes) *(.interp) *(.dynamic)
    }
}
