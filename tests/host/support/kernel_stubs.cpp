// Host stand-ins for the few target services the portable kernel code calls:
// interrupt masking is a no-op (single-threaded tests), panic aborts with the
// message (death tests match it), printk prints to stdout.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include <rtos/panic.hpp>
#include <rtos/printk.hpp>

#include "arch/port.hpp"

namespace rtos {
namespace arch {
IrqState irq_save() { return 0; }
void irq_restore(IrqState) {}
bool in_isr() { return false; }
uintptr_t stack_pointer() { return ~uintptr_t{0}; }
}  // namespace arch

void panic(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::fprintf(stderr, "PANIC: ");
    std::vfprintf(stderr, fmt, ap);
    std::fprintf(stderr, "\n");
    va_end(ap);
    std::abort();
}
}  // namespace rtos

extern "C" int printk(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = std::vprintf(fmt, ap);
    va_end(ap);
    return n;
}
