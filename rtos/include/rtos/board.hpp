// What the kernel needs from the board: implemented once, for every QEMU
// virt board, in bsp/qemu-virt/ from the device tree, with the fixed facts
// of each board in bsp/<board>/board.cpp. The ports call no board code: the
// board hands them what they need through rtos/arch/port.hpp.
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

}  // namespace rtos::board
