// Critical sections, both nestable and RAII-guarded:
//   IrqLock        masks interrupts on this CPU, and nothing more: with
//                  several CPUs (CONFIG_RTOS_SMP) data shared with an
//                  interrupt handler or another thread needs a SpinLock
//                  (rtos/spinlock.hpp), whose guard also masks
//   SchedulerLock  keeps the current thread running on its CPU; interrupts
//                  still run, and so do the other CPUs
#pragma once

// The port's inline interrupt primitives; nothing else of the port.
#include <rtos/arch_cpu.hpp>

namespace rtos {

class IrqLock {
public:
    IrqLock() : state_(arch::irq_save()) {}
    ~IrqLock() { arch::irq_restore(state_); }
    IrqLock(const IrqLock&) = delete;
    IrqLock& operator=(const IrqLock&) = delete;

private:
    arch::IrqState state_;
};

class SchedulerLock {
public:
    SchedulerLock();
    ~SchedulerLock();
    SchedulerLock(const SchedulerLock&) = delete;
    SchedulerLock& operator=(const SchedulerLock&) = delete;
};

/// True in interrupt (trap) context.
inline bool in_isr() { return arch::in_isr(); }

}  // namespace rtos
