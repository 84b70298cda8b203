// The MMU: one identity map for the whole kernel, built before the caches
// are on (ARM ARM D8, VMSAv8-64 translation with a 4 KiB granule), from the
// board's memory map (board_memory_map, rtos/arch/port.hpp, which the board
// defines in bsp/<board>/board.cpp):
// normal regions are Normal write-back, inner shareable; device regions
// Device-nGnRE, never executable; everything else unmapped (null pointers
// fault).
//
// With CONFIG_RTOS_STACK_GUARD_PAGES the kernel asks for single 4 KiB pages
// to be made inaccessible (set_guard_page, below every thread stack); the
// 2 MiB block holding such a page is split into a level-3 page table then,
// from a small static pool.
//
// 40-bit virtual addresses (T0SZ = 24), so QEMU's PCIe 64-bit window
// (512 GiB - 1 TiB) is reachable: the walk starts at level 0, whose first
// two entries point to 512-entry tables of 1 GiB entries; a GiB the map
// does not cover uniformly goes one level down to 2 MiB blocks.
//
// This runs with the MMU and data cache off, so every store below reaches
// memory directly and no stale cache line can shadow the tables. (On real
// hardware the boot firmware must hand over with the data cache cleaned and
// invalidated; QEMU has no caches to get wrong.) Built with -mstrict-align:
// with the MMU off all data accesses are Device accesses, which must be aligned.
#include <cstdint>

#include <rtos/config.hpp>
#include <rtos/spinlock.hpp>

#include "arch/port.hpp"

#include "firmware.hpp"
#include "sysreg.hpp"

// The translation registers every core loads (start.S, rtos_aarch64_mmu_on):
// written once by the boot core before its MMU is on; secondary cores read
// them before theirs is (CPU_ON's caller cleans them to the point of
// coherency).
extern "C" rtos::arch::aarch64::MmuRegs rtos_aarch64_mmu_regs;
rtos::arch::aarch64::MmuRegs rtos_aarch64_mmu_regs;

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
constexpr uint64_t kT0sz = 64 - 40;
constexpr uint64_t kTcr = kT0sz | (1ull << 8) /* IRGN0 WBWA */ | (1ull << 10) /* ORGN0 WBWA */ |
                          (3ull << 12) /* SH0 inner */ | (0ull << 14) /* TG0 4K */ | (kT0sz << 16) |
                          (1ull << 23) /* EPD1 */;
constexpr unsigned kTcrIpsShift = 32;

// SCTLR_EL1 (ARM ARM D17.2.118): RES1 bits, then MMU, D-cache, SP alignment
// check, I-cache. Little-endian, no alignment faults for normal memory.
constexpr uint64_t kSctlrRes1 = 0x30d00800;
constexpr uint64_t kSctlrM = 1u << 0, kSctlrC = 1u << 2, kSctlrSa = 1u << 3, kSctlrI = 1u << 12;

constexpr unsigned kLevel2Tables = 4;  // GiBs split into 2 MiB blocks

constexpr unsigned kLevel1Tables = 2;  // 2 x 512 GiB: the 40-bit address space
constexpr unsigned kGiBs = kLevel1Tables * kEntries;

alignas(4096) uint64_t level0[kEntries];
alignas(4096) uint64_t level1[kLevel1Tables][kEntries];
alignas(4096) uint64_t level2[kLevel2Tables][kEntries];

// The block descriptor bits for `addr`: the last region that holds it wins; 0 = unmapped.
uint64_t attributes(rtos::arch::MemoryMap map, uint64_t addr) {
    uint64_t attr = 0;
    for (std::size_t i = 0; i < map.count; ++i) {
        const rtos::arch::MemoryRegion& r = map.regions[i];
        if (addr >= r.base && addr - r.base < r.size)
            attr = r.kind == rtos::arch::MemoryRegion::normal ? kNormalBlock : kDeviceBlock;
    }
    return attr;
}

// Whether some region starts or ends strictly inside [base, base + size).
bool boundary_inside(rtos::arch::MemoryMap map, uint64_t base, uint64_t size) {
    for (std::size_t i = 0; i < map.count; ++i) {
        uint64_t start = map.regions[i].base, end = start + map.regions[i].size;
        if ((start > base && start - base < size) || (end > base && end - base < size)) return true;
    }
    return false;
}

#if defined(CONFIG_RTOS_STACK_GUARD_PAGES)
// Level-2/3 tables for splitting blocks at run time: each covers one 2 MiB
// block (or one GiB) that holds a guard page. Stacks come from the kernel
// image and the low end of the first-fit heap, so a few cover them all; when
// the pool is empty a thread just gets no guard page (the canary remains).
constexpr unsigned kSplitTables = 8;
constexpr uint64_t kAddrMask = 0x0000fffffffff000ull;  // output address bits 47:12
// Lock story: the split tables and every descriptor set_guard_page changes
// are under page_table_lock (a leaf of the lock order, rtos/spinlock.hpp).
SpinLock page_table_lock;
alignas(4096) uint64_t split_tables[kSplitTables][kEntries];
unsigned split_used = 0;

// The table below `entry`, which maps `size` bytes; a block is split into a
// table of the same attributes first (pages when `pages`). Null when the
// entry is unmapped or the pool is empty. The block is replaced by the
// equivalent table in one store: QEMU needs no break-before-make for that,
// real cores without FEAT_BBM may want the block split at boot instead.
uint64_t* table_below(uint64_t& entry, uint64_t size, bool pages) {
    if ((entry & 3) == kValidTable) return reinterpret_cast<uint64_t*>(entry & kAddrMask);
    if (!(entry & 1) || split_used == kSplitTables) return nullptr;
    uint64_t* t = split_tables[split_used++];
    uint64_t base = entry & kAddrMask & ~(size - 1), step = size / kEntries;
    uint64_t attr = (entry & ~kAddrMask & ~3ull) | (pages ? 0b11 : kValidBlock);
    for (unsigned j = 0; j < kEntries; ++j) t[j] = (base + j * step) | attr;
    dsb_ish();
    entry = reinterpret_cast<uint64_t>(t) | kValidTable;
    asm volatile("dsb ish\n\ttlbi vmalle1is\n\tdsb ish\n\tisb" ::: "memory");
    return t;
}
#endif

}  // namespace
}  // namespace rtos::arch::aarch64

#if defined(CONFIG_RTOS_STACK_GUARD_PAGES)
// A cleared valid bit keeps the rest of the descriptor, so lifting the guard
// is setting it again.
bool rtos::arch::set_guard_page(void* page, bool guard) {
    using namespace rtos::arch::aarch64;
    auto a = reinterpret_cast<uint64_t>(page);
    if ((a & (kPageSize - 1)) || (a >> 30) >= kGiBs) return false;
    // The tables are every core's: one change at a time, and the TLB
    // invalidation broadcast to the inner-shareable domain (TLBI VAAE1IS,
    // then DSB ISH: complete on every core before we go on; ARM ARM D8.13).
    SpinLockGuard lock(page_table_lock);
    uint64_t* l2 = table_below(level1[a >> 39][(a >> 30) % kEntries], kGiB, false);
    uint64_t* l3 = l2 ? table_below(l2[(a >> 21) % kEntries], kMiB2, true) : nullptr;
    if (l3) {
        uint64_t& pte = l3[(a >> 12) % kEntries];
        pte = guard ? pte & ~1ull : pte | 1;
        asm volatile("dsb ishst\n\ttlbi vaae1is, %0\n\tdsb ish\n\tisb" ::"r"(a >> 12) : "memory");
    }
    return l3 != nullptr;
}
#endif

extern "C" void rtos_aarch64_mmu_init() {
    using namespace rtos::arch::aarch64;
    const rtos::arch::MemoryMap map = rtos::arch::board_memory_map;
    unsigned tables = 0;
    for (unsigned i = 0; i < kGiBs; ++i) {
        uint64_t gib = i * kGiB;
        uint64_t& entry = level1[i / kEntries][i % kEntries];
        if (!boundary_inside(map, gib, kGiB) || tables == kLevel2Tables) {
            uint64_t attr = attributes(map, gib);
            entry = attr ? gib | attr : 0;
            continue;
        }
        uint64_t* table = level2[tables++];
        for (unsigned j = 0; j < kEntries; ++j) {
            uint64_t attr = attributes(map, gib + j * kMiB2);
            table[j] = attr ? (gib + j * kMiB2) | attr : 0;
        }
        entry = reinterpret_cast<uint64_t>(table) | kValidTable;
    }
    for (unsigned k = 0; k < kLevel1Tables; ++k)
        level0[k] = reinterpret_cast<uint64_t>(level1[k]) | kValidTable;

    // The physical address size the CPU supports (ID_AA64MMFR0_EL1.PARange),
    // capped at 48 bits (52 needs other descriptor formats).
    uint64_t parange = read_sysreg(id_aa64mmfr0_el1) & 0xf;
    if (parange > 5) parange = 5;

    rtos_aarch64_mmu_regs = {kMair, kTcr | (parange << kTcrIpsShift),
                             reinterpret_cast<uint64_t>(level0),
                             kSctlrRes1 | kSctlrM | kSctlrC | kSctlrSa | kSctlrI};
    dsb_ish();  // table stores complete before any walk
    rtos_aarch64_mmu_on(&rtos_aarch64_mmu_regs);
}
