#include <rtos/critical.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>
#include <rtos/thread.hpp>

#include "arch/port.hpp"
#include "console_internal.hpp"
#include "scheduler.hpp"

namespace rtos {

#if defined(CONFIG_RTOS_SMP)
namespace kernel {
namespace {
// Which CPU owns the panic (-1: none); the first to claim it reports, the
// others stop (a second panic, or a fault in the panic path, on another CPU).
int panic_cpu = -1;
}  // namespace

bool panic_claim() {
    int expected = -1;
    int self = static_cast<int>(arch::this_cpu().id);
    return __atomic_compare_exchange_n(&panic_cpu, &expected, self, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

bool panic_owner() {
    return __atomic_load_n(&panic_cpu, __ATOMIC_ACQUIRE) == static_cast<int>(arch::this_cpu().id);
}
}  // namespace kernel
#endif

namespace {

volatile bool panicking = false;

[[noreturn]] void vpanic(const void* frame, void* caller, const char* fmt, va_list ap) {
    arch::irq_save();
#if defined(CONFIG_RTOS_SMP)
    // One CPU reports; another that panics meanwhile only stops (its state
    // is printed as one of the stopped CPUs').
    if (!kernel::panic_claim() && !kernel::panic_owner()) kernel::panic_stop_this_cpu();
#endif
    if (panicking) {  // a fault inside the panic path: stop quietly
        for (;;) arch::fail_exit();
    }
    panicking = true;
    console::panic_mode();
    printk("\nPANIC: ");
    vprintk(fmt, ap);
    printk("\n");
    Thread* t = kernel::current();
#if defined(CONFIG_RTOS_SMP)
    printk("  thread: %s%s on cpu %u\n", t ? t->name() : "(boot)",
           arch::in_isr() ? " (in a trap handler)" : "", arch::this_cpu().id);
#else
    printk("  thread: %s%s\n", t ? t->name() : "(boot)",
           arch::in_isr() ? " (in a trap handler)" : "");
#endif
    if (frame) {
        arch::dump_frame(frame);
    } else {
        printk("  called from %p\n", caller);
    }
#if defined(CONFIG_RTOS_SMP)
    kernel::stop_other_cpus();
#endif
    arch::fail_exit();
}

}  // namespace

void panic(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vpanic(nullptr, __builtin_return_address(0), fmt, ap);
}

void panic_with_frame(const void* frame, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vpanic(frame, nullptr, fmt, ap);
}

SchedulerLock::SchedulerLock() { kernel::scheduler_lock(); }
SchedulerLock::~SchedulerLock() { kernel::scheduler_unlock(); }

}  // namespace rtos
