// The fuzz targets' kernel stand-in (see fuzz_kernel.hpp).
#include "fuzz_kernel.hpp"

#include <ucontext.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

#include <rtos/clock.hpp>
#include <rtos/irq.hpp>
#include <rtos/mutex.hpp>
#include <rtos/panic.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/thread.hpp>
#include <rtos/timer.hpp>

#include "arch/port.hpp"

#if defined(__SANITIZE_ADDRESS__) || defined(__has_feature)
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define FUZZ_ASAN 1
#endif
#endif

namespace {

constexpr std::size_t kStack = 256 * 1024;

struct Coroutine {
    ucontext_t context;
    char* stack;
    rtos::Thread::Entry entry;
    void* arg;
    bool done = false;
    rtos::Thread thread;
};

// Never destroyed: LeakSanitizer's check at exit runs after the static
// destructors, and a destroyed vector would leave the coroutines and stacks
// it held unreachable (a "leak" whenever the last input made fewer threads
// than an earlier one).
std::vector<Coroutine*>& threads = *new std::vector<Coroutine*>;
// Threads forgotten by reset(), each with its stack, for the next inputs:
// an input then frees what it allocates (libFuzzer re-runs an input that
// allocated more than it freed, to look for a leak).
std::vector<Coroutine*>& spare = *new std::vector<Coroutine*>;
std::vector<rtos::Timer*>& timers = *new std::vector<rtos::Timer*>;  // armed ones
Coroutine* running = nullptr;  // nullptr: the harness (main context)
ucontext_t main_context;
const void* main_stack_bottom = nullptr;
std::size_t main_stack_size = 0;

rtos::Tick clock_ticks = 0;
unsigned masked = 0;
bool in_interrupt = false;
rtos::irq::Handler handler = nullptr;
void* handler_arg = nullptr;
bool irq_available = true;
bool (*line_pending)(void*) = nullptr;
void* line_ctx = nullptr;

// Switches from the harness into `c` and back (ASan is told about both stacks).
void enter(Coroutine* c) {
    running = c;
#ifdef FUZZ_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, c->stack, kStack);
#endif
    swapcontext(&main_context, &c->context);
#ifdef FUZZ_ASAN
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
    running = nullptr;
}

// From the running coroutine back to the harness; returns when resumed.
void leave(bool finished) {
    Coroutine* c = running;
#ifdef FUZZ_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(finished ? nullptr : &fake, main_stack_bottom, main_stack_size);
#endif
    swapcontext(&c->context, &main_context);
#ifdef FUZZ_ASAN
    __sanitizer_finish_switch_fiber(fake, &main_stack_bottom, &main_stack_size);
#endif
}

void trampoline(unsigned lo, unsigned hi) {
    auto* c = reinterpret_cast<Coroutine*>(static_cast<std::uintptr_t>(lo) |
                                           static_cast<std::uintptr_t>(hi) << 32);
#ifdef FUZZ_ASAN
    __sanitizer_finish_switch_fiber(nullptr, &main_stack_bottom, &main_stack_size);
#endif
    c->entry(c->arg);
    c->done = true;
    leave(true);
    std::abort();  // never resumed
}

// A wait that cannot end in the harness's own context.
[[noreturn]] void forever(const char* what) {
    std::fprintf(stderr, "fuzz_kernel: %s would wait forever\n", what);
    std::abort();
}

// A blocking wait for `ready` of at most `timeout`: in a coroutine it yields
// until ready (or once, for a finite timeout); in the harness the time passes.
template <typename Ready>
bool wait_for(Ready ready, rtos::Timeout timeout, const char* what) {
    if (ready()) return true;
    if (timeout.is_none()) return false;
    if (running == nullptr) {
        if (timeout.is_forever()) forever(what);
        clock_ticks += timeout.count();
        return ready();
    }
    do {
        leave(false);
        if (ready()) return true;
    } while (timeout.is_forever());
    clock_ticks += timeout.count();
    return false;
}

}  // namespace

namespace fuzz_kernel {

void reset() {
    for (Coroutine* c : threads) {
#ifdef FUZZ_ASAN
        ASAN_UNPOISON_MEMORY_REGION(c->stack, kStack);  // frames that never returned
#endif
        spare.push_back(c);
    }
    threads.clear();
    timers.clear();  // of drivers of earlier inputs: never fire again
    clock_ticks = 0;
    masked = 0;
    in_interrupt = false;
    handler = nullptr;
    handler_arg = nullptr;
    line_pending = nullptr;
    line_ctx = nullptr;
    irq_available = true;
}

void set_irq_available(bool available) { irq_available = available; }

void set_line(bool (*pending)(void*), void* ctx) {
    line_pending = pending;
    line_ctx = ctx;
}

bool interrupt() {
    if (handler == nullptr || line_pending == nullptr) return false;
    if (masked != 0 || in_interrupt) return true;  // taken when unmasked (see irq_restore)
    in_interrupt = true;
    for (int i = 0; i < 16 && line_pending(line_ctx); ++i) handler(handler_arg);
    in_interrupt = false;
    return true;
}

void run_threads(unsigned rounds) {
    for (unsigned r = 0; r < rounds; ++r) {
        // Timers the clock has passed fire first, as the kernel's timer
        // thread would have run them by now.
        for (std::size_t i = 0; i < timers.size();) {
            rtos::Timer* t = timers[i];
            if (t->expiry > clock_ticks) {
                ++i;
                continue;
            }
            if (t->period) {
                t->expiry = clock_ticks + t->period;
                ++i;
            } else {
                timers.erase(timers.begin() + static_cast<std::ptrdiff_t>(i));
            }
            t->fired_ = t->fired_ + 1;
            t->callback_(*t, t->arg_);
        }
        for (std::size_t i = 0; i < threads.size(); ++i)
            if (!threads[i]->done) enter(threads[i]);
    }
}

rtos::Tick now() { return clock_ticks; }

}  // namespace fuzz_kernel

// ---- the kernel API the drivers call ----

namespace rtos {

namespace arch {
IrqState irq_save() { return masked++; }
void irq_restore(IrqState) {
    if (masked == 0) panic("irq_restore without irq_save");
    if (--masked == 0 && !in_interrupt) fuzz_kernel::interrupt();  // one that came meanwhile
}
void irq_enable() {}
bool in_isr() { return in_interrupt; }
unsigned isr_nesting() { return in_interrupt ? 1 : 0; }
uint64_t counter_read() { return clock_ticks * 1000; }
uintptr_t stack_pointer() { return ~uintptr_t{0}; }
}  // namespace arch

void panic(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::fprintf(stderr, "PANIC: ");
    std::vfprintf(stderr, fmt, ap);
    std::fprintf(stderr, "\n");
    va_end(ap);
    std::abort();
}

namespace clock {
Tick ticks() { return clock_ticks; }
uint64_t now_ns() { return clock_ticks * (1000000000ull / CONFIG_RTOS_TICK_HZ); }
}  // namespace clock

namespace irq {
bool attach(unsigned, Handler h, void* arg) {
    if (!irq_available) return false;
    handler = h;
    handler_arg = arg;
    return true;
}
void enable(unsigned) {}
void disable(unsigned) {}
// One CPU: every interrupt is delivered to CPU 0.
unsigned cpu_of(unsigned) { return 0; }
bool route(unsigned, unsigned cpu) { return cpu == 0; }
}  // namespace irq

Status Semaphore::take(Timeout timeout) {
    if (!wait_for([this] { return count_ > 0; }, timeout, "Semaphore::take"))
        return Status::timeout;
    count_ = count_ - 1;
    return Status::ok;
}
Status Semaphore::give() { return give_locked(); }
Status Semaphore::give_from_isr() { return give_locked(); }
Status Semaphore::give_locked() {
    if (count_ >= max_) return Status::overflow;
    count_ = count_ + 1;
    return Status::ok;
}
void Semaphore::destroy() {}

Mutex::~Mutex() {}
Status Mutex::lock(Timeout timeout) {
    Thread* self = running ? &running->thread : nullptr;
    if (depth_ > 0 && owner_ != self) {
        if (!wait_for([this] { return depth_ == 0; }, timeout, "Mutex::lock"))
            return Status::timeout;
    }
    owner_ = self;
    ++depth_;
    return Status::ok;
}
Status Mutex::unlock() {
    if (depth_ == 0) panic("Mutex::unlock of an unlocked mutex");
    if (--depth_ == 0) owner_ = nullptr;
    return Status::ok;
}

Thread* Thread::create(const Params&, Entry entry, void* arg, std::size_t, bool) {
    Coroutine* c;
    if (spare.empty()) {
        c = new Coroutine;
        c->stack = static_cast<char*>(std::malloc(kStack));
    } else {
        c = spare.back();
        spare.pop_back();
        char* const stack = c->stack;
        c->~Coroutine();
        new (c) Coroutine;
        c->stack = stack;
    }
    c->entry = entry;
    c->arg = arg;
    getcontext(&c->context);
    c->context.uc_stack.ss_sp = c->stack;
    c->context.uc_stack.ss_size = kStack;
    c->context.uc_link = nullptr;
    const auto p = reinterpret_cast<std::uintptr_t>(c);
    makecontext(&c->context, reinterpret_cast<void (*)()>(&trampoline), 2, static_cast<unsigned>(p),
                static_cast<unsigned>(p >> 32));
    // The stack is set up. Left in the context, AddressSanitizer's
    // swapcontext() would clear the shadow of all 256 KiB on every switch
    // into the thread (a memset per switch, and the redzones of the live
    // frames lost); the stack's shadow is already clear (fresh from malloc,
    // or unpoisoned by reset()).
    c->context.uc_stack.ss_sp = nullptr;
    c->context.uc_stack.ss_size = 0;
    threads.push_back(c);
    return &c->thread;
}

Thread* Thread::current() { return running ? &running->thread : nullptr; }
void Thread::yield() {
    if (running) leave(false);
}
void Thread::sleep(Tick ticks) {
    clock_ticks += ticks;
    yield();
}
void Thread::sleep_until(Tick deadline) {
    if (deadline > clock_ticks) clock_ticks = deadline;
    yield();
}

}  // namespace rtos

namespace rtos {

// Timers: armed ones fire in run_threads() once the clock has passed them.
Timer::~Timer() { stop(); }
Status Timer::arm(Tick delay, Tick every) {
    stop();
    expiry = clock_ticks + delay;
    period = every;
    timers.push_back(this);
    return Status::ok;
}
Status Timer::start_once(Tick delay) { return arm(delay, 0); }
Status Timer::start_periodic(Tick every) { return every ? arm(every, every) : Status::invalid; }
void Timer::stop() {
    for (std::size_t i = 0; i < timers.size(); ++i)
        if (timers[i] == this)
            return (void)timers.erase(timers.begin() + static_cast<std::ptrdiff_t>(i));
}
bool Timer::active() const {
    for (const Timer* t : timers)
        if (t == this) return true;
    return false;
}

}  // namespace rtos
