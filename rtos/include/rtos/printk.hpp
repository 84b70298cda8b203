// Kernel console output: formatted (rtos/format.hpp subset), whole lines kept
// together, usable from threads and ISRs.
#pragma once

#include <cstdarg>

extern "C" {
int printk(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintk(const char* fmt, va_list ap);
}
