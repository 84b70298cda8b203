// The commands of the kernel test suite (rtos/selftest.hpp; the shell
// registers them under these names):
//
//   ktest [-l | [-w] filter]
//                         run every test (or those whose name contains
//                         `filter`); -l lists them; -w: the clock is the
//                         host's (QEMU without -icount), the timing tests
//                         allow its lateness (kt::host_clock()). Prints per test
//                           [ RUN  ] name
//                           [ PASS ] name (1 tick | N ticks)   or
//                           [ FAIL ] name: message (file:line)
//                         and last "ktest: N passed, M failed". Ctrl-C (the
//                         caller's `stop`) stops
//                         the run after the test that is running (a long test
//                         may end early: kt::stop_requested()).
//   ktest-overflow        destructive: a thread overflows its stack; the
//                         kernel must panic ("stack overflow in thread
//                         'overflow'") and end QEMU with a failure status.
//   ktest-guard           destructive, with CONFIG_RTOS_STACK_GUARD_PAGES: a
//                         thread stores just below its stack, past the
//                         canary; the guard page must fault and the kernel
//                         panic ("stack overflow in thread 'guard'").
//
// Each test runs in a fresh heap thread at kt::kBase while the runner (the
// shell thread, raised to priority 0) waits for it with a time limit. After
// each test the runner checks that the heap and the thread list are as the
// test found them.
#include <rtos/format.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>
#include <rtos/string.hpp>

#include "ktest/ktest.hpp"
#include "ktest/runner.hpp"

extern "C" const ktest_case __ktests_start[];
extern "C" const ktest_case __ktests_end[];

namespace rtos::ktest {
namespace {

constexpr unsigned kMaxTests = 256;
constexpr std::size_t kTestStack = 16384;
/// The longest test (stress) takes 5 s of ticks; this only catches hangs
/// (longer with several CPUs: see kt::join_limit()).
Tick test_limit() { return (smp::cpu_count() > 1 ? 180 : 30) * clock::tick_hz(); }

const ktest_case* sorted[kMaxTests];
unsigned file_rank[kMaxTests];

// Files in link order, then source order within a file (the compiler may emit
// a file's entries in any order).
unsigned collect() {
    unsigned n = 0;
    for (const ktest_case* c = __ktests_start; c < __ktests_end && n < kMaxTests; ++c) {
        unsigned rank = n;
        for (unsigned k = 0; k < n; ++k) {
            if (strcmp(sorted[k]->file, c->file) == 0) {
                rank = file_rank[k];
                break;
            }
        }
        unsigned i = n++;
        while (i > 0 && (file_rank[i - 1] > rank ||
                         (file_rank[i - 1] == rank && sorted[i - 1]->line > c->line))) {
            sorted[i] = sorted[i - 1];
            file_rank[i] = file_rank[i - 1];
            --i;
        }
        sorted[i] = c;
        file_rank[i] = rank;
    }
    return n;
}

bool contains(const char* s, const char* part) {
    std::size_t n = strlen(part);
    for (; *s; ++s)
        if (strncmp(s, part, n) == 0) return true;
    return !*part;
}

void test_entry(void* arg) { static_cast<const ktest_case*>(arg)->fn(); }

// The n-th online CPU, counting round (the runner pins test n there).
unsigned nth_cpu(unsigned n) {
    CpuMask online = smp::online_mask();
    n %= smp::cpu_count();
    for (unsigned c = 0; c < kMaxCpus; ++c)
        if ((online & cpu_mask(c)) && n-- == 0) return c;
    return 0;
}

// Runs one test, pinned to CPU `cpu` (its threads inherit that: the
// uniprocessor rules the classic tests check hold there; the SMP tests give
// theirs other CPUs); true when it passed.
bool run_one(const ktest_case* tc, unsigned cpu) {
    printk("[ RUN  ] %s\n", tc->name);
    reset_failures();
    Thread::sleep(1);  // the idle thread frees what ended before (the boot thread, say)
    HeapMark heap_mark;
    unsigned threads = thread_count();
    Tick t0 = clock::ticks();
    Thread* t = Thread::create({.name = "ktest", .priority = kBase, .affinity = cpu_mask(cpu)},
                               test_entry, const_cast<ktest_case*>(tc), kTestStack);
    if (!t) {
        ktest_fail(__FILE__, __LINE__, "no memory for the test thread");
    } else if (t->join(Timeout::ticks(test_limit())) != Status::ok) {
        t->suspend();
        ktest_fail(tc->file, tc->line, "did not finish within %llu ticks",
                   static_cast<unsigned long long>(test_limit()));
        abort_suite("a test hung");
    }
    Tick elapsed = clock::ticks() - t0;
    if (!aborted()) {
        Thread::sleep(2);  // the idle thread frees detached threads that ended
        unsigned now_threads = thread_count();
        // Fewer is not the test's doing: a thread older than the test may
        // end meanwhile (main, exiting after it started the shell, on a CPU
        // the host holds back without -icount).
        if (now_threads > threads)
            ktest_fail(tc->file, tc->line, "left %d thread(s) behind",
                       static_cast<int>(now_threads) - static_cast<int>(threads));
        heap::Stats h = heap::stats();
        if (!heap_mark.same())
            ktest_fail(tc->file, tc->line, "heap not back: used %zu -> %zu, allocations %zu -> %zu",
                       heap_mark.at.used, h.used, heap_mark.at.allocations, h.allocations);
    }
    unsigned n = failures();
    if (n == 0) {
        printk("[ PASS ] %s (%llu tick%s)\n", tc->name, static_cast<unsigned long long>(elapsed),
               elapsed == 1 ? "" : "s");
        return true;
    }
    const Failure& f = failure(0);
    printk("[ FAIL ] %s: %s (%s:%d)\n", tc->name, f.message, f.file, f.line);
    for (unsigned i = 1; i < n && i < kKeptFailures; ++i)
        printk("         also: %s (%s:%d)\n", failure(i).message, failure(i).file, failure(i).line);
    if (n > kKeptFailures) printk("         and %u more failures\n", n - kKeptFailures);
    return false;
}

int cmd_ktest(int argc, char** argv, selftest::StopFn stop) {
    unsigned total = collect();
    if (argc == 2 && strcmp(argv[1], "-l") == 0) {
        for (unsigned i = 0; i < total; ++i) printk("%s\n", sorted[i]->name);
        printk("ktest: %u tests\n", total);
        return 0;
    }
    bool host_clock = argc >= 2 && strcmp(argv[1], "-w") == 0;
    if (host_clock) {
        --argc;
        ++argv;
    }
    if (argc > 2 || (argc == 2 && argv[1][0] == '-')) return selftest::kUsage;
    const char* filter = argc == 2 ? argv[1] : "";
    if (aborted()) {
        printk("ktest: an earlier run left threads behind (%s); reboot first\n", aborted());
        return 1;
    }
    unsigned passed = 0, failed = 0, selected = 0;
    for (unsigned i = 0; i < total; ++i) selected += contains(sorted[i]->name, filter);
    if (selected == 0) {  // a typo must not look like a clean run
        printk("ktest: no test matches '%s' (ktest -l lists them)\n", filter);
        return 1;
    }
    Thread* self = Thread::current();
    unsigned old_priority = self->base_priority();
    self->set_priority(0);  // above every test thread, so a runaway test cannot starve us
    set_stop_check(stop);
    set_host_clock(host_clock);
    for (unsigned i = 0; i < total; ++i) {
        if (!contains(sorted[i]->name, filter)) continue;
        if (stop()) break;
        if (run_one(sorted[i], nth_cpu(passed + failed))) ++passed;
        else ++failed;
        if (aborted()) {
            printk("ktest: stopping: %s\n", aborted());
            break;
        }
    }
    set_stop_check(nullptr);
    set_host_clock(false);
    self->set_priority(old_priority);
    // Interrupted: the summary says it is partial (also when Ctrl-C cut the last one short).
    if (stop()) {
        printk("ktest: interrupted after %u of %u tests: %u passed, %u failed\n", passed + failed,
               selected, passed, failed);
        return selftest::kInterrupted;
    }
    printk("ktest: %u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}

// ---- ktest-overflow ------------------------------------------------------------

volatile unsigned overflow_limit = ~0u;  // volatile: the recursion is not provably infinite

// Each level holds a buffer the compiler must keep, then waits for the next
// tick so the kernel sees the stack pointer of every level.
[[gnu::noinline]] unsigned recurse(unsigned depth) {
    volatile uint8_t buf[128];
    for (auto& b : buf) b = static_cast<uint8_t>(depth);
    Tick t = clock::ticks();
    while (clock::ticks() == t) {
    }
    if (depth >= overflow_limit) return buf[0];
    return recurse(depth + 1) + buf[depth % sizeof(buf)];  // not a tail call
}

void overflow_entry(void*) { recurse(0); }

// A destructive command: `entry` runs in a thread called `name` on a
// 4096-byte stack and must end in a panic; returning is the failure. An
// argument pins the thread to that secondary CPU (1..N-1: a panic there
// must stop the others too, docs/smp.md); 0 is refused, so that a stray
// "0" does not end the system (the shell's CPUs run it without one).
int run_must_panic(int argc, char** argv, const char* name, Thread::Entry entry, const char* what) {
    if (argc > 2) return selftest::kUsage;
    CpuMask where = 0;  // the shell's CPUs
    if (argc == 2) {
        unsigned long long cpu = 0;
        if (!parse_u64(argv[1], cpu)) return selftest::kUsage;
        if (cpu == 0 || cpu >= kMaxCpus ||
            !(smp::online_mask() & cpu_mask(static_cast<unsigned>(cpu)))) {
            // Not "ktest-<name>: ...": a refusal must not read as its report.
            printk("cpu %llu is not a secondary CPU (%u online)\n", cpu, smp::cpu_count());
            return 1;
        }
        where = cpu_mask(static_cast<unsigned>(cpu));
        printk("ktest-%s: on cpu %llu\n", name, cpu);
    }
    printk("ktest-%s: %s a 4096-byte stack; the kernel must panic\n", name, what);
    Thread* t =
        Thread::create({.name = name, .priority = kBase, .affinity = where}, entry, nullptr, 4096);
    if (!t) return 1;
    t->join(Timeout::ticks(5 * clock::tick_hz()));
    printk("ktest-%s: FAILED: it was not caught\n", name);
    return 1;
}

int cmd_overflow(int argc, char** argv) {
    return run_must_panic(argc, argv, "overflow", overflow_entry, "overflowing");
}

// ---- ktest-panic -----------------------------------------------------------------

void panic_entry(void*) { panic("ktest-panic: raised on cpu %u", smp::cpu_id()); }

int cmd_panic(int argc, char** argv) {
    return run_must_panic(argc, argv, "panic", panic_entry, "calling panic() on");
}

#if defined(CONFIG_RTOS_STACK_GUARD_PAGES)
// ---- ktest-guard ---------------------------------------------------------------

// The stack is one page, so the page of a local is the stack's bottom page
// and the word below it lies in the guard page. Nothing in the band changes.
void guard_entry(void*) {
    volatile uint64_t local = 0;
    auto page = reinterpret_cast<uintptr_t>(&local) & ~uintptr_t{4095};
    *reinterpret_cast<volatile uint64_t*>(page - 64) = local;
}

int cmd_guard(int argc, char** argv) {
    return run_must_panic(argc, argv, "guard", guard_entry, "storing below");
}
#endif

#if defined(CONFIG_RTOS_UBSAN)
// ---- ktest-ubsan ---------------------------------------------------------------

volatile int ubsan_operand = 0x7fffffff;  // volatile: the overflow happens at run time

// INT_MAX + 1: the sanitizer's handler must report it and panic.
void ubsan_entry(void*) {
    const int v = ubsan_operand + 1;
    printk("ktest-ubsan: INT_MAX + 1 = %d went unreported\n", v);
}

int cmd_ubsan(int argc, char** argv) {
    return run_must_panic(argc, argv, "ubsan", ubsan_entry, "a signed overflow on");
}
#endif

}  // namespace
}  // namespace rtos::ktest

int rtos::selftest::ktest(int argc, char** argv, StopFn stop) {
    return rtos::ktest::cmd_ktest(argc, argv, stop);
}
int rtos::selftest::ktest_overflow(int argc, char** argv) {
    return rtos::ktest::cmd_overflow(argc, argv);
}
int rtos::selftest::ktest_panic(int argc, char** argv) {
    return rtos::ktest::cmd_panic(argc, argv);
}
#if defined(CONFIG_RTOS_STACK_GUARD_PAGES)
int rtos::selftest::ktest_guard(int argc, char** argv) {
    return rtos::ktest::cmd_guard(argc, argv);
}
#endif
#if defined(CONFIG_RTOS_UBSAN)
int rtos::selftest::ktest_ubsan(int argc, char** argv) {
    return rtos::ktest::cmd_ubsan(argc, argv);
}
#endif
