// The simulated port (see sim.hpp): arch:: functions, printk, and the
// process-per-scenario runner.
#include "sim.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdarg>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <rtos/clock.hpp>
#include <rtos/heap.hpp>
#include <rtos/printk.hpp>
#include <rtos/thread.hpp>

#include "arch/port.hpp"
#include "kernel/scheduler.hpp"

namespace {

// One per kernel thread; its address is the "stack pointer" the kernel keeps.
struct Context {
    void (*entry)(void*);
    void* arg;
    void (*exit_fn)();
    bool started = false;
    bool masked = false;  // its interrupt mask while another context runs
};

std::mutex baton_lock;
std::condition_variable baton_moved;
Context* running = nullptr;
bool scenario_done = false;

bool irqs_masked = false;
bool soft_pending = false;
int failed_checks = 0;
constexpr rtos::Tick kIdleLimit = 1000000;

[[noreturn]] void run_context(Context* c) {
    {
        std::unique_lock l(baton_lock);
        baton_moved.wait(l, [&] { return running == c; });
    }
    irqs_masked = false;  // a new thread starts with interrupts on
    c->entry(c->arg);
    c->exit_fn();
    std::abort();  // exit_fn (Thread::exit) never returns
}

// Gives the baton to `to` and waits until the kernel hands it back to `from`.
void pass_baton(Context* from, Context* to) {
    std::unique_lock l(baton_lock);
    from->masked = irqs_masked;
    running = to;
    if (!to->started) {
        to->started = true;
        std::thread(run_context, to).detach();
    }
    baton_moved.notify_all();
    baton_moved.wait(l, [&] { return running == from; });
    irqs_masked = from->masked;
}

bool in_interrupt() { return rtos_cpu_local.trap_depth != 0; }

// What the port does at the exit of the outermost trap (trap.S): the kernel
// is called only when the trap made a thread ready.
void trap_exit() {
    rtos_cpu_local.trap_depth = 0;
    if (rtos_cpu_local.switch_pending) rtos_kernel_preempt();
}

void take_soft_interrupt() {
    soft_pending = false;
    rtos_cpu_local.trap_depth = 1;
    rtos::kernel::soft_interrupt_from_isr();
    trap_exit();
}

void timer_interrupt() {
    if (rtos::clock::ticks() > kIdleLimit) {
        std::fprintf(stderr, "sim: %llu ticks without an end: deadlock?\n",
                     static_cast<unsigned long long>(rtos::clock::ticks()));
        std::fflush(stderr);
        _exit(100);
    }
    rtos_cpu_local.trap_depth = 1;
    rtos::kernel::announce_ticks(1);
    trap_exit();
}

}  // namespace

rtos::arch::CpuLocal rtos_cpu_local{};

// A switch hands the baton: `next` is the Context the kernel keeps as the
// thread's stack pointer.
extern "C" void rtos_arch_switch(void** save_sp, void* next_sp) {
    Context* me = running;
    *save_sp = me;
    pass_baton(me, static_cast<Context*>(next_sp));
}

namespace rtos::arch {

IrqState irq_save() {
    IrqState old = irqs_masked ? 0 : 1;
    irqs_masked = true;
    return old;
}
void irq_restore(IrqState s) {
    if (!s) return;
    irqs_masked = false;
    if (soft_pending && !in_interrupt()) take_soft_interrupt();  // taken as soon as unmasked
}
void irq_enable() { irqs_masked = false; }
bool in_isr() { return in_interrupt(); }
unsigned isr_nesting() { return rtos_cpu_local.trap_depth; }
uintptr_t stack_pointer() { return ~uintptr_t{0}; }  // no stack checks on the host

// The idle thread's wait: nothing can run until the next tick.
void wait_for_interrupt() { timer_interrupt(); }

void* init_stack(void*, void (*entry)(void*), void* arg, void (*exit_fn)()) {
    return new Context{entry, arg, exit_fn};
}

void start_first_thread(void* sp) {
    std::unique_lock l(baton_lock);
    auto* first = static_cast<Context*>(sp);
    running = first;
    first->started = true;
    std::thread(run_context, first).detach();
    baton_moved.notify_all();
    baton_moved.wait(l, [] { return scenario_done; });
    std::fflush(stderr);
    std::fflush(stdout);
    _exit(failed_checks > 99 ? 99 : failed_checks);
}

void timer_start(uint32_t) {}
void timer_idle(uint64_t) {}  // the idle thread's wait is one tick anyway
const char* timer_source() { return "sim"; }
uint64_t counter_read() { return rtos::clock::ticks() * 1000; }
uint64_t counter_frequency() { return 1000000; }
void set_counter_frequency(uint64_t) {}

void poweroff() { _exit(0); }
void reboot() { _exit(0); }
void fail_exit() {
    std::fflush(stderr);
    _exit(101);
}
void dump_frame(const void*) {}
const char* name() { return "sim"; }

void raise_soft_interrupt() {
    if (irqs_masked || in_interrupt()) soft_pending = true;
    else take_soft_interrupt();
}

}  // namespace rtos::arch

extern "C" int vprintk(const char* fmt, va_list ap) { return std::vfprintf(stderr, fmt, ap); }
extern "C" int printk(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk(fmt, ap);
    va_end(ap);
    return n;
}
// The console's panic switch (kernel/console_internal.hpp) for the tests
// that link no console.cpp: printk above writes straight to stderr already.
// Weak: a test that links console.cpp gets its own.
namespace rtos::console {
[[gnu::weak]] void panic_mode() {}
}  // namespace rtos::console

namespace sim {

void fail(const char* file, int line, const std::string& what) {
    ++failed_checks;
    std::fprintf(stderr, "%s:%d: %s\n", file, line, what.c_str());
}

void tick(unsigned n) {
    for (unsigned i = 0; i < n; ++i) timer_interrupt();
}

void soft_interrupt() { rtos::arch::raise_soft_interrupt(); }

namespace {

std::vector<uint8_t> arena(1 << 20);
rtos::StaticThread<8192> main_thread;

void main_entry(void* arg) {
    reinterpret_cast<void (*)()>(arg)();
    std::unique_lock l(baton_lock);
    scenario_done = true;
    baton_moved.notify_all();
    baton_moved.wait(l, [] { return false; });  // the process ends meanwhile
}

}  // namespace

int run_isolated(void (*scenario)()) {
    std::fflush(stdout);
    std::fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        alarm(30);  // a kernel bug that spins (say, a corrupted list) must not hang the test
        rtos::heap::init(arena.data(), arena.size());
        main_thread.init({.name = "main", .priority = 10}, main_entry,
                         reinterpret_cast<void*>(scenario));
        rtos::kernel::start(&main_thread);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace sim
