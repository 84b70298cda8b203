// rtos/system.hpp over the scheduler's thread list and the port.
#include <rtos/config.hpp>
#include <rtos/critical.hpp>
#include <rtos/system.hpp>

#include "arch/port.hpp"
#include "scheduler.hpp"

namespace rtos::system {

Snapshot threads(ThreadInfo* out, std::size_t max) {
    Snapshot s{0, 0, 0};
    kernel::KernelLock lock;
    s.counter = arch::counter_read();
    kernel::for_each_thread([&](Thread* t) {
#if defined(CONFIG_RTOS_STACK_GUARD_CHECK)
        // The full guard-band scan, as idle does: a broken band panics.
        if (t->state() != ThreadState::exited && kernel::stack_guard_broken(t))
            kernel::stack_overflow_locked(t, t->sp);
#endif
        ++s.total;
        if (s.stored == max) return;
        uint64_t cpu = t->cpu_time();
        // Running somewhere: its slice so far, by that CPU's last switch.
        if (t->state() == ThreadState::running)
            cpu += s.counter - arch::cpu_local(t->cpu()).switch_time;
        out[s.stored++] = {t->name(),
                           t->state(),
                           t->priority(),
                           t->base_priority(),
                           t->stack_size() - t->stack_unused(),
                           t->stack_size(),
                           cpu,
                           t->cpu()};
    });
    return s;
}

uint64_t counter_frequency() { return arch::counter_frequency(); }
const char* arch_name() { return arch::name(); }
void poweroff() { arch::poweroff(); }
void reboot() { arch::reboot(); }

}  // namespace rtos::system
