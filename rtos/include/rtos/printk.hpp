// Kernel console output: formatted (rtos/format.hpp subset), whole lines kept
// together, usable from threads and ISRs.
#pragma once

#include <cstdarg>

namespace rtos {
// C linkage so that C code (rtos/kernel.h) calls the same functions.
extern "C" int printk(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
extern "C" int vprintk(const char* fmt, va_list ap);
}  // namespace rtos
