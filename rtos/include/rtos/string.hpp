// Declarations of the freestanding C string primitives (rtos/lib/string.cpp).
#pragma once
#include <cstddef>

#if defined(RTOS_HOST_TEST)
#include <cstring>  // host unit tests use the C library's
#else

extern "C" {
void* memcpy(void* __restrict dst, const void* __restrict src, std::size_t n);
void* memmove(void* dst, const void* src, std::size_t n);
void* memset(void* dst, int c, std::size_t n);
int memcmp(const void* a, const void* b, std::size_t n);
std::size_t strlen(const char* s);
int strcmp(const char* a, const char* b);
int strncmp(const char* a, const char* b, std::size_t n);
}
#endif
