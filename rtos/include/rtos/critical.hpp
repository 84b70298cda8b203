// Critical sections, both nestable and RAII-guarded:
//   IrqLock        masks interrupts (protects data shared with ISRs)
//   SchedulerLock  keeps the current thread running; interrupts still run
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
