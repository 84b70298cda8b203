// The on-target kernel test framework (C++ side). A test:
//
//   KTEST(semaphore_counts) {
//       Semaphore s(0, 2);
//       KT_EXPECT_EQ(s.give(), Status::ok);
//       KT_ASSERT(s.count() == 1);          // returns from the test on failure
//   }
//
// Each test runs in its own thread ("ktest", priority kt::kBase) started by
// the shell command `ktest [filter]` (runner.cpp). Discipline: a test joins
// every thread and stops every timer it started before it returns, so the
// next test starts from a quiet kernel; the runner checks that the heap and
// the thread list are back where they were and fails the test otherwise.
// kt::Worker joins its thread when it goes out of scope, also on KT_ASSERT.
#pragma once

#include <rtos/config.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include <rtos/clock.hpp>
#include <rtos/critical.hpp>
#include <rtos/heap.hpp>
#include <rtos/smp.hpp>
#include <rtos/spinlock.hpp>
#include <rtos/thread.hpp>
#include <rtos/types.hpp>

#include "ktest/ktest.h"

namespace rtos::ktest {

// ---- Priorities. The test thread runs at kBase; tests place their threads
// ---- around it with prio(+n) (lower) and prio(-n) (higher). The software
// ---- timer thread (CONFIG_RTOS_TIMER_THREAD_PRIORITY) stays above them all.
constexpr unsigned kBase = KTEST_BASE_PRIORITY;
constexpr unsigned prio(int offset) {
    return static_cast<unsigned>(static_cast<int>(kBase) + offset);
}
static_assert(CONFIG_RTOS_PRIORITY_LEVELS >= 32, "ktest needs at least 32 priority levels");
static_assert(CONFIG_RTOS_TIMER_THREAD_PRIORITY < kBase - 4,
              "ktest expects the timer thread above its test threads");

/// How long a test may wait for its own threads before declaring them hung:
/// 3 s of ticks on one CPU; a minute with several (without -icount a loaded
/// host may keep a vCPU off the CPU for long, and the guest's clock runs on).
inline Tick join_limit() { return (smp::cpu_count() > 1 ? 60 : 3) * clock::tick_hz(); }

// ---- Failure records ------------------------------------------------------

/// A value printed in a failure message.
struct Value {
    enum Kind : uint8_t { kSigned, kUnsigned, kBool, kPointer, kString, kStatus, kState };
    Kind kind;
    union {
        long long s;
        unsigned long long u;
        const void* p;
        const char* str;
    };

    template <typename T>
    static Value of(const T& v) {
        Value r{};
        if constexpr (std::is_same_v<T, bool>) {
            r.kind = kBool;
            r.u = v;
        } else if constexpr (std::is_same_v<T, Status>) {
            r.kind = kStatus;
            r.s = static_cast<int>(v);
        } else if constexpr (std::is_same_v<T, ThreadState>) {
            r.kind = kState;
            r.u = static_cast<unsigned>(v);
        } else if constexpr (std::is_enum_v<T>) {
            r.kind = kSigned;
            r.s = static_cast<long long>(v);
        } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
            r.kind = kSigned;
            r.s = v;
        } else if constexpr (std::is_integral_v<T>) {
            r.kind = kUnsigned;
            r.u = v;
        } else if constexpr (std::is_convertible_v<T, const char*>) {
            r.kind = kString;
            r.str = v;
        } else if constexpr (std::is_pointer_v<T> || std::is_null_pointer_v<T>) {
            r.kind = kPointer;
            r.p = v;
        } else {
            static_assert(sizeof(T) == 0, "KT_EXPECT_*: unsupported operand type");
        }
        return r;
    }
};

void fail_cmp(const char* file, int line, const char* a, const char* op, const char* b,
              const Value& va, const Value& vb);
inline bool failed() { return ktest_failed() != 0; }
/// Gives up on the whole run after this test (a thread of it could not be
/// stopped, so later tests would not start clean).
void abort_suite(const char* why);
/// True once Ctrl-C asked the run to stop: the run ends after this test, and
/// a long test may end early if everything it checks still holds.
bool stop_requested();

// Comparisons that are right for mixed signedness (no -Wsign-compare traps).
template <typename A, typename B>
constexpr bool lt(const A& a, const B& b) {
    if constexpr (std::is_integral_v<A> && std::is_integral_v<B> && !std::is_same_v<A, bool> &&
                  !std::is_same_v<B, bool>) {
        if constexpr (std::is_signed_v<A> == std::is_signed_v<B>) return a < b;
        else if constexpr (std::is_signed_v<A>)
            return a < 0 || static_cast<std::make_unsigned_t<A>>(a) < b;
        else return b >= 0 && a < static_cast<std::make_unsigned_t<B>>(b);
    } else {
        return a < b;
    }
}
template <typename A, typename B>
constexpr bool eq(const A& a, const B& b) {
    if constexpr (std::is_integral_v<A> && std::is_integral_v<B> && !std::is_same_v<A, bool> &&
                  !std::is_same_v<B, bool>)
        return !lt(a, b) && !lt(b, a);
    else return a == b;
}
template <typename A, typename B>
constexpr bool ne(const A& a, const B& b) {
    return !eq(a, b);
}
template <typename A, typename B>
constexpr bool le(const A& a, const B& b) {
    return !lt(b, a);
}
template <typename A, typename B>
constexpr bool gt(const A& a, const B& b) {
    return lt(b, a);
}
template <typename A, typename B>
constexpr bool ge(const A& a, const B& b) {
    return !lt(a, b);
}
bool streq(const char* a, const char* b);

// ---- Time -----------------------------------------------------------------

inline Tick now() { return clock::ticks(); }

/// True when this run measures time on the host's clock (`ktest -w`: QEMU
/// without -icount, as the suite runs at -smp 2; docs/testing.md). A vCPU
/// the host deschedules then takes its timer interrupt late while the
/// guest's clock runs on, so the timing tests check the same rules with
/// that lateness allowed: nothing early, the order exact, their upper bounds
/// stretched by lateness(). Under -icount (the default) every check is exact.
bool host_clock();
/// Ticks a wake-up, a timer or the end of a time slice may come after the
/// tick it is due: 0 on an exact clock, 100 ms of ticks on the host's.
Tick lateness();
/// Milliseconds in ticks (rounded up: 10 ms is 10 ticks at 1000 Hz, 1 at 100 Hz).
inline Tick ms(unsigned m) { return clock::ms_to_ticks(m); }
/// Burns CPU until the tick count reaches `deadline`.
void spin_until(Tick deadline);
/// Polls `pred` (sleeping a tick between tries) for at most `limit` ticks.
template <typename P>
bool wait_for(P pred, Tick limit = join_limit()) {
    Tick end = now() + limit;
    while (!pred()) {
        if (now() >= end) return pred();
        Thread::sleep(1);
    }
    return true;
}

/// On the host's clock waits (at most lateness()) for what `pred` says is
/// due by now, which a late CPU may not have done yet; on an exact clock it
/// returns at once, so the check after it sees the state as it is.
template <typename P>
void settle(P pred) {
    if (host_clock()) wait_for(pred, lateness());
}

// ---- Event log: threads append one character per event; tests compare the
// ---- string with the order they expect.
class EventLog {
public:
    void add(char c) {
        SpinLockGuard lock(lock_);
        if (n_ < kMax) buf_[n_++] = c;
        buf_[n_] = '\0';
    }
    const char* str() const { return buf_; }
    unsigned size() const { return n_; }
    void clear() {
        SpinLockGuard lock(lock_);
        n_ = 0;
        buf_[0] = '\0';
    }

private:
    static constexpr unsigned kMax = 63;
    SpinLock lock_;  // threads of a test may log from several CPUs
    char buf_[kMax + 1] = {};
    volatile unsigned n_ = 0;
};

// ---- Threads a test starts: joined (bounded) when they go out of scope -----

struct Spec {
    const char* name;
    unsigned priority;
    /// 0: CONFIG_RTOS_TIMESLICE_TICKS (on the host's clock, that + lateness())
    unsigned timeslice = 0;
    std::size_t stack = 8192;
    /// 0: the test thread's CPU (the runner pins each test to one CPU; the
    /// SMP tests give their threads others).
    CpuMask affinity = 0;
};

/// Joins `thread` (then null): if it has not ended within `limit` ticks it
/// is suspended, the test fails and the run stops after this test.
bool join_thread(Thread*& thread, Tick limit = join_limit());

class WorkerBase {
public:
    WorkerBase(const WorkerBase&) = delete;
    WorkerBase& operator=(const WorkerBase&) = delete;

    Thread* thread() const { return thread_; }
    Thread* operator->() const { return thread_; }
    /// Joins the thread; if it has not ended within `limit` ticks it is
    /// suspended, the test fails and the run stops after this test.
    bool join(Tick limit = join_limit());
    bool joined() const { return thread_ == nullptr; }

protected:
    WorkerBase() = default;
    ~WorkerBase() = default;
    void launch(const Spec& spec, Thread::Entry entry, void* arg);
    Thread* thread_ = nullptr;
};

/// kt::Worker w({"name", kt::prio(-1)}, [&] { ... });  starts at once.
template <typename F>
class Worker : public WorkerBase {
public:
    Worker(const Spec& spec, F fn) : fn_(fn) { launch(spec, &entry, this); }
    ~Worker() { join(); }

private:
    static void entry(void* self) { static_cast<Worker*>(self)->fn_(); }
    F fn_;
};

/// Installs a soft-interrupt hook for the scope (rtos::arch::raise_soft_interrupt).
class SoftIrqHook {
public:
    SoftIrqHook(void (*fn)(void*), void* arg);
    template <typename F>
    explicit SoftIrqHook(F& fn) : SoftIrqHook([](void* f) { (*static_cast<F*>(f))(); }, &fn) {}
    ~SoftIrqHook();
    SoftIrqHook(const SoftIrqHook&) = delete;
    SoftIrqHook& operator=(const SoftIrqHook&) = delete;
};
/// Raises the software interrupt and waits (bounded) until its hook has run.
/// Returns false if it never ran.
bool raise_and_wait(volatile bool& hook_ran);

/// Heap usage at construction; same() is true when it is back there.
struct HeapMark {
    heap::Stats at = heap::stats();
    bool same() const {
        heap::Stats s = heap::stats();
        return s.used == at.used && s.allocations == at.allocations;
    }
};

/// Number of live threads (registered and not exited). An exited thread
/// still listed is harmless here: a detached one the idle thread has yet to
/// free, or one not joined, whose memory the heap check accounts for.
unsigned thread_count();

}  // namespace rtos::ktest

namespace kt = rtos::ktest;

// ---- Registration -----------------------------------------------------------

#define KTEST(test_name)                                              \
    static void ktest_fn_##test_name();                               \
    KTEST_SECTION static constexpr ktest_case ktest_case_##test_name{ \
        #test_name, ktest_fn_##test_name, __FILE__, __LINE__};        \
    static void ktest_fn_##test_name()

// ---- Checks -------------------------------------------------------------------

#define KT_FAIL(...) ktest_fail(__FILE__, __LINE__, __VA_ARGS__)

#define KT_CHECK_(cond, on_fail)                                  \
    do {                                                          \
        if (!(cond)) {                                            \
            ktest_fail(__FILE__, __LINE__, "expected %s", #cond); \
            on_fail;                                              \
        }                                                         \
    } while (0)

#define KT_CMP_(fn, op, a, b, on_fail)                                                             \
    do {                                                                                           \
        const auto& ka_ = (a);                                                                     \
        const auto& kb_ = (b);                                                                     \
        if (!::rtos::ktest::fn(ka_, kb_)) {                                                        \
            ::rtos::ktest::fail_cmp(__FILE__, __LINE__, #a, op, #b, ::rtos::ktest::Value::of(ka_), \
                                    ::rtos::ktest::Value::of(kb_));                                \
            on_fail;                                                                               \
        }                                                                                          \
    } while (0)

#define KT_EXPECT(cond) KT_CHECK_(cond, (void)0)
#define KT_ASSERT(cond) KT_CHECK_(cond, return )
#define KT_EXPECT_EQ(a, b) KT_CMP_(eq, "==", a, b, (void)0)
#define KT_EXPECT_NE(a, b) KT_CMP_(ne, "!=", a, b, (void)0)
#define KT_EXPECT_LT(a, b) KT_CMP_(lt, "<", a, b, (void)0)
#define KT_EXPECT_LE(a, b) KT_CMP_(le, "<=", a, b, (void)0)
#define KT_EXPECT_GT(a, b) KT_CMP_(gt, ">", a, b, (void)0)
#define KT_EXPECT_GE(a, b) KT_CMP_(ge, ">=", a, b, (void)0)
#define KT_EXPECT_STREQ(a, b) KT_CMP_(streq, "==", a, b, (void)0)
#define KT_ASSERT_EQ(a, b) KT_CMP_(eq, "==", a, b, return )
#define KT_ASSERT_NE(a, b) KT_CMP_(ne, "!=", a, b, return )
#define KT_ASSERT_LE(a, b) KT_CMP_(le, "<=", a, b, return )
#define KT_ASSERT_GE(a, b) KT_CMP_(ge, ">=", a, b, return )
/// lo <= v <= hi
#define KT_EXPECT_IN(v, lo, hi) \
    do {                        \
        KT_EXPECT_GE(v, lo);    \
        KT_EXPECT_LE(v, hi);    \
    } while (0)
