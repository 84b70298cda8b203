// The architecture port interface: everything the kernel needs from a CPU,
// and the few kernel upcalls a port makes. A port (rtos/arch/<arch>/)
// implements the functions below once and never includes a kernel-internal
// header; the kernel never includes an arch header but this one.
//
// Inline per-CPU primitives (irq_save, irq_restore, irq_enable, in_isr,
// isr_nesting, counter_read, stack_pointer) come from the port's
// <rtos/arch_cpu.hpp>; the per-CPU state shared with the trap code is
// arch/cpu_local.hpp.
//
// Context switch (both ports): one way, cooperative. The kernel takes the
// scheduling decision and calls switch_context(&cur->sp, next->sp) with
// interrupts masked: the port pushes the callee-saved registers and the
// return address on the current stack, stores the stack pointer, loads the
// next one and pops that thread's registers. A thread preempted by an
// interrupt made the same call from the outermost trap exit, so its full
// trap frame lies above its switch frame and is popped when it resumes.
//   * At the exit of the outermost trap the port checks, in this order:
//     the trap frame below this_cpu().stack_limit (the running thread
//     overflowed: rtos_kernel_stack_overflow), then this_cpu().switch_pending
//     (rtos_kernel_preempt, which may switch). Nothing else runs on the way out.
//
// Interrupt nesting (both ports): the kernel tick can preempt any other
// interrupt handler, and nothing else nests. Device interrupts (PLIC / GIC)
// and the software interrupt run with interrupts unmasked except for their
// own kind (riscv64: SEIE and SSIE cleared in `sie`, sstatus.SIE set; aarch64:
// IRQs unmasked between acknowledge and EOI, and the GIC's running priority
// lets only the higher-priority timer PPI in); the tick handler and
// exceptions run masked. A nested trap pushes its frame on the same stack and
// counts in isr_nesting() (2 inside a tick that preempted a handler), so
// in_isr() holds throughout and only the outermost exit switches context.
// Kernel state the tick touches (tick count, timeouts, ready lists, timers)
// is changed elsewhere only under the kernel lock, which masks the tick as
// well (and with SMP keeps the other CPUs out).
//
// SMP: every CPU has its own CpuLocal (arch/cpu_local.hpp), its own timer
// interrupt (announce_ticks: this CPU's periods) and its own software
// interrupt, which doubles as the inter-processor interrupt (send_ipi).
// switch_context is called with the kernel lock held, and the thread that
// resumes releases it (kernel/kernel_lock.hpp), so a thread start path
// calls rtos_kernel_thread_entry before unmasking interrupts.
#pragma once

#include <cstddef>
#include <cstdint>

#include <rtos/arch_cpu.hpp>
#include <rtos/config.hpp>
#include <rtos/types.hpp>

#include "arch/cpu_local.hpp"

namespace rtos::arch {

/// Sleeps the CPU until an interrupt is pending (with the barriers the arch
/// needs before its wait instruction). Called with interrupts masked (it
/// wakes all the same; the interrupt is taken once they are unmasked) or
/// enabled.
void wait_for_interrupt();

/// Builds an initial switch frame on a fresh stack so that the first switch
/// to the thread enters entry(arg) with interrupts enabled; if entry returns,
/// exit_fn() is called. Returns the stack pointer to store for the thread.
void* init_stack(void* stack_top, void (*entry)(void*), void* arg, void (*exit_fn)());

}  // namespace rtos::arch

/// The port's switch routine (assembly); see switch_context().
extern "C" void rtos_arch_switch(void** save_sp, void* next_sp);

namespace rtos::arch {

/// Saves the callee-saved state on the current stack, stores the stack
/// pointer in *save_sp and resumes the context whose stack pointer is
/// next_sp. Returns when something switches back. Interrupts masked.
inline void switch_context(void** save_sp, void* next_sp) { rtos_arch_switch(save_sp, next_sp); }

/// Leaves the boot stack and enters the context whose saved sp is given.
[[noreturn]] void start_first_thread(void* sp);

/// Starts the kernel tick at `hz`. Each timer interrupt announces the ticks
/// that elapsed by the counter (kernel::announce_ticks), so a late interrupt
/// loses none.
void timer_start(uint32_t hz);
/// Tickless idle, interrupts masked: the next tick the kernel needs is
/// `ticks` ticks away (>= 1). The port may program the timer for then instead
/// of the next tick; any interrupt that ends the idle period first brings the
/// tick count up to date before its handler runs.
void timer_idle(uint64_t ticks);
/// Where the tick comes from, for the boot line ("sstc", "sbi", "cntv").
const char* timer_source();
/// isr_nesting() as the most recent tick saw it: 1 when it interrupted a
/// thread, 2 when it preempted another handler (for the kernel tests).
unsigned last_tick_nesting();

/// Runs the handler of device interrupt `irq`, which irq::dispatch() has
/// claimed and completes afterwards, under the nesting model above
/// (aarch64: unmasked unless it is the tick; riscv64: as the external
/// interrupt path already set up).
void run_irq_handler(unsigned irq, void (*handler)(void*), void* arg);
/// Frequency of counter_read() in Hz.
uint64_t counter_frequency();

/// Machine control. poweroff() exits QEMU with status 0; fail_exit() ends it
/// with a non-zero status where the platform allows, else halts forever.
[[noreturn]] void poweroff();
[[noreturn]] void reboot();
[[noreturn]] void fail_exit();
/// A board device that ends the machine with a status (QEMU's test
/// finisher): its driver registers it when it binds, and fail_exit() tries
/// it before the port's own means. Set once at boot, before any failure.
using ExitHandler = void (*)(int status);
void set_exit_handler(ExitHandler handler);

/// The board's fixed physical memory map, for a port that builds page
/// tables before anything else runs (aarch64): addresses in no region stay
/// unmapped; where regions overlap the later one wins. The board hands it
/// over by defining board_memory_map (bsp/<board>/board.cpp); a port that
/// needs none leaves it undefined.
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
extern const MemoryMap board_memory_map;

/// Prints the registers of a trap frame (for panic reports); frame may be null.
void dump_frame(const void* frame);

/// MMU page size, for guard pages (one definition for the kernel and the ports).
using ::rtos::kPageSize;

#if defined(CONFIG_RTOS_STACK_GUARD_PAGES)
/// Makes the page-aligned page at `page` inaccessible (guard) or accessible
/// again. False when the port cannot (no page table left): no guard then.
/// A data abort in the page below this_cpu().stack_limit is reported through
/// rtos_kernel_stack_guard_fault, from a stack other than the thread's.
bool set_guard_page(void* page, bool guard);
#endif

/// Name of the architecture, e.g. "riscv64".
const char* name();

/// Raises a software interrupt on this CPU (riscv64: SSIP; aarch64: an SGI
/// to self). Its handler calls rtos::kernel::soft_interrupt_from_isr(). Used
/// by the kernel tests to prove ISR-to-thread wake-ups with a real interrupt.
void raise_soft_interrupt();

/// For platforms whose counter rate the CPU cannot report (riscv64: the
/// device tree's timebase-frequency). A no-op where the CPU knows it.
void set_counter_frequency(uint64_t hz);

/// The firmware call that starts CPUs and powers off, as the device tree
/// names it (aarch64: the /psci node's "method", "hvc" or "smc"; null: the
/// tree has none). riscv64 ignores it: SBI is the only firmware there.
void set_firmware_method(const char* method);

/// Hardware id of the CPU that booted (riscv64: the hart id the SBI
/// firmware passed, whichever hart won its lottery; aarch64: MPIDR_EL1's
/// affinity fields). Valid from rtos_kernel_main on.
uint64_t boot_cpu_hw_id();

#if defined(CONFIG_RTOS_SMP)
// ---- SMP (docs/smp.md, "Bring-up"). Logical CPU 0 is the boot CPU.
/// Starts logical CPU `cpu`, hardware id `hw_id`, whose CpuLocal the kernel
/// has prepared: the CPU enters the port's secondary entry on `stack_top`
/// (its own boot stack), sets its per-CPU register to its CpuLocal and its
/// trap vector (aarch64: enters EL1 and turns the MMU on), then calls
/// rtos_kernel_cpu_entry() with interrupts masked. Everything the kernel
/// wrote before the call is visible to the new CPU (the port's barrier).
/// Returns null when the firmware accepted the request, else why not.
const char* start_cpu(unsigned cpu, uint64_t hw_id, void* stack_top);
/// This CPU's tick, on a secondary CPU (the boot CPU's is timer_start()):
/// the same rate, its period boundaries aligned with the boot CPU's.
void timer_start_cpu();
/// Makes the software interrupt pending on CPU `cpu` (riscv64: SBI IPI,
/// which sets the hart's SSIP; aarch64: an SGI through the GIC); its
/// handler calls kernel::soft_interrupt_from_isr(), which reads the
/// reasons the sender left in the CPU's CpuLocal::ipi_reasons. The
/// caller's earlier stores are visible to the handler (the port's barrier).
void send_ipi(unsigned cpu);
/// Program counter and stack pointer of a trap frame (a panic's report of
/// the CPUs it stops).
void frame_pc_sp(const void* frame, uintptr_t& pc, uintptr_t& sp);
/// Rewrites the one-instruction no-op at `site` into a branch to `target`
/// (the switches of smp::active(), rtos/spinlock.hpp; within 1 MiB).
/// Only one CPU runs; sync_instructions() follows the last one.
void patch_branch(void* site, const void* target);
/// Makes the instructions written so far visible to instruction fetch, on
/// this CPU and the ones started later.
void sync_instructions();
#endif

}  // namespace rtos::arch

// ---- Kernel upcalls: implemented by the kernel, called by the port only.
namespace rtos::kernel {
/// From the timer interrupt: `n` tick periods elapsed since the last call.
void announce_ticks(uint64_t n);
/// From the software-interrupt handler.
void soft_interrupt_from_isr();
}  // namespace rtos::kernel

#if defined(CONFIG_RTOS_SMP)
/// On a secondary CPU once the port set it up (start_cpu): never returns.
extern "C" [[noreturn]] void rtos_kernel_cpu_entry();
/// First thing of every new thread, before the port's thread start unmasks
/// interrupts: releases the kernel lock its switcher held.
extern "C" void rtos_kernel_thread_entry();
#endif
/// Outermost trap exit, this_cpu().switch_pending set, interrupts masked:
/// the kernel picks the next thread and switches to it (or returns).
extern "C" void rtos_kernel_preempt();
/// Outermost trap exit: the running thread trapped with its frame below
/// this_cpu().stack_limit. Reports the overflow; never returns.
extern "C" [[noreturn]] void rtos_kernel_stack_overflow(void* frame);
/// The running thread touched the guard page below its stack at `addr`;
/// `frame` (readable, on the port's abort stack) holds its registers.
extern "C" [[noreturn]] void rtos_kernel_stack_guard_fault(void* frame, const void* addr);
