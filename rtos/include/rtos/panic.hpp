// Fatal errors: prints "PANIC: <reason>", the current thread and registers,
// then ends QEMU with a failure status where the platform can
// (rtos::arch::fail_exit()).
#pragma once

namespace rtos {

[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
/// Same, with the trap frame of a faulting context.
[[noreturn]] void panic_with_frame(const void* frame, const char* fmt, ...)
    __attribute__((format(printf, 2, 3)));

}  // namespace rtos

#define RTOS_ASSERT(cond)                                                                      \
    do {                                                                                       \
        if (!(cond)) ::rtos::panic("assertion failed: %s (%s:%d)", #cond, __FILE__, __LINE__); \
    } while (0)
