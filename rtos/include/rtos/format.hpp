// printf-style formatting without libc: the subset the kernel and drivers use.
// Conversions: %d %i %u %x %X %o %c %s %p %%, flags '-' '0' '#', field width
// (also '*'), length modifiers l ll z. Output goes to a sink function so the
// same code serves printk, snprintf and the shell.
#pragma once
#include <cstdarg>
#include <cstddef>

namespace rtos {

using FormatSink = void (*)(void* ctx, const char* s, std::size_t n);

/// Formats into `sink`; returns the number of characters produced.
int vformat(FormatSink sink, void* ctx, const char* fmt, va_list ap);

/// Parses an unsigned number (decimal, 0x hex); false on garbage or overflow.
bool parse_u64(const char* s, unsigned long long& out);

}  // namespace rtos

extern "C" {
int snprintf(char* buf, std::size_t size, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vsnprintf(char* buf, std::size_t size, const char* fmt, va_list ap);
}
