// The architecture port interface: everything the kernel needs from a CPU.
//
// Each port (rtos/arch/<arch>/) implements these free functions once; the
// kernel never includes an arch header directly. A new port is this file
// plus a trap entry that honours the context-switch contract below.
//
// Context-switch contract (both ports):
//   * Every trap (interrupt, exception, explicit switch request) pushes a full
//   register frame on the current stack.
//   * At the exit of the outermost trap the port calls
//   rtos_kernel_switch_context(sp) with interrupts masked; it returns the
//   stack pointer of the thread to resume (the same one if nothing changed)
//   and the port pops that thread's frame.
//   * request_context_switch() from thread context traps synchronously (ecall /
//   svc), so the switch happens before it returns; from an ISR it is a no-op
//   because the outermost trap exit always consults the kernel.
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
// is changed elsewhere only under IrqLock, which masks the tick as well.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtos::arch {

/// Saved interrupt-enable state returned by irq_save().
using IrqState = unsigned long;

/// Masks interrupts and returns the previous state (nestable).
IrqState irq_save();
/// Restores the state saved by irq_save().
void irq_restore(IrqState state);
/// Unmasks interrupts unconditionally (used once, when the scheduler starts).
void irq_enable();
/// True while executing a trap handler (interrupt or exception).
bool in_isr();
/// Nesting depth of traps; 0 in thread context.
unsigned isr_nesting();

/// Sleeps the CPU until an interrupt arrives (with the barriers the arch needs
/// before its wait instruction). Called with interrupts enabled.
void wait_for_interrupt();

/// Builds an initial trap frame on a fresh stack so that the first switch to
/// the thread "returns" into entry(arg); if entry returns, exit_fn() is called.
/// Returns the stack pointer to store in the thread control block.
void* init_stack(void* stack_top, void (*entry)(void*), void* arg, void (*exit_fn)());

/// Leaves the boot stack and enters the thread whose saved sp is given.
[[noreturn]] void start_first_thread(void* sp);

/// Asks for a reschedule now (see contract above).
void request_context_switch();

/// Starts the periodic kernel tick at `hz`; each tick calls
/// rtos::kernel::tick_from_isr().
void timer_start(uint32_t hz);
/// isr_nesting() as the most recent tick saw it: 1 when it interrupted a
/// thread, 2 when it preempted another handler (for the kernel tests).
unsigned last_tick_nesting();

/// Runs the handler of device interrupt `irq`, which irq::dispatch() has
/// claimed and completes afterwards, under the nesting model above
/// (aarch64: unmasked unless it is the tick; riscv64: as the external
/// interrupt path already set up).
void run_irq_handler(unsigned irq, void (*handler)(void*), void* arg);
/// Free-running counter (rdtime / cntvct_el0) and its frequency in Hz.
uint64_t counter_read();
uint64_t counter_frequency();

/// Machine control. poweroff() exits QEMU with status 0; fail_exit() ends it
/// with a non-zero status where the platform allows, else halts forever.
[[noreturn]] void poweroff();
[[noreturn]] void reboot();
[[noreturn]] void fail_exit();

/// Prints the registers of a trap frame (for panic reports); frame may be null.
void dump_frame(const void* frame);

/// Name of the architecture, e.g. "riscv64".
const char* name();

}  // namespace rtos::arch

/// Implemented by the kernel; called by the port at the outermost trap exit.
extern "C" void* rtos_kernel_switch_context(void* sp);

namespace rtos::arch {
/// Raises a software interrupt on this CPU (riscv64: SSIP; aarch64: an SGI
/// to self). Its handler calls rtos::kernel::soft_interrupt_from_isr(). Used
/// by the kernel tests to prove ISR-to-thread wake-ups with a real interrupt.
void raise_soft_interrupt();

/// For platforms whose counter rate the CPU cannot report (riscv64: the
/// device tree's timebase-frequency). A no-op where the CPU knows it.
void set_counter_frequency(uint64_t hz);
}  // namespace rtos::arch
