/* Debian's riscv64 cross toolchain ships glibc headers for the lp64d ABI
 * only; libstdc++'s freestanding headers still include <features.h>, which
 * wants this file for the soft-float lp64 ABI the kernel uses (no FPU state
 * to save on a context switch). Nothing of glibc is used. */
