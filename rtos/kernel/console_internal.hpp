// Kernel-internal side of the console (console.cpp): printk holds the
// output lock for a whole formatted call, so its line never interleaves
// with another CPU's output.
#pragma once

#include <rtos/config.hpp>

#include <cstddef>

#include <rtos/arch_cpu.hpp>

namespace rtos::console {

/// Masks interrupts and takes the console's output lock (lock order:
/// rtos/spinlock.hpp); on this CPU again (a panic inside printk) it writes
/// through without waiting for itself.
class OutputLock {
public:
    OutputLock();
    ~OutputLock();
    OutputLock(const OutputLock&) = delete;
    OutputLock& operator=(const OutputLock&) = delete;

private:
    arch::IrqState state_;
#if defined(CONFIG_RTOS_SMP)
    bool held_ = false;
#endif
};

/// write() for a holder of OutputLock.
void write_locked(const char* s, std::size_t n);
/// A panic: from now on output goes to the driver only (the mirror gives a
/// semaphore, which needs the kernel lock the panicking CPU may hold).
void panic_mode();

}  // namespace rtos::console
