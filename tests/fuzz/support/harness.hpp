// What every fuzz target shares: a fresh start per input and a check that
// fails loudly (libFuzzer reports the abort as a crash and keeps the input).
#pragma once

#include <cstdio>
#include <cstdlib>

#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_kernel.hpp"
#include "hal_host.hpp"

namespace fuzz {

/// Start of an input: the kernel stand-in, the DMA arena and the captured
/// log as new (every object of the input before is dead).
/// FUZZ_DEBUG=1 in the environment also echoes the log to stderr as it is
/// written (replaying one input: build/fuzz/fuzz_NAME FILE).
inline void begin_input() {
    fuzz_kernel::reset();
    host_hal::reset();
    host_hal::rewind_arena();
    static const bool echo = std::getenv("FUZZ_DEBUG") != nullptr;
    host_hal::set_echo(echo);
}

[[noreturn]] inline void check_failed(const char* file, int line, const char* what) {
    std::fprintf(stderr, "%s:%d: check failed: %s\n--- driver log ---\n%s\n", file, line, what,
                 host_hal::log().c_str());
    std::abort();
}

}  // namespace fuzz

/// An invariant of the code under test; a violation is a crash.
#define FUZZ_CHECK(cond) \
    ((cond) ? (void)0 : ::fuzz::check_failed(__FILE__, __LINE__, "expected " #cond))
