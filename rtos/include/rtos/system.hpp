// System information and machine control for applications and the shell:
// a consistent snapshot of every thread, the architecture's name, power-off
// and reset. Nothing here exposes the scheduler's internals.
#pragma once

#include <cstddef>
#include <cstdint>

#include "thread.hpp"

namespace rtos::system {

/// One thread as a snapshot saw it.
struct ThreadInfo {
    const char* name;
    ThreadState state;
    unsigned priority;  ///< effective (may be raised by priority inheritance)
    unsigned base_priority;
    std::size_t stack_used;  ///< high-water mark
    std::size_t stack_size;
    uint64_t cpu_time;  ///< counter ticks spent running, the running thread's slice included
    unsigned cpu;       ///< the CPU it runs on, or last ran on (rtos/smp.hpp)
};

struct Snapshot {
    std::size_t total;   ///< threads that exist (may exceed what fitted in the array)
    std::size_t stored;  ///< entries written
    uint64_t counter;    ///< the free-running counter when the snapshot was taken
};

/// Copies up to `max` threads into `out`, all under the kernel lock so the
/// rows are consistent with each other. With CONFIG_RTOS_STACK_GUARD_CHECK it
/// also runs the full guard-band scan of every thread (a broken band panics,
/// naming the thread).
Snapshot threads(ThreadInfo* out, std::size_t max);

/// Counter ticks per second (the unit of ThreadInfo::cpu_time).
uint64_t counter_frequency();

/// "riscv64", "aarch64".
const char* arch_name();

/// QEMU exits with status 0.
[[noreturn]] void poweroff();
[[noreturn]] void reboot();

}  // namespace rtos::system
