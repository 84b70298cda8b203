// The layout of Tern's QEMU pflash images, shared by the flash loader
// (loader.cpp beside it), the kernel's boot confirmation
// (bsp/qemu-virt/flash_boot.cpp) and tools/flash_image.py.
//
// pflash unit 0 (flash.img, read-only to the guest):
//   0x0                the loader; the CPU (aarch64) or QEMU's reset vector (riscv64) starts it
//   0x1000             slot A: header, kernel at header + 0x1000
//   flash_size / 2     slot B (optional, an update): header, kernel at header + 0x1000
// pflash unit 1 (flash-state.img, written by the loader and the kernel
// through CFI commands): the boot state of slot B, one 32-bit word per flag
// (0xffffffff erased = not set, 0 = set, so no erase is ever needed).
#pragma once

#include <cstdint>

namespace rtos::flash_layout {

constexpr uint64_t kImageMagic = 0x00676d496e726554ull;  // "TernImg\0"
constexpr uint32_t kImageVersion = 1;
constexpr uint64_t kSlotAHeader = 0x1000;
constexpr uint64_t kKernelAfterHeader = 0x1000;

struct ImageHeader {
    uint64_t magic;
    uint64_t size;   // kernel bytes, a multiple of 16
    uint32_t crc32;  // of the kernel bytes (zlib.crc32)
    uint32_t version;
    uint64_t offset;      // of the kernel, from the flash base
    uint64_t load;        // load (and entry) address
    uint64_t flash_size;  // the pflash unit size: slot B is at half of it, unit 1 after it
};

constexpr uint64_t kStateMagic = 0x317473426e726554ull;  // "TernBst1"
constexpr unsigned kMaxTries = 3;

struct BootState {
    uint64_t magic;
    uint32_t tries[kMaxTries];  // one word set by the loader per boot of slot B
    uint32_t fallback;          // set by the loader: slot B failed kMaxTries boots, slot A runs
    uint32_t confirmed;         // set by the kernel of slot B once it is up: slot B is good
};

constexpr uint32_t kSet = 0, kErased = 0xffffffffu;

/// Programs one 32-bit word of a CFI flash (Intel command set, QEMU's
/// pflash_cfi01) and returns the flash to read-array mode. Programming only
/// clears bits: a flag goes from kErased to kSet without an erase.
inline void cfi_program(volatile uint32_t& w, uint32_t value) {
    w = 0x40;  // word program
    w = value;
    for (int i = 0; i < 1000000 && !(w & 0x80); ++i) {  // status: ready
    }
    w = 0x50;  // clear status
    w = 0xff;  // read array
}

inline unsigned tries_used(const volatile BootState& s) {
    unsigned n = 0;
    while (n < kMaxTries && s.tries[n] == kSet) ++n;
    return n;
}

}  // namespace rtos::flash_layout
