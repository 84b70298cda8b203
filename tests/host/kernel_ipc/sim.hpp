// A host stand-in for the architecture port that runs the real scheduler,
// threads, mutexes, semaphores and timers (rtos/kernel/*.cpp) unchanged.
//
// Every kernel thread is a host thread, and exactly one of them holds the
// baton: the kernel's own scheduling decision hands it on through the port's
// switch (rtos_arch_switch), from a blocking call, a yield or the exit of a
// simulated interrupt (rtos_kernel_preempt). Blocking calls therefore really
// block, and the order in which threads run is the kernel's, deterministically.
//
// Time moves only through simulated timer interrupts: sim::tick() from a
// thread, or the idle thread's wait_for_interrupt() (every thread blocked:
// the clock jumps to the next tick). A run that idles for a million ticks is
// declared deadlocked.
//
// Each scenario runs in a child process (run_isolated) so the kernel's
// static state starts fresh; checks inside report to stderr and the child's
// exit status counts the failures.
#pragma once

#include <cstdio>
#include <sstream>
#include <string>
#include <type_traits>

namespace sim {

/// How a checked value is printed (enums as numbers, chars as numbers).
template <typename T>
auto show(const T& v) {
    if constexpr (std::is_enum_v<T>) return static_cast<long long>(v);
    else if constexpr (std::is_arithmetic_v<T>) return +v;
    else return v;
}

/// Forks; the child boots a kernel whose main thread (priority 10) runs
/// `scenario`. Returns the child's exit status: 0 when every check passed,
/// the number of failed checks, 100 for a deadlock, 101 for a kernel panic,
/// 128 + signal (142: SIGALRM after 30 s) for a crash or a hang.
int run_isolated(void (*scenario)());

/// Timer interrupts, taken by the running thread (each may switch away).
void tick(unsigned n = 1);
/// Raises the software interrupt (its hook: kernel::set_soft_interrupt_hook).
void soft_interrupt();

void fail(const char* file, int line, const std::string& what);

}  // namespace sim

#define SIM_CHECK(cond)                                                  \
    do {                                                                 \
        if (!(cond)) ::sim::fail(__FILE__, __LINE__, "expected " #cond); \
    } while (0)

#define SIM_CHECK_EQ(a, b)                                                                     \
    do {                                                                                       \
        auto&& sa_ = (a);                                                                      \
        auto&& sb_ = (b);                                                                      \
        if (!(sa_ == sb_)) {                                                                   \
            std::ostringstream so_;                                                            \
            so_ << #a " == " #b " failed: " << ::sim::show(sa_) << " vs " << ::sim::show(sb_); \
            ::sim::fail(__FILE__, __LINE__, so_.str());                                        \
        }                                                                                      \
    } while (0)

#define SIM_CHECK_STATUS(a, b)                                                             \
    do {                                                                                   \
        ::rtos::Status sa_ = (a), sb_ = (b);                                               \
        if (sa_ != sb_)                                                                    \
            ::sim::fail(__FILE__, __LINE__,                                                \
                        std::string(#a " == " #b " failed: ") + ::rtos::status_name(sa_) + \
                            " vs " + ::rtos::status_name(sb_));                            \
    } while (0)
