// The kernel's test suite and benchmarks as shell commands: the kernel
// publishes them (rtos/selftest.hpp) and knows nothing of the shell; Ctrl-C
// reaches a run as its stop check (or through the shell's sleep_until).
#include <rtos/config.hpp>

#include <rtos/selftest.hpp>

#include "shell/shell.hpp"

namespace rtos::shell {
namespace {

static_assert(selftest::kUsage == kUsage && selftest::kInterrupted == kInterrupted);

#if defined(CONFIG_RTOS_KTEST)
int cmd_ktest(int argc, char** argv) { return selftest::ktest(argc, argv, interrupted); }
#endif
#if defined(CONFIG_RTOS_BENCH)
int cmd_bench(int argc, char** argv) { return selftest::bench(argc, argv, interrupted); }
#endif
#if defined(CONFIG_RTOS_THREAD_METRIC)
int cmd_tm(int argc, char** argv) { return selftest::thread_metric(argc, argv, sleep_until); }
#endif

}  // namespace
}  // namespace rtos::shell

#if defined(CONFIG_RTOS_KTEST)
SHELL_COMMAND(ktest, "[-l | [-w] filter]", "run the on-target kernel tests",
              rtos::shell::cmd_ktest);

// The name has a '-', which SHELL_COMMAND cannot spell: the entry by hand.
[[gnu::used, gnu::section(".rtos_shell_commands")]] static constexpr ::rtos::shell::Command
    shell_command_ktest_overflow{
        "ktest-overflow", "[cpu]",
        "overflow a thread's stack, on cpu if given (destructive: the kernel panics)",
        rtos::selftest::ktest_overflow};
[[gnu::used,
  gnu::section(
      ".rtos_shell_commands")]] static constexpr ::rtos::shell::Command shell_command_ktest_panic{
    "ktest-panic", "[cpu]", "a thread, on cpu if given, calls panic() (destructive)",
    rtos::selftest::ktest_panic};

#if defined(CONFIG_RTOS_STACK_GUARD_PAGES)
[[gnu::used,
  gnu::section(
      ".rtos_shell_commands")]] static constexpr ::rtos::shell::Command shell_command_ktest_guard{
    "ktest-guard", "[cpu]", "store below a thread's stack (destructive: the kernel panics)",
    rtos::selftest::ktest_guard};
#endif
#if defined(CONFIG_RTOS_UBSAN)
[[gnu::used,
  gnu::section(
      ".rtos_shell_commands")]] static constexpr ::rtos::shell::Command shell_command_ktest_ubsan{
    "ktest-ubsan", "[cpu]",
    "a signed overflow (destructive: the sanitizer reports it, the kernel panics)",
    rtos::selftest::ktest_ubsan};
#endif
#endif

#if defined(CONFIG_RTOS_BENCH)
SHELL_COMMAND(bench, "[-l | filter]",
              "run the benchmarks (cost per operation; instructions under -icount shift=0)",
              rtos::shell::cmd_bench);
#endif

#if defined(CONFIG_RTOS_THREAD_METRIC)
SHELL_COMMAND(tm, "-l | <test> [period_ms [periods]]",
              "Thread-Metric: run one test for periods (default 5 x 1000 ms), events per 5 s",
              rtos::shell::cmd_tm);
#endif
