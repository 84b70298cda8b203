// riscv64 S-mode port: interrupt masking, trap dispatch, the SBI timer tick,
// thread stacks and machine control through OpenSBI.
#include <rtos/board.hpp>
#include <rtos/irq.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>

#include "arch/port.hpp"
#include "frame.hpp"
#include "kernel/scheduler.hpp"
#include "sbi.hpp"

extern "C" volatile unsigned rtos_riscv_trap_depth;
volatile unsigned rtos_riscv_trap_depth = 0;
extern "C" [[noreturn]] void rtos_riscv_restore_frame();

namespace rtos::arch {
namespace {

using riscv::TrapFrame;

constexpr uint64_t kCauseInterrupt = 1ull << 63;
enum InterruptCause : uint64_t { kSoftware = 1, kTimer = 5, kExternal = 9 };
enum ExceptionCause : uint64_t { kBreakpoint = 3 };
constexpr uint64_t kSieSsie = 1u << 1, kSieStie = 1u << 5, kSieSeie = 1u << 9;

uint64_t timebase_hz = 10000000;  // QEMU virt; the device tree's value replaces it
uint64_t tick_period = 0;
uint64_t next_deadline = 0;
volatile unsigned tick_nesting = 0;  // trap depth seen by the latest tick

#define CSR_READ(name)                                    \
    ({                                                    \
        uint64_t v_;                                      \
        asm volatile("csrr %0, " #name : "=r"(v_));       \
        v_;                                               \
    })

const char* exception_name(uint64_t code) {
    static const char* const names[] = {
        "instruction address misaligned", "instruction access fault", "illegal instruction",
        "breakpoint", "load address misaligned", "load access fault",
        "store address misaligned", "store access fault", "ecall from U-mode",
        "ecall from S-mode", "reserved", "ecall from M-mode", "instruction page fault",
        "load page fault", "reserved", "store page fault"};
    return code < sizeof(names) / sizeof(names[0]) ? names[code] : "unknown exception";
}

// Runs with sstatus.SIE clear, as the trap entry left it: the tick does not nest.
void on_timer() {
    tick_nesting = rtos_riscv_trap_depth;
    // Drift-free: the next deadline follows the previous one, not "now".
    uint64_t now = counter_read();
    do {
        next_deadline += tick_period;
    } while (next_deadline <= now);
    sbi::set_timer(next_deadline);
    kernel::tick_from_isr();
}

// Device and software interrupts (nesting model in arch/port.hpp): `fn` runs
// with sstatus.SIE set but SEIE and SSIE cleared in sie, so the timer (STIE)
// alone can trap into it; another external or software interrupt stays
// pending until sie is restored. A nested trap saves sepc and sstatus in its
// own frame (trap.S), and its exit, at depth > 0, returns here without
// switching. SIE is cleared again before sie is restored, so the trap exit
// runs masked.
template <typename F>
void run_preemptible_by_tick(F fn) {
    constexpr uint64_t kNestedOff = kSieSeie | kSieSsie;
    uint64_t old_sie;
    asm volatile("csrrc %0, sie, %1" : "=r"(old_sie) : "r"(kNestedOff) : "memory");
    asm volatile("csrsi sstatus, 2" ::: "memory");
    fn();
    asm volatile("csrci sstatus, 2" ::: "memory");
    asm volatile("csrs sie, %0" ::"r"(old_sie & kNestedOff) : "memory");
}

}  // namespace

IrqState irq_save() {
    IrqState old;
    asm volatile("csrrci %0, sstatus, 2" : "=r"(old)::"memory");
    return old & riscv::kSstatusSie;
}

void irq_restore(IrqState state) {
    if (state & riscv::kSstatusSie) asm volatile("csrsi sstatus, 2" ::: "memory");
}

void irq_enable() { asm volatile("csrsi sstatus, 2" ::: "memory"); }

bool in_isr() { return rtos_riscv_trap_depth != 0; }
unsigned isr_nesting() { return rtos_riscv_trap_depth; }

void wait_for_interrupt() { asm volatile("wfi" ::: "memory"); }

void* init_stack(void* stack_top, void (*entry)(void*), void* arg, void (*exit_fn)()) {
    auto top = reinterpret_cast<uintptr_t>(stack_top) & ~uintptr_t{15};
    auto* f = reinterpret_cast<TrapFrame*>(top - sizeof(TrapFrame));
    for (auto& r : f->x) r = 0;
    riscv::reg(*f, riscv::kRegRa) = reinterpret_cast<uint64_t>(exit_fn);
    riscv::reg(*f, riscv::kRegSp) = top;
    riscv::reg(*f, riscv::kRegA0) = reinterpret_cast<uint64_t>(arg);
    f->sepc = reinterpret_cast<uint64_t>(entry);
    // sret into S-mode with interrupts on.
    f->sstatus = riscv::kSstatusSpp | riscv::kSstatusSpie;
    f->pad = 0;
    return f;
}

void start_first_thread(void* sp) {
    asm volatile("mv sp, %0\n\tj rtos_riscv_restore_frame" ::"r"(sp) : "memory");
    __builtin_unreachable();
}

void request_context_switch() {
    if (in_isr()) return;  // the trap exit reschedules anyway
    register uint64_t t0 asm("t0") = riscv::kSwitchMagic;
    asm volatile(".option push\n\t.option norvc\n\tebreak\n\t.option pop" ::"r"(t0) : "memory");
}

void timer_start(uint32_t hz) {
    tick_period = timebase_hz / hz;
    next_deadline = counter_read() + tick_period;
    sbi::set_timer(next_deadline);
    asm volatile("csrs sie, %0" ::"r"(kSieStie | kSieSeie | kSieSsie));
}

unsigned last_tick_nesting() { return tick_nesting; }

// irq::dispatch() runs inside run_preemptible_by_tick() already (the external
// interrupt path), so a handler only needs calling.
void run_irq_handler(unsigned, void (*handler)(void*), void* arg) { handler(arg); }

void raise_soft_interrupt() { asm volatile("csrs sip, %0" ::"r"(kSieSsie) : "memory"); }

uint64_t counter_read() {
    uint64_t t;
    asm volatile("rdtime %0" : "=r"(t));
    return t;
}

uint64_t counter_frequency() { return timebase_hz; }
void set_counter_frequency(uint64_t hz) {
    if (hz) timebase_hz = hz;
}

void poweroff() {
    irq_save();
    sbi::system_reset(sbi::kShutdown, sbi::kNoReason);
    sbi::call(sbi::kLegacyShutdown, 0);
    for (;;) wait_for_interrupt();
}

void reboot() {
    irq_save();
    sbi::system_reset(sbi::kColdReboot, sbi::kNoReason);
    for (;;) wait_for_interrupt();
}

void fail_exit() {
    irq_save();
    board::exit(1);  // QEMU's test finisher: OpenSBI's SRST would report success
    sbi::system_reset(sbi::kShutdown, sbi::kSystemFailure);
    for (;;) wait_for_interrupt();
}

void dump_frame(const void* frame) {
    static const char* const names[32] = {
        "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
        "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
        "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
    const auto* f = static_cast<const TrapFrame*>(frame);
    for (unsigned i = 1; i < 32; ++i) {
        printk("  %-4s %016lx%s", names[i], f->x[i - 1], (i % 4 == 3) ? "\n" : "");
    }
    printk("\n  sepc %016lx  sstatus %016lx  scause %016lx  stval %016lx\n", f->sepc,
           f->sstatus, CSR_READ(scause), CSR_READ(stval));
}

const char* name() { return "riscv64"; }

namespace sbi {
Result call(uint32_t ext, uint32_t fid, unsigned long a0, unsigned long a1, unsigned long a2) {
    register unsigned long r_a0 asm("a0") = a0;
    register unsigned long r_a1 asm("a1") = a1;
    register unsigned long r_a2 asm("a2") = a2;
    register unsigned long r_a6 asm("a6") = fid;
    register unsigned long r_a7 asm("a7") = ext;
    asm volatile("ecall" : "+r"(r_a0), "+r"(r_a1) : "r"(r_a2), "r"(r_a6), "r"(r_a7) : "memory");
    return {static_cast<long>(r_a0), static_cast<long>(r_a1)};
}
}  // namespace sbi

}  // namespace rtos::arch

// Trap dispatch. Nesting (arch/port.hpp): the timer tick runs masked and may
// preempt the external (PLIC) and software interrupt handlers, which run
// with SIE set and only STIE left in sie (run_preemptible_by_tick); those two
// never nest in each other or in themselves. scause is read before anything
// can nest; sepc and sstatus live in the trap frame. Exceptions run masked.
extern "C" void rtos_riscv_trap_handler(rtos::arch::riscv::TrapFrame* frame) {
    using namespace rtos::arch;
    uint64_t cause = CSR_READ(scause);
    if (cause & kCauseInterrupt) {
        switch (cause & ~kCauseInterrupt) {
        case kTimer: on_timer(); return;
        case kExternal: run_preemptible_by_tick([] { rtos::irq::dispatch(); }); return;
        case kSoftware:
            asm volatile("csrc sip, %0" ::"r"(kSieSsie) : "memory");
            run_preemptible_by_tick([] { rtos::kernel::soft_interrupt_from_isr(); });
            return;
        default: rtos::panic_with_frame(frame, "unexpected interrupt %lu", cause & ~kCauseInterrupt);
        }
    }
    if (cause == kBreakpoint && riscv::reg(*frame, riscv::kRegT0) == riscv::kSwitchMagic) {
        frame->sepc += 4;  // resume after the ebreak; the exit path switches
        return;
    }
    rtos::panic_with_frame(frame, "%s at %016lx (stval %016lx)", exception_name(cause),
                           frame->sepc, CSR_READ(stval));
}
