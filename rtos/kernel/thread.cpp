#include <new>

#include <rtos/clock.hpp>
#include <rtos/critical.hpp>
#include <rtos/heap.hpp>
#include <rtos/mutex.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>
#include <rtos/thread.hpp>

#include "arch/port.hpp"
#include "scheduler.hpp"

namespace rtos {

namespace {

void thread_exit_trampoline() { Thread::exit(); }

constexpr std::size_t kMinStack = 1024;

}  // namespace

const char* thread_state_name(ThreadState s) {
    switch (s) {
    case ThreadState::created: return "created";
    case ThreadState::ready: return "ready";
    case ThreadState::running: return "running";
    case ThreadState::blocked: return "blocked";
    case ThreadState::sleeping: return "sleeping";
    case ThreadState::suspended: return "suspended";
    case ThreadState::exited: return "exited";
    }
    return "?";
}

ThreadState Thread::state() const {
    // The running thread stays on its ready list: running is ready and current.
#if defined(CONFIG_RTOS_SMP)
    if (smp::active())
        return run_state == ThreadState::ready && on_cpu ? ThreadState::running : run_state;
        // One CPU: on_cpu is not kept, and the running thread cannot move.
#endif
    return run_state == ThreadState::ready && this == kernel::current() ? ThreadState::running
                                                                        : run_state;
}

Status Thread::init(const Params& params, Entry entry_fn, void* entry_arg, void* stack,
                    std::size_t size) {
    return init_guarded(params, entry_fn, entry_arg, stack, size, nullptr);
}

Status Thread::init_guarded(const Params& params, Entry entry_fn, void* entry_arg, void* stack,
                            std::size_t size, void* guard) {
    if (!entry_fn || !stack || size < kMinStack || params.priority >= kernel::kPriorityLevels)
        return Status::invalid;
    if (run_state != ThreadState::created && run_state != ThreadState::exited) return Status::busy;
    thread_name = params.name ? params.name : "thread";
    prio = base_prio = params.priority;
    timeslice = params.timeslice ? params.timeslice : CONFIG_RTOS_TIMESLICE_TICKS;
    slice_left = timeslice;
    entry = entry_fn;
    arg = entry_arg;
    // Keep the stack 16-byte aligned at both ends.
    auto base = (reinterpret_cast<uintptr_t>(stack) + 15) & ~uintptr_t{15};
    auto top = (reinterpret_cast<uintptr_t>(stack) + size) & ~uintptr_t{15};
    stack_base = reinterpret_cast<uint8_t*>(base);
    stack_bytes = top - base;
    kernel::prepare_stack(stack_base, stack_bytes);
#if defined(CONFIG_RTOS_STACK_GUARD_PAGES)
    // An overflow then faults on its first store below the stack. Without a
    // page table to spare the thread runs without (the canary remains).
    if (guard && static_cast<uint8_t*>(guard) + arch::kPageSize == stack_base) {
        static bool warned = false;
        if (arch::set_guard_page(guard, true)) guard_page = static_cast<uint8_t*>(guard);
        else if (!warned && (warned = true))
            printk("thread '%s': no guard page (no page table left); canary only\n", thread_name);
    }
#else
    (void)guard;
#endif
    sp = arch::init_stack(reinterpret_cast<void*>(top), entry, arg, thread_exit_trampoline);
    cpu_counter = 0;
#if defined(CONFIG_RTOS_SMP)
    if (params.affinity) {
        cpu_affinity = params.affinity & kAllCpus;
    } else {
        // The creator's, as on Linux; every CPU before the scheduler runs.
        arch::IrqState s = arch::irq_save();
        const Thread* creator = kernel::started() ? kernel::current() : nullptr;
        cpu_affinity = creator ? creator->cpu_affinity : kAllCpus;
        arch::irq_restore(s);
    }
    if (!cpu_affinity) cpu_affinity = kAllCpus;
    on_cpu = false;
    run_cpu = static_cast<uint8_t>(__builtin_ctz(cpu_affinity));
#endif
    run_state = ThreadState::created;
    kernel::register_thread(this);
    return Status::ok;
}

Status Thread::start() {
    kernel::KernelLock lock;
    if (run_state != ThreadState::created) return Status::busy;
    kernel::make_ready(this);
    kernel::reschedule();
    return Status::ok;
}

Thread* Thread::create(const Params& params, Entry entry_fn, void* entry_arg,
                       std::size_t stack_size, bool detach) {
    // One block: the stack, then the control block. An overflowing stack
    // grows away from its own control block, which the overflow check and
    // report need intact.
    // With guard pages the block starts with the page-aligned guard page.
    constexpr std::size_t guard = detail::kStackGuardPage;
    std::size_t stack = (stack_size + 15) & ~std::size_t{15};
    if (stack < stack_size || stack > SIZE_MAX - sizeof(Thread) - guard) return nullptr;
    auto* mem = static_cast<uint8_t*>(
        heap::alloc_aligned(guard + stack + sizeof(Thread), guard ? guard : 16, false));
    if (!mem) return nullptr;
    auto* t = new (mem + guard + stack) Thread();
    if (t->init_guarded(params, entry_fn, entry_arg, mem + guard, stack, guard ? mem : nullptr) !=
        Status::ok) {
        t->~Thread();
        heap::free(mem);
        return nullptr;
    }
    t->heap_allocated = true;
    t->detached = detach;
    t->start();
    return t;
}

void kernel::thread_release_memory(Thread* t) {
    kernel::unregister_thread(t);
    void* block = t->stack_base - detail::kStackGuardPage;  // the start of a heap allocation
#if defined(CONFIG_RTOS_STACK_GUARD_PAGES)
    if (t->guard_page) arch::set_guard_page(t->guard_page, false);
    t->guard_page = nullptr;
#endif
    bool heap_owned = t->heap_allocated;
    t->run_state = ThreadState::exited;
    if (heap_owned) {
        t->~Thread();
        heap::free(block);
    }
}

Status Thread::join(Timeout timeout) {
    if (this == current()) return Status::invalid;
    {
        kernel::KernelLock lock;
        if (detached) return Status::invalid;
        while (run_state != ThreadState::exited) {
            Status s = kernel::block_current(&joiners, timeout);
            if (s != Status::ok) return s;
        }
    }
    if (heap_allocated) kernel::thread_release_memory(this);
    else kernel::unregister_thread(this);
    return Status::ok;
}

void Thread::exit() {
    Thread* self = current();
    if (kernel::scheduler_locked())
        panic("thread '%s' exited with the scheduler locked", self->thread_name);
    {
        kernel::KernelLock lock;
        Mutex::release_all_owned_by(self);
        kernel::make_unready(self);
        self->run_state = ThreadState::exited;
        self->joiners.wake_all(Status::ok);
        if (self->detached) kernel::add_zombie(self);
        kernel::switch_away();
    }
    panic("exited thread '%s' was resumed", self->thread_name);
}

Status Thread::suspend() {
    kernel::KernelLock lock;
    // Suspending yourself is a wait: with the scheduler locked the lock would
    // pass to whichever thread runs next.
    if (this == kernel::current() && kernel::scheduler_locked()) return Status::invalid;
    switch (run_state) {
    case ThreadState::ready:
    case ThreadState::running: kernel::make_unready(this); run_state = ThreadState::suspended;
#if defined(CONFIG_RTOS_SMP)
        // Running here or on another CPU: that CPU picks again (another
        // one is interrupted and stops running it at its next instruction
        // with interrupts enabled).
        if (smp::active() ? on_cpu : this == kernel::current()) {
            kernel::request_switch(run_cpu);
            kernel::reschedule();
        }
#else
        if (this == current()) kernel::reschedule();
#endif
        return Status::ok;
    case ThreadState::blocked:
    case ThreadState::sleeping:
        suspend_pending = true;  // takes effect when the wait ends
        return Status::ok;
    default: return Status::invalid;
    }
}

Status Thread::resume() {
    kernel::KernelLock lock;
    if (suspend_pending) {
        suspend_pending = false;
        return Status::ok;
    }
    if (run_state != ThreadState::suspended) return Status::invalid;
    kernel::make_ready(this);
    kernel::reschedule();
    return Status::ok;
}

Status Thread::set_priority(unsigned priority) {
    if (priority >= kernel::kPriorityLevels) return Status::invalid;
    kernel::KernelLock lock;
    base_prio = priority;
    Mutex::update_inherited_priority(this);
    kernel::reschedule();
    return Status::ok;
}

std::size_t Thread::stack_unused() const {
    std::size_t n = 0;
    while (n < stack_bytes && stack_base[n] == kernel::kStackFill) ++n;
    return n;
}

#if defined(CONFIG_RTOS_SMP)
Thread* Thread::current() {
    IrqLock lock;  // a thread may move between reading its CpuLocal and `current`
    return kernel::current();
}

Status Thread::set_affinity(CpuMask mask) {
    kernel::KernelLock lock;
    mask &= smp::online_mask();
    if (!mask) return Status::invalid;
    cpu_affinity = mask;
    // Applies when it is ready again; alone, the one CPU is the mask.
    if (run_state != ThreadState::ready || !smp::active()) return Status::ok;
    if (on_cpu) {
        // Running where it may not stay: its CPU picks again, and the
        // switch away hands it to an allowed one.
        if (!(mask & cpu_mask(run_cpu))) {
            kernel::request_switch(run_cpu);
            kernel::reschedule();
        }
        return Status::ok;
    }
    // Ready: it may outrank what runs on a CPU it may use now.
    kernel::make_unready(this);
    kernel::make_ready(this);
    kernel::reschedule();
    return Status::ok;
}

CpuMask Thread::affinity() const { return cpu_affinity; }
unsigned Thread::cpu() const { return run_cpu; }
#else
Thread* Thread::current() { return kernel::current(); }
Status Thread::set_affinity(CpuMask mask) { return mask & 1 ? Status::ok : Status::invalid; }
CpuMask Thread::affinity() const { return 1; }
unsigned Thread::cpu() const { return 0; }
#endif

void Thread::sleep(Tick ticks) {
    if (ticks == 0) {
        yield();
        return;
    }
    kernel::KernelLock lock;
    kernel::block_current(nullptr, Timeout::ticks(ticks), ThreadState::sleeping);
}

void Thread::sleep_until(Tick deadline) {
    kernel::KernelLock lock;
    Tick now = clock::ticks();
    if (deadline <= now) return;
    kernel::block_current(nullptr, Timeout::ticks(deadline - now), ThreadState::sleeping);
}

}  // namespace rtos
