#include <rtos/critical.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>
#include <rtos/thread.hpp>

#include "arch/port.hpp"
#include "scheduler.hpp"

namespace rtos {
namespace {

volatile bool panicking = false;

[[noreturn]] void vpanic(const void* frame, void* caller, const char* fmt, va_list ap) {
    arch::irq_save();
    if (panicking) {  // a fault inside the panic path: stop quietly
        for (;;) arch::fail_exit();
    }
    panicking = true;
    printk("\nPANIC: ");
    vprintk(fmt, ap);
    printk("\n");
    Thread* t = kernel::current();
    printk("  thread: %s%s\n", t ? t->name() : "(boot)",
           arch::in_isr() ? " (in a trap handler)" : "");
    if (frame) {
        arch::dump_frame(frame);
    } else {
        printk("  called from %p\n", caller);
    }
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
