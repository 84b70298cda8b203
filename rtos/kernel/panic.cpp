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

const char* status_name(Status s) {
    switch (s) {
    case Status::ok: return "ok";
    case Status::timeout: return "timeout";
    case Status::deleted: return "deleted";
    case Status::invalid: return "invalid argument";
    case Status::no_memory: return "out of memory";
    case Status::not_owner: return "not owner";
    case Status::overflow: return "overflow";
    case Status::io_error: return "I/O error";
    case Status::unsupported: return "unsupported";
    case Status::busy: return "busy";
    case Status::out_of_range: return "out of range";
    case Status::not_found: return "no such file";
    case Status::exists: return "file exists";
    case Status::not_directory: return "not a directory";
    case Status::is_directory: return "is a directory";
    case Status::no_space: return "no space left";
    case Status::read_only: return "read-only";
    case Status::not_empty: return "directory not empty";
    case Status::name_too_long: return "name too long";
    case Status::corrupt: return "file system damaged";
    case Status::too_many: return "too many open";
    }
    return "?";
}

SchedulerLock::SchedulerLock() { kernel::scheduler_lock(); }
SchedulerLock::~SchedulerLock() { kernel::scheduler_unlock(); }

}  // namespace rtos
