// The ktest framework's services: failure records, worker threads, the
// soft-interrupt hook, small waits. The runner (runner.cpp) reads the records.
#include <cstdarg>

#include <rtos/format.hpp>
#include <rtos/spinlock.hpp>
#include <rtos/string.hpp>

#include "arch/port.hpp"
#include "kernel/scheduler.hpp"
#include "ktest/ktest.hpp"
#include "ktest/runner.hpp"

namespace rtos::ktest {
namespace {

// Under record_lock: threads of a test on several CPUs may fail at once.
SpinLock record_lock;
Failure records[kKeptFailures];
volatile unsigned failure_count = 0;
const char* volatile abort_reason = nullptr;
// The caller's stop check for the run in progress: set by the runner before
// a run's first test and cleared after its last (one run at a time), read by
// the tests it runs.
selftest::StopFn volatile stop_check = nullptr;
// Set by the runner with stop_check (`ktest -w`), read by the tests it runs.
volatile bool on_host_clock = false;

const char* basename(const char* path) {
    const char* b = path;
    for (const char* p = path; *p; ++p)
        if (*p == '/') b = p + 1;
    return b;
}

void record(const char* file, int line, const char* msg) {
    SpinLockGuard lock(record_lock);
    unsigned n = failure_count;
    if (n < kKeptFailures) {
        Failure& f = records[n];
        f.file = basename(file);
        f.line = line;
        std::size_t i = 0;
        for (; msg[i] && i + 1 < sizeof(f.message); ++i) f.message[i] = msg[i];
        f.message[i] = '\0';
    }
    failure_count = n + 1;
}

void format_value(char* buf, std::size_t n, const Value& v) {
    switch (v.kind) {
    case Value::kSigned: snprintf(buf, n, "%lld", v.s); break;
    case Value::kUnsigned: snprintf(buf, n, "%llu", v.u); break;
    case Value::kBool: snprintf(buf, n, "%s", v.u ? "true" : "false"); break;
    case Value::kPointer: snprintf(buf, n, "%p", v.p); break;
    case Value::kString: snprintf(buf, n, "\"%s\"", v.str ? v.str : "(null)"); break;
    case Value::kStatus: snprintf(buf, n, "%s", status_name(static_cast<Status>(v.s))); break;
    case Value::kState:
        snprintf(buf, n, "%s", thread_state_name(static_cast<ThreadState>(v.u)));
        break;
    }
}

}  // namespace

// ---- Records (runner side) ---------------------------------------------------

void reset_failures() {
    SpinLockGuard lock(record_lock);
    failure_count = 0;
}
unsigned failures() { return failure_count; }
const Failure& failure(unsigned i) { return records[i]; }
const char* aborted() { return abort_reason; }
void set_stop_check(selftest::StopFn stop) { stop_check = stop; }
void set_host_clock(bool host) { on_host_clock = host; }

// ---- Records (test side) -----------------------------------------------------

void fail_cmp(const char* file, int line, const char* a, const char* op, const char* b,
              const Value& va, const Value& vb) {
    char x[48], y[48];
    format_value(x, sizeof(x), va);
    format_value(y, sizeof(y), vb);
    ktest_fail(file, line, "%s %s %s failed: %s vs %s", a, op, b, x, y);
}

void abort_suite(const char* why) {
    if (!abort_reason) abort_reason = why;
}

bool stop_requested() {
    selftest::StopFn stop = stop_check;
    return stop && stop();
}

bool streq(const char* a, const char* b) { return a && b ? strcmp(a, b) == 0 : a == b; }

// ---- Time --------------------------------------------------------------------

bool host_clock() { return on_host_clock; }
Tick lateness() { return on_host_clock ? ms(100) : 0; }

void spin_until(Tick deadline) {
    while (clock::ticks() < deadline) {
    }
}

// ---- Threads -----------------------------------------------------------------

void WorkerBase::launch(const Spec& spec, Thread::Entry entry, void* arg) {
    // On the host's clock a late tick can end a slice at any instruction,
    // which would reorder threads of one priority in tests about something
    // else: their slices outlast the lateness. Tests of slices ask for theirs.
    unsigned slice = spec.timeslice;
    if (slice == 0 && host_clock()) slice = CONFIG_RTOS_TIMESLICE_TICKS + lateness();
    thread_ = Thread::create({.name = spec.name,
                              .priority = spec.priority,
                              .timeslice = slice,
                              .affinity = spec.affinity},
                             entry, arg, spec.stack);
    if (!thread_) ktest_fail(__FILE__, __LINE__, "could not create thread '%s'", spec.name);
}

bool join_thread(Thread*& thread, Tick limit) {
    if (!thread) return true;
    Thread* t = thread;
    thread = nullptr;
    if (t->join(Timeout::ticks(limit)) == Status::ok) return true;
    // It would run on with pointers into the test's stack: park it for good.
    ThreadState was = t->state();
    t->suspend();
    ktest_fail(__FILE__, __LINE__, "thread '%s' did not finish within %llu ticks (state %s)",
               t->name(), static_cast<unsigned long long>(limit), thread_state_name(was));
    abort_suite("a test thread could not be stopped");
    return false;
}

bool WorkerBase::join(Tick limit) { return join_thread(thread_, limit); }

unsigned thread_count() {
    kernel::KernelLock lock;
    unsigned n = 0;
    kernel::for_each_thread([&](Thread* t) { n += t->state() != ThreadState::exited; });
    return n;
}

// ---- Software interrupt --------------------------------------------------------

SoftIrqHook::SoftIrqHook(void (*fn)(void*), void* arg) { kernel::set_soft_interrupt_hook(fn, arg); }
SoftIrqHook::~SoftIrqHook() { kernel::set_soft_interrupt_hook(nullptr, nullptr); }

bool raise_and_wait(volatile bool& hook_ran) {
    arch::raise_soft_interrupt();
    // The interrupt is taken at once on riscv64; an interrupt controller
    // (aarch64 GIC) may take a few instructions to deliver it. Bounded: one
    // tick is ample.
    Tick end = clock::ticks() + 2;
    while (!hook_ran && clock::ticks() < end) {
    }
    return hook_ran;
}

}  // namespace rtos::ktest

extern "C" void ktest_fail(const char* file, int line, const char* fmt, ...) {
    char msg[sizeof(rtos::ktest::Failure::message)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    rtos::ktest::record(file, line, msg);
}

extern "C" int ktest_failed(void) { return rtos::ktest::failures() != 0; }
extern "C" unsigned long ktest_lateness(void) { return rtos::ktest::lateness(); }
