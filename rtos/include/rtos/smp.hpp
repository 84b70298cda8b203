// CPUs (docs/smp.md): which one the caller runs on, how many are online,
// and the masks that say where a thread may run (Thread::set_affinity).
// Logical CPU 0 is the boot CPU whatever its hardware id; CPUs 1..N-1 are
// the others the device tree lists, in its order. With CONFIG_RTOS_SMP=n
// there is one CPU, number 0.
#pragma once

#include <rtos/config.hpp>

#include <cstddef>
#include <cstdint>

#include <rtos/arch_cpu.hpp>

namespace rtos {

#if defined(CONFIG_RTOS_SMP)
constexpr unsigned kMaxCpus = CONFIG_RTOS_MAX_CPUS;
#else
constexpr unsigned kMaxCpus = 1;
#endif

/// One bit per logical CPU (bit n: CPU n).
using CpuMask = uint32_t;
constexpr CpuMask cpu_mask(unsigned cpu) { return CpuMask{1} << cpu; }
/// Every CPU there may be.
constexpr CpuMask kAllCpus = (CpuMask{1} << kMaxCpus) - 1;

namespace smp {
/// Whether more than one CPU may be running: false until the boot CPU
/// starts a second one, then true for good (rtos/kernel/smp.cpp). Until
/// then SpinLock::lock() and unlock() do nothing (rtos/spinlock.hpp), and
/// the kernel takes its single-CPU paths.
///
/// Each use is one instruction in the code, a no-op that falls through to
/// the single-CPU path, listed in the section .rtos_smp_switch. The boot
/// CPU rewrites them all into branches to the multi-CPU path before it
/// starts another CPU (arch::patch_branch; a CPU booted alone never
/// does): in thread context, outside every critical section, with no
/// other CPU running, so each section is entered and left in one mode.
/// Booted with one CPU the SMP kernel then costs a no-op per decision.
[[gnu::always_inline]] inline bool active() {
#if defined(CONFIG_RTOS_SMP)
    asm goto(
#if defined(__riscv)
        ".option push\n\t.option norvc\n"
        "1:\tnop\n\t"
        ".option pop\n\t"
#else
        "1:\tnop\n\t"
#endif
        // "?": in the section group of the code around it, so the entry of
        // an inline function's discarded COMDAT copy is discarded with it.
        ".pushsection .rtos_smp_switch, \"a?\"\n\t"
        ".balign 8\n\t"
        ".quad 1b, %l[multi]\n\t"
        ".popsection" :: ::multi);
    return false;
multi:
    return true;
#else
    return false;
#endif
}

/// The CPU the caller runs on. A thread may move to another CPU at any
/// moment unless it is pinned (or has interrupts masked): the answer can be
/// stale by the time it is used.
inline unsigned cpu_id() {
#if defined(CONFIG_RTOS_SMP)
    arch::IrqState s = arch::irq_save();
    unsigned id = arch::this_cpu().id;
    arch::irq_restore(s);
    return id;
#else
    return 0;
#endif
}
/// cpu_id() for a caller that has interrupts masked already (an interrupt
/// handler, an interrupt controller's claim and complete): the same
/// answer without masking them again, and it cannot go stale meanwhile.
inline unsigned cpu_id_masked() {
#if defined(CONFIG_RTOS_SMP)
    return arch::this_cpu().id;
#else
    return 0;
#endif
}
/// CPUs online (1 before the others are started, and with SMP off).
unsigned cpu_count();
/// The switch this CPU held back while it held SpinLocks, now that it holds
/// none (rtos/spinlock.hpp; the kernel's scheduler). Interrupts masked.
void switch_held_back();
/// The CPUs online, as a mask.
CpuMask online_mask();
/// Hardware id of logical CPU `cpu` (riscv64: hart id; aarch64: MPIDR_EL1
/// affinity bits), once it is started or starting (the interrupt
/// controller's per-CPU set-up reads it); ~0 beyond kMaxCpus.
uint64_t hw_id(unsigned cpu);

/// Counters of one CPU, for `cpus` and tests.
struct CpuStats {
    bool online;
    uint64_t hw_id;
    uint64_t busy;  ///< counter ticks spent in threads other than idle
    /// Counted while several CPUs run; ~0 (unknown) for a CPU alone.
    uint64_t switches;    ///< context switches
    uint64_t interrupts;  ///< interrupts taken (device, timer, software)
    uint64_t ipis;        ///< inter-processor interrupts received
    const char* thread;   ///< name of the thread running there now
};
/// Stats of `cpu`; false for a CPU number beyond kMaxCpus.
bool stats(unsigned cpu, CpuStats& out);

}  // namespace smp
}  // namespace rtos
