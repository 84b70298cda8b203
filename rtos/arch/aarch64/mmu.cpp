// The MMU: one identity map for the whole kernel, built before the caches
// are on (ARM ARM D8, VMSAv8-64 translation with a 4 KiB granule).
//
//   0x0000_0000 .. 0x001f_ffff   unmapped: null pointers fault
//   0x0020_0000 .. 0x3fff_ffff   Device-nGnRE, never executable (GIC, UART,
//                                virtio-mmio, PCIe ECAM and window; 2 MiB blocks)
//   1 GiB .. 256 GiB             Normal write-back, inner shareable (RAM, 1 GiB blocks)
//   256 GiB .. 512 GiB           Device-nGnRE (QEMU virt's high redistributors,
//                                high PCIe ECAM and MMIO)
//
// 39-bit virtual addresses (T0SZ = 25): the walk starts at level 1, one
// 512-entry table of 1 GiB entries; the first GiB goes one level down.
//
// This runs with the MMU and data cache off, so every store below reaches
// memory directly and no stale cache line can shadow the tables. (On real
// hardware the boot firmware must hand over with the data cache cleaned and
// invalidated; QEMU has no caches to get wrong.) Built with -mstrict-align:
// with the MMU off all data accesses are Device accesses, which must be aligned.
#include <cstdint>

#include "sysreg.hpp"

namespace rtos::arch::aarch64 {
namespace {

constexpr unsigned kEntries = 512;
constexpr uint64_t kGiB = 1ull << 30, kMiB2 = 1ull << 21;

// MAIR_EL1 attribute indexes (ARM ARM D17.2.97).
constexpr unsigned kAttrDevice = 0;  // 0x04: Device-nGnRE
constexpr unsigned kAttrNormal = 1;  // 0xff: Normal, inner/outer write-back, read/write-allocate
constexpr uint64_t kMair = (0x04ull << (8 * kAttrDevice)) | (0xffull << (8 * kAttrNormal));

// Stage 1 descriptor bits (ARM ARM D8.3).
constexpr uint64_t kValidBlock = 0b01, kValidTable = 0b11;
constexpr uint64_t kAttrIndx(unsigned i) { return uint64_t{i} << 2; }
constexpr uint64_t kShInner = 3ull << 8;
constexpr uint64_t kAccessFlag = 1ull << 10;
constexpr uint64_t kPxn = 1ull << 53, kUxn = 1ull << 54;

constexpr uint64_t kNormalBlock =
    kValidBlock | kAttrIndx(kAttrNormal) | kShInner | kAccessFlag | kUxn;
constexpr uint64_t kDeviceBlock = kValidBlock | kAttrIndx(kAttrDevice) | kAccessFlag | kPxn | kUxn;

// TCR_EL1 (ARM ARM D17.2.131): TTBR0 walks cacheable write-back, inner
// shareable, 4 KiB granule; TTBR1 walks disabled.
constexpr uint64_t kT0sz = 64 - 39;
constexpr uint64_t kTcr = kT0sz | (1ull << 8) /* IRGN0 WBWA */ | (1ull << 10) /* ORGN0 WBWA */ |
                          (3ull << 12) /* SH0 inner */ | (0ull << 14) /* TG0 4K */ |
                          (kT0sz << 16) | (1ull << 23) /* EPD1 */;
constexpr unsigned kTcrIpsShift = 32;

// SCTLR_EL1 (ARM ARM D17.2.118): RES1 bits, then MMU, D-cache, SP alignment
// check, I-cache. Little-endian, no alignment faults for normal memory.
constexpr uint64_t kSctlrRes1 = 0x30d00800;
constexpr uint64_t kSctlrM = 1u << 0, kSctlrC = 1u << 2, kSctlrSa = 1u << 3, kSctlrI = 1u << 12;

alignas(4096) uint64_t level1[kEntries];
alignas(4096) uint64_t level2_low[kEntries];  // the first GiB, 2 MiB blocks

}  // namespace
}  // namespace rtos::arch::aarch64

extern "C" void rtos_aarch64_mmu_init() {
    using namespace rtos::arch::aarch64;
    level2_low[0] = 0;  // null-pointer guard
    for (unsigned i = 1; i < kEntries; ++i) level2_low[i] = i * kMiB2 | kDeviceBlock;
    level1[0] = reinterpret_cast<uint64_t>(level2_low) | kValidTable;
    for (unsigned i = 1; i < kEntries / 2; ++i) level1[i] = i * kGiB | kNormalBlock;
    for (unsigned i = kEntries / 2; i < kEntries; ++i) level1[i] = i * kGiB | kDeviceBlock;

    // The physical address size the CPU supports (ID_AA64MMFR0_EL1.PARange),
    // capped at 48 bits (52 needs other descriptor formats).
    uint64_t parange = read_sysreg(id_aa64mmfr0_el1) & 0xf;
    if (parange > 5) parange = 5;

    dsb_ish();  // table stores complete before any walk
    write_sysreg(mair_el1, kMair);
    write_sysreg(tcr_el1, kTcr | (parange << kTcrIpsShift));
    write_sysreg(ttbr0_el1, reinterpret_cast<uint64_t>(level1));
    isb();
    asm volatile("tlbi vmalle1\n\tdsb nsh\n\tic iallu\n\tdsb nsh\n\tisb" ::: "memory");
    write_sysreg(sctlr_el1, kSctlrRes1 | kSctlrM | kSctlrC | kSctlrSa | kSctlrI);
    isb();
}
