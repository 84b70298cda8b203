// The kernel's own test suite and benchmarks, for a command line to start.
// The shell registers them as its commands ktest, ktest-overflow,
// ktest-panic, ktest-guard, bench and tm
// (components/shell/selftest_commands.cpp); the kernel itself includes
// nothing of the shell.
//
// Each takes a command's arguments (argv[0] is the command's name), prints
// its report on the console and returns 0, 1 (a failure it printed),
// kUsage or kInterrupted. `stop` is polled between tests and benchmarks
// (and by long tests): once it returns true the run ends early.
#pragma once

#include <rtos/config.hpp>
#include <rtos/types.hpp>

namespace rtos::selftest {

constexpr int kUsage = -2;        ///< bad arguments: the caller prints the usage line
constexpr int kInterrupted = -3;  ///< the run ended early because `stop` said so

using StopFn = bool (*)();
/// Sleeps until `deadline`, in slices short enough to notice a stop
/// request; false when one ended the wait early.
using SleepFn = bool (*)(Tick deadline);

#if defined(CONFIG_RTOS_KTEST)
/// `ktest [-l | filter]`: the kernel tests (rtos/ktest/runner.cpp).
int ktest(int argc, char** argv, StopFn stop);
/// `ktest-overflow [cpu]`: a thread (pinned to `cpu`) overflows its stack;
/// the kernel must panic.
int ktest_overflow(int argc, char** argv);
/// `ktest-panic [cpu]`: a thread (pinned to `cpu`) calls panic(); every
/// other CPU must stop and print its state.
int ktest_panic(int argc, char** argv);
#if defined(CONFIG_RTOS_STACK_GUARD_PAGES)
/// `ktest-guard`: a thread stores into its stack's guard page; the kernel must panic.
int ktest_guard(int argc, char** argv);
#endif
#if defined(CONFIG_RTOS_UBSAN)
/// `ktest-ubsan`: a signed overflow; the sanitizer must report it and panic.
int ktest_ubsan(int argc, char** argv);
#endif
#endif

#if defined(CONFIG_RTOS_BENCH)
/// `bench [-l | filter]`: the benchmarks (rtos/bench/runner.cpp).
int bench(int argc, char** argv, StopFn stop);
#endif

#if defined(CONFIG_RTOS_THREAD_METRIC)
/// `tm -l | <test> [period_ms [periods]]`: Thread-Metric (rtos/bench/thread_metric.cpp),
/// which sleeps through each period with `sleep_until`.
int thread_metric(int argc, char** argv, SleepFn sleep_until);
#endif

}  // namespace rtos::selftest
