// What the kernel and the ports need from the board: implemented once, for
// every QEMU virt board, in components/platform/ from the device tree, with
// the fixed facts of each board in bsp/<board>/board.cpp.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtos::board {

struct MemoryRange {
    uintptr_t base;
    std::size_t size;
};

/// Console output works after this (polled UART at its fallback address):
/// the boot banner comes right after.
void early_init();
/// Device tree, interrupt controller, console input. `boot_arg` is what the
/// boot loader passed (device tree address, or 0).
void init(uintptr_t boot_arg);
/// RAM left free for the heap once the image and the device tree are excluded.
MemoryRange heap_range();
/// Total RAM as found at boot.
MemoryRange ram();
/// The CPUs the board has (device tree /cpus: enabled cpu nodes, in tree
/// order): their hardware ids (riscv64: hart id; aarch64: MPIDR affinity),
/// at most `max` of them. Returns how many; 0 without a device tree (the
/// boot CPU alone then).
std::size_t cpu_ids(uint64_t* out, std::size_t max);

/// Ends the machine with `status` through a board device (QEMU's test
/// finisher) when one was found; returns when there is none. The ports'
/// fail_exit() try it before their own means.
void exit(int status);
/// Set by the driver of such a device when it binds.
using ExitHandler = void (*)(int status);
void set_exit_handler(ExitHandler handler);

/// The board's fixed physical memory map, for a port that builds page
/// tables before anything else runs (aarch64): addresses in no region stay
/// unmapped; where regions overlap the later one wins. Defined in
/// bsp/<board>/board.cpp by the boards whose port needs it.
struct MemoryRegion {
    enum Kind : uint8_t { normal, device };
    uint64_t base;
    uint64_t size;
    Kind kind;  ///< normal: RAM may be here (cacheable); device: MMIO
};
struct MemoryMap {
    const MemoryRegion* regions;
    std::size_t count;
};
MemoryMap memory_map();

}  // namespace rtos::board
