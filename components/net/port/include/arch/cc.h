/* lwIP compiler/platform glue (lwIP's doc/sys_arch.txt, "arch/cc.h"):
 * diagnostics through printk, assertions through the kernel's panic, random
 * numbers from tern_lwip_rand() (sys_arch.cpp). */
#ifndef TERN_LWIP_ARCH_CC_H
#define TERN_LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
int printk(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void tern_lwip_assert(const char* msg, const char* file, int line) __attribute__((noreturn));
uint32_t tern_lwip_rand(void);
#ifdef __cplusplus
}
#endif

/* The freestanding build has no <ctype.h> worth using; lwIP has its own. */
#define LWIP_NO_CTYPE_H 1
/* Both targets are little-endian. */
#define BYTE_ORDER LITTLE_ENDIAN

#define LWIP_PLATFORM_DIAG(x) \
    do {                      \
        printk x;             \
    } while (0)
#define LWIP_PLATFORM_ASSERT(x) tern_lwip_assert((x), __FILE__, __LINE__)
#define LWIP_RAND() tern_lwip_rand()

#endif
