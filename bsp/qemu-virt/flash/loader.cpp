// The flash loader's C++ part, run from flash by <arch>.S beside it
// with a stack in RAM and the MMU off: picks a slot, keeps slot B's boot
// counter in pflash unit 1, copies the kernel to its load address.
//
// Slot B (an update) is tried while it has been booted fewer than kMaxTries
// times without its kernel confirming it (bsp/qemu-virt/flash_boot.cpp);
// each try is recorded before the jump, so a kernel that hangs or dies counts.
// After kMaxTries unconfirmed tries the loader records the fallback and boots
// slot A from then on. Without a boot state in unit 1 (no magic) or without a
// valid slot B, slot A boots. A slot B whose CRC-32 is wrong is never started.
//
// Position-independent: PC-relative addressing only (-fno-jump-tables), no
// data or bss (the loader runs from read-only flash).
#include <rtos/crc32.hpp>
#include <rtos/config.hpp>

#include "layout.hpp"
#if defined(CONFIG_DRIVER_NS16550)
#include "drivers/serial/ns16550_regs.hpp"
#else
#include "drivers/serial/pl011_regs.hpp"
#endif

namespace {

using namespace rtos::flash_layout;

// The board's console UART at its fallback address, polled.
void putc(char c) {
#if defined(CONFIG_DRIVER_NS16550)
    rtos::drivers::ns16550::put_polled(CONFIG_PLATFORM_UART_BASE, 0, c);
#else
    rtos::drivers::pl011::put_polled(CONFIG_PLATFORM_UART_BASE, c);
#endif
}

void puts(const char* s) {
    while (*s) putc(*s++);
}

const ImageHeader* valid_header(uintptr_t flash, uint64_t at, bool check_crc) {
    const auto* h = reinterpret_cast<const ImageHeader*>(flash + at);
    if (h->magic != kImageMagic || h->version != kImageVersion) return nullptr;
    if (h->offset < at + sizeof(ImageHeader) || h->size > h->flash_size ||
        h->offset > h->flash_size - h->size)
        return nullptr;
    if (check_crc &&
        rtos::crc32(0, reinterpret_cast<const void*>(flash + h->offset), h->size) != h->crc32)
        return nullptr;
    return h;
}

}  // namespace

// Returns the header of the slot to boot (its kernel already copied), or
// null when there is nothing to boot.
extern "C" const ImageHeader* tern_flash_loader(uintptr_t flash) {
    const ImageHeader* a = valid_header(flash, kSlotAHeader, false);
    if (!a) {
        puts("flash: no Tern image at offset 0x1000 (write flash.img with scons ... flash)\r\n");
        return nullptr;
    }
    const ImageHeader* boot = a;
    const ImageHeader* b = valid_header(flash, a->flash_size / 2, true);
    auto& state = *reinterpret_cast<volatile BootState*>(flash + a->flash_size);
    if (b && state.magic == kStateMagic && state.fallback != kSet) {
        if (state.confirmed == kSet) {
            puts("flash: slot B (confirmed)\r\n");
            boot = b;
        } else if (unsigned n = tries_used(state); n < kMaxTries) {
            cfi_program(state.tries[n], kSet);
            puts("flash: slot B, try ");
            putc(static_cast<char>('1' + n));
            puts(" of 3\r\n");
            boot = b;
        } else {
            cfi_program(state.fallback, kSet);
            puts("flash: slot B failed 3 tries, falling back to slot A\r\n");
        }
    } else if (b && state.magic == kStateMagic) {
        puts("flash: slot A (slot B failed)\r\n");
    } else if (!b && valid_header(flash, a->flash_size / 2, false)) {
        puts("flash: slot A (slot B's CRC-32 is wrong)\r\n");
    } else {
        puts("flash: slot A\r\n");
    }
    const auto* src = reinterpret_cast<const uint64_t*>(flash + boot->offset);
    auto* dst = reinterpret_cast<uint64_t*>(uintptr_t{CONFIG_PLATFORM_KERNEL_BASE});
    for (uint64_t i = 0; i < boot->size / 8; ++i) dst[i] = src[i];
    return boot;
}
