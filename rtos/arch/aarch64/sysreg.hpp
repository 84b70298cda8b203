// System register access for the aarch64 port (and its drivers: the GICv3
// CPU interface). Names are passed as tokens: read_sysreg(cntvct_el0).
#pragma once

#include <cstdint>

#define read_sysreg(reg)                                    \
    ({                                                      \
        uint64_t v_;                                        \
        asm volatile("mrs %0, " #reg : "=r"(v_)::"memory"); \
        v_;                                                 \
    })

#define write_sysreg(reg, val)                                 \
    do {                                                       \
        uint64_t v_ = (val);                                   \
        asm volatile("msr " #reg ", %0" ::"r"(v_) : "memory"); \
    } while (0)

namespace rtos::arch::aarch64 {

inline void isb() { asm volatile("isb" ::: "memory"); }
inline void dsb_sy() { asm volatile("dsb sy" ::: "memory"); }
inline void dsb_ish() { asm volatile("dsb ish" ::: "memory"); }

}  // namespace rtos::arch::aarch64
