// Time since boot: a 64-bit tick count (CONFIG_RTOS_TICK_HZ) and a
// nanosecond clock from the architecture's free-running counter.
#pragma once

#include <rtos/config.hpp>

#include <cstdint>

#include "types.hpp"

namespace rtos::clock {

constexpr uint32_t tick_hz() { return CONFIG_RTOS_TICK_HZ; }

/// Ticks since the scheduler started.
Tick ticks();
/// Nanoseconds since boot (monotonic, counter resolution).
uint64_t now_ns();

/// Converts milliseconds to ticks, rounding up so a wait is never shorter.
constexpr Tick ms_to_ticks(uint64_t ms) { return (ms * tick_hz() + 999) / 1000; }
constexpr uint64_t ticks_to_ms(Tick t) { return t * 1000 / tick_hz(); }

}  // namespace rtos::clock
