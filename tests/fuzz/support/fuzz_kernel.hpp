// A single-threaded stand-in for the kernel services the drivers use, for
// the fuzz targets (tests/fuzz): fast enough for millions of inputs a run
// and reset at the start of every input.
//
//   * Interrupts: irq::attach() records the handler; interrupt() runs it in
//     "interrupt context" (in_isr() true) while the device's line is up,
//     at once or when the IrqLock that masks it ends.
//   * Semaphores and mutexes never block the harness: a take() with nothing
//     to take returns timeout after its timeout has "passed" (the clock
//     jumps), and one with Timeout::forever() aborts: a driver that would
//     wait forever for a device is a hang the fuzzer must report.
//   * Threads are coroutines (ucontext, annotated for AddressSanitizer):
//     Thread::create() makes one, run_threads() lets each run until it
//     blocks; a take() inside one yields back instead of timing out.
//     reset() forgets them all (a thread of an earlier input never runs again).
//   * Timers fire in run_threads() once the clock has passed them; reset()
//     disarms them all.
#pragma once

#include <cstdint>

#include <rtos/types.hpp>

namespace fuzz_kernel {

/// Start of an input: no threads, no interrupt handler, clock at 0.
void reset();

/// The interrupt line of the device under test: `pending(ctx)` says whether
/// it is up. Set after reset(), before the driver probes.
void set_line(bool (*pending)(void* ctx), void* ctx);

/// Whether rtos::irq::attach() succeeds (default: it does).
void set_irq_available(bool available);

/// Runs the attached handler while the line is up (at most 16 times), now
/// or, with interrupts masked, when they are unmasked. False when no
/// handler is attached.
bool interrupt();

/// Runs every thread until it blocks or exits, `rounds` times over.
void run_threads(unsigned rounds = 2);

/// Ticks since reset().
rtos::Tick now();

}  // namespace fuzz_kernel
