// CPUs: bringing up the secondary ones, calls between CPUs, and the public
// rtos/smp.hpp. Bring-up (docs/smp.md): the boot CPU is logical CPU 0
// whatever its hardware id; the others are the CPUs the device tree lists,
// in its order, numbered as they start. For each the boot CPU prepares its
// CpuLocal and idle thread and asks the port to start it (SBI HSM
// hart_start, PSCI CPU_ON) on a boot stack of its own; the new CPU sets up
// its port state, the interrupt controller's per-CPU part and its timer,
// then runs its first thread.
#include <rtos/board.hpp>
#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/critical.hpp>
#include <rtos/heap.hpp>
#include <rtos/irq.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>
#include <rtos/thread.hpp>

#include "arch/port.hpp"
#include "scheduler.hpp"

#if defined(CONFIG_RTOS_SMP)
// The table of smp::active() sites (rtos/spinlock.hpp, rtos.ld.S).
struct SmpSwitch {
    void* site;
    const void* multi;
};
extern "C" const SmpSwitch __smp_switch_start[], __smp_switch_end[];
#endif

namespace rtos {

#if defined(CONFIG_RTOS_SMP)
namespace kernel {
namespace {

// How long the boot CPU waits for a started CPU to come online.
constexpr Tick kOnlineWaitMs = 1000;
// Each secondary CPU's boot stack, later its exception stack (CpuLocal::
// exception_stack): from the heap, never freed.
constexpr std::size_t kCpuStackSize = 8192;

// Whether a started CPU may still come online: it claims kOnline as it
// starts, the boot CPU claims kAbandoned when it gives up waiting; the one
// compare-and-swap that fails learns the other's decision (a CPU given up
// on parks instead of going online).
enum StartState : uint32_t { kStarting, kOnline, kAbandoned };
uint32_t start_state[kMaxCpus];

bool claim(unsigned cpu, uint32_t to) {
    uint32_t expected = kStarting;
    return __atomic_compare_exchange_n(&start_state[cpu], &expected, to, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE);
}

// Every smp::active() from now on is true (rtos/spinlock.hpp): each
// no-op listed in .rtos_smp_switch becomes a branch to its multi-CPU path.
// Thread context on the boot CPU, outside every critical section, no other
// CPU running: every lock is taken for real from the next one on. The
// scheduler's per-CPU bookkeeping starts from the state it has now.
void go_multi() {
    {
        IrqLock lock;
        // The table's bounds are two linker symbols: walked by address.
        const auto end = reinterpret_cast<uintptr_t>(__smp_switch_end);
        for (auto a = reinterpret_cast<uintptr_t>(__smp_switch_start); a < end;
             a += sizeof(SmpSwitch)) {
            const auto* s = reinterpret_cast<const SmpSwitch*>(a);
            arch::patch_branch(s->site, s->multi);
        }
        arch::sync_instructions();
    }
    KernelLock lock;
    begin_multi();
}

}  // namespace

void start_cpus() {
    constexpr std::size_t kMaxListed = 64;
    uint64_t ids[kMaxListed];
    const std::size_t listed = board::cpu_ids(ids, kMaxListed);
    const uint64_t boot = arch::cpu_local(0).hw_id;
    unsigned next = 1;
    for (std::size_t i = 0; i < listed; ++i) {
        const uint64_t id = ids[i];
        if (id == boot) continue;
        if (next == kMaxCpus) {
            printk("smp: cpu %#lx parked: beyond CONFIG_RTOS_MAX_CPUS (%u)\n",
                   static_cast<unsigned long>(id), kMaxCpus);
            continue;
        }
        auto* stack = static_cast<uint8_t*>(heap::alloc_aligned(kCpuStackSize, 16, false));
        if (!stack) {
            printk("smp: cpu %#lx parked: no memory for its stack\n",
                   static_cast<unsigned long>(id));
            continue;
        }
        if (!smp::active()) go_multi();
        prepare_cpu(next, id);
        arch::cpu_local(next).exception_stack = reinterpret_cast<uintptr_t>(stack + kCpuStackSize);
        if (const char* why = arch::start_cpu(next, id, stack + kCpuStackSize)) {
            printk("smp: cpu %#lx parked: %s\n", static_cast<unsigned long>(id), why);
            // The slot is free again: nothing of it ran.
            kernel::unregister_thread(&idle_thread_of(next));
            heap::free(stack);
            continue;
        }
        const Tick deadline = clock::ticks() + clock::ms_to_ticks(kOnlineWaitMs);
        while (!__atomic_load_n(&arch::cpu_local(next).online, __ATOMIC_ACQUIRE) &&
               clock::ticks() < deadline)
            Thread::sleep(1);
        if (claim(next, kAbandoned)) {
            printk("smp: cpu %#lx parked: did not come online within %u ms\n",
                   static_cast<unsigned long>(id), static_cast<unsigned>(kOnlineWaitMs));
            ++next;  // its slot stays taken: it may still run its start path, and park
            continue;
        }
        // It claimed its start in time and is on its way.
        while (!__atomic_load_n(&arch::cpu_local(next).online, __ATOMIC_ACQUIRE)) Thread::sleep(1);
        ++next;
    }
    printk("smp: %u %s online (boot cpu %lu)\n", smp::cpu_count(),
           smp::cpu_count() == 1 ? "cpu" : "cpus", static_cast<unsigned long>(boot));
}

void ipi_call(unsigned cpu, void (*fn)(void*), void* arg) {
    auto& target = arch::cpu_local(cpu);
    // Claim the slot (null: free) with a placeholder, then fill it; the
    // handler frees it before calling.
    auto* const claimed = reinterpret_cast<void (*)(void*)>(uintptr_t{1});
    for (;;) {
        void (*expected)(void*) = nullptr;
        if (__atomic_compare_exchange_n(&target.call_fn, &expected, claimed, false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            break;
        arch::cpu_relax();
    }
    target.call_arg = arg;
    __atomic_store_n(&target.call_fn, fn, __ATOMIC_RELEASE);
    __atomic_fetch_or(&target.ipi_reasons, arch::kIpiCall, __ATOMIC_RELEASE);
    arch::send_ipi(cpu);
}

namespace {
// Lock story: set once by each stopping CPU, read by the panicking one.
volatile bool stopped[kMaxCpus];
}  // namespace

void stop_other_cpus() {
    const unsigned self = arch::this_cpu().id;
    for (unsigned c = 0; c < kMaxCpus; ++c) {
        if (c == self || !arch::cpu_local(c).online) continue;
        __atomic_fetch_or(&arch::cpu_local(c).ipi_reasons, arch::kIpiStop, __ATOMIC_RELEASE);
        arch::send_ipi(c);
    }
    // Each prints its line and halts; a CPU spinning with interrupts masked
    // (on a lock this one holds, say) never takes the interrupt. A second in
    // all: hardware answers in microseconds, but QEMU's round-robin TCG
    // (-icount) kicks the running vCPU only every 100 ms of virtual time, so
    // a 100 ms wait could end before a stopped CPU had its turn (once seen in
    // test_smp.py's panic test, not traced further).
    const uint64_t wait = arch::counter_frequency();  // 1 s
    const uint64_t t0 = arch::counter_read();
    for (unsigned c = 0; c < kMaxCpus; ++c) {
        if (c == self || !arch::cpu_local(c).online) continue;
        while (!stopped[c] && arch::counter_read() - t0 < wait) arch::cpu_relax();
        if (!stopped[c]) printk("  cpu %u: did not stop (interrupts masked)\n", c);
    }
}

[[noreturn]] void panic_stop_this_cpu() {
    arch::irq_save();
    auto& cpu = arch::this_cpu();
    const auto* t = static_cast<const Thread*>(cpu.current);
    uintptr_t pc = 0, sp = 0;
    if (cpu.trap_frame) arch::frame_pc_sp(cpu.trap_frame, pc, sp);
    printk("  cpu %u (hw %#lx): stopped in %s '%s', pc %#lx, sp %#lx\n", cpu.id,
           static_cast<unsigned long>(cpu.hw_id), cpu.trap_depth > 1 ? "an interrupt of" : "thread",
           t ? t->name() : "?", static_cast<unsigned long>(pc), static_cast<unsigned long>(sp));
    stopped[cpu.id] = true;
    for (;;) arch::wait_for_interrupt();
}

}  // namespace kernel

// On a secondary CPU, from the port once the CPU runs on its boot stack
// with its CpuLocal, trap vector (and MMU) set up, interrupts masked.
extern "C" [[noreturn]] void rtos_kernel_cpu_entry() {
    auto& cpu = arch::this_cpu();
    if (!kernel::claim(cpu.id, kernel::kOnline))
        for (;;) arch::wait_for_interrupt();  // the boot CPU gave up on it
    irq::init_this_cpu();
    arch::timer_start_cpu();
    kernel::enter_cpu();
}

namespace smp {

CpuMask online_mask() {
    CpuMask m = 0;
    for (unsigned c = 0; c < kMaxCpus; ++c)
        if (__atomic_load_n(&arch::cpu_local(c).online, __ATOMIC_ACQUIRE)) m |= cpu_mask(c);
    return m;
}

unsigned cpu_count() {
    unsigned n = 0;
    for (CpuMask m = online_mask(); m; m &= m - 1) ++n;
    return n;
}

uint64_t hw_id(unsigned cpu) { return cpu < kMaxCpus ? arch::cpu_local(cpu).hw_id : ~uint64_t{0}; }

}  // namespace smp

#else  // one CPU

namespace smp {
unsigned cpu_count() { return 1; }
CpuMask online_mask() { return 1; }
uint64_t hw_id(unsigned cpu) { return cpu == 0 ? arch::boot_cpu_hw_id() : ~uint64_t{0}; }
}  // namespace smp

#endif

namespace smp {
// With several CPUs, each counts its own; alone (SMP off, or booted on one
// CPU) the single-CPU paths count nothing: busy time is every thread's CPU
// time but the idle thread's, and switches and interrupts are unknown.
bool stats(unsigned cpu, CpuStats& out) {
    if (cpu >= kMaxCpus) return false;
    kernel::KernelLock lock;
    const auto& c = arch::cpu_local(cpu);
    out = {};
    const uint64_t now = arch::counter_read();
#if defined(CONFIG_RTOS_SMP)
    if (smp::active()) {
        out.online = c.online;
        if (!c.online) return true;
        out.hw_id = c.hw_id;
        out.busy = c.busy;
        if (c.current != c.idle) out.busy += now - c.switch_time;
        out.switches = c.switches;
        out.interrupts = c.interrupts;
        out.ipis = c.ipis;
        out.thread = static_cast<const Thread*>(c.current)->name();
        return true;
    }
#endif
    if (cpu != 0) return true;  // not online
    out.online = true;
    out.hw_id = hw_id(0);
    const auto* cur = kernel::current();
    out.thread = cur ? cur->name() : "?";
    kernel::for_each_thread([&](Thread* t) {
        if (t->priority() == kernel::kIdlePriority) return;
        out.busy += t->cpu_time();
        if (t == cur) out.busy += now - c.switch_time;
    });
    out.switches = out.interrupts = out.ipis = ~uint64_t{0};
    return true;
}
}  // namespace smp

}  // namespace rtos
