// riscv64 S-mode port: trap dispatch, the timer tick (Sstc stimecmp when the
// hart has it, else the SBI timer call), thread stacks and machine control
// through OpenSBI.
#include <rtos/config.hpp>
#include <rtos/irq.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>

#include "arch/port.hpp"
#include "arch/tick_timer.hpp"
#include "frame.hpp"
#include "sbi.hpp"

rtos::arch::CpuLocal rtos_cpu_local{};
extern "C" char rtos_riscv_thread_start[];
extern "C" char rtos_riscv_resume[];
extern "C" char rtos_riscv_sstc_probe[];

namespace rtos::arch {
namespace {

using riscv::TrapFrame;

constexpr uint64_t kCauseInterrupt = 1ull << 63;
enum InterruptCause : uint64_t { kSoftware = 1, kTimer = 5, kExternal = 9 };
enum ExceptionCause : uint64_t { kIllegalInstruction = 2 };
constexpr uint64_t kSieSsie = 1u << 1, kSieStie = 1u << 5, kSieSeie = 1u << 9;

uint64_t timebase_hz = 10000000;     // QEMU virt; the device tree's value replaces it
ExitHandler exit_handler = nullptr;  // set once at boot (set_exit_handler), read on failure
TickTimer ticker;
bool use_sstc = false;
bool tick_stopped = false;           // tickless idle: compare set beyond the next tick
volatile unsigned tick_nesting = 0;  // trap depth seen by the latest tick

#define CSR_READ(name)                              \
    ({                                              \
        uint64_t v_;                                \
        asm volatile("csrr %0, " #name : "=r"(v_)); \
        v_;                                         \
    })

const char* exception_name(uint64_t code) {
    static const char* const names[] = {"instruction address misaligned",
                                        "instruction access fault",
                                        "illegal instruction",
                                        "breakpoint",
                                        "load address misaligned",
                                        "load access fault",
                                        "store address misaligned",
                                        "store access fault",
                                        "ecall from U-mode",
                                        "ecall from S-mode",
                                        "reserved",
                                        "ecall from M-mode",
                                        "instruction page fault",
                                        "load page fault",
                                        "reserved",
                                        "store page fault"};
    return code < sizeof(names) / sizeof(names[0]) ? names[code] : "unknown exception";
}

void set_compare(uint64_t when) {
    if (use_sstc) asm volatile("csrw 0x14d, %0" ::"r"(when) : "memory");  // stimecmp
    else sbi::set_timer(when);
}

#if defined(CONFIG_ARCH_RISCV64_SSTC)
// Sstc works only when the hart has it and M-mode enabled it (menvcfg.STCE);
// otherwise reading stimecmp is an illegal instruction, which the trap
// handler skips after clearing the flag in a5.
bool probe_sstc() {
    register uint64_t ok asm("a5") = 1;
    uint64_t value;
    asm volatile(
        ".option push\n\t.option norvc\n"
        ".global rtos_riscv_sstc_probe\n"
        "rtos_riscv_sstc_probe:\n\t"
        "csrr %1, 0x14d\n\t"
        ".option pop"
        : "+r"(ok), "=r"(value)::"memory");
    return ok;
}
#endif

// Announces the tick periods the counter says elapsed and arms the next
// boundary. From the timer interrupt, and from any other interrupt that ends
// a tickless idle period (the tick count must be current before its handler,
// or the thread it wakes, reads it). Runs masked: the tick does not nest.
void catch_up_ticks() {
    tick_nesting = this_cpu().trap_depth;
    tick_stopped = false;
    uint64_t n = ticker.advance(counter_read());
    set_compare(ticker.next());
    if (n) kernel::announce_ticks(n);
}

void on_timer() { catch_up_ticks(); }

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

void wait_for_interrupt() { asm volatile("wfi" ::: "memory"); }

void* init_stack(void* stack_top, void (*entry)(void*), void* arg, void (*exit_fn)()) {
    auto top = reinterpret_cast<uintptr_t>(stack_top) & ~uintptr_t{15};
    auto* f = reinterpret_cast<riscv::SwitchFrame*>(top - sizeof(riscv::SwitchFrame));
    *f = {};
    f->ra = reinterpret_cast<uint64_t>(rtos_riscv_thread_start);
    f->s[1] = reinterpret_cast<uint64_t>(entry);
    f->s[2] = reinterpret_cast<uint64_t>(arg);
    f->s[3] = reinterpret_cast<uint64_t>(exit_fn);
    return f;
}

void start_first_thread(void* sp) {
    asm volatile("mv sp, %0\n\tj rtos_riscv_resume" ::"r"(sp) : "memory");
    __builtin_unreachable();
}

void timer_start(uint32_t hz) {
#if defined(CONFIG_ARCH_RISCV64_SSTC)
    use_sstc = probe_sstc();
#endif
    set_compare(ticker.start(counter_read(), timebase_hz / hz));
    asm volatile("csrs sie, %0" ::"r"(kSieStie | kSieSeie | kSieSsie));
}

void timer_idle(uint64_t ticks) {
    if (ticks <= 1) return;  // the next tick is due anyway
    tick_stopped = true;
    set_compare(ticker.after(ticks));
}

const char* timer_source() { return use_sstc ? "sstc" : "sbi"; }

unsigned last_tick_nesting() { return tick_nesting; }

// irq::dispatch() runs inside run_preemptible_by_tick() already (the external
// interrupt path), so a handler only needs calling.
void run_irq_handler(unsigned, void (*handler)(void*), void* arg) { handler(arg); }

void raise_soft_interrupt() { asm volatile("csrs sip, %0" ::"r"(kSieSsie) : "memory"); }

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

void set_exit_handler(ExitHandler handler) { exit_handler = handler; }

void fail_exit() {
    irq_save();
    // QEMU's test finisher first: OpenSBI's SRST would report success.
    if (exit_handler) exit_handler(1);
    sbi::system_reset(sbi::kShutdown, sbi::kSystemFailure);
    for (;;) wait_for_interrupt();
}

void dump_frame(const void* frame) {
    static const char* const names[32] = {"zero", "ra", "sp",  "gp",  "tp", "t0", "t1", "t2",
                                          "s0",   "s1", "a0",  "a1",  "a2", "a3", "a4", "a5",
                                          "a6",   "a7", "s2",  "s3",  "s4", "s5", "s6", "s7",
                                          "s8",   "s9", "s10", "s11", "t3", "t4", "t5", "t6"};
    const auto* f = static_cast<const TrapFrame*>(frame);
    for (unsigned i = 1; i < 32; ++i) {
        printk("  %-4s %016lx%s", names[i], f->x[i - 1], (i % 4 == 3) ? "\n" : "");
    }
    printk("\n  sepc %016lx  sstatus %016lx  scause %016lx  stval %016lx\n", f->sepc, f->sstatus,
           CSR_READ(scause), CSR_READ(stval));
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
        if (tick_stopped) catch_up_ticks();
        switch (cause & ~kCauseInterrupt) {
        case kTimer: on_timer(); return;
        case kExternal: run_preemptible_by_tick([] { rtos::irq::dispatch(); }); return;
        case kSoftware:
            asm volatile("csrc sip, %0" ::"r"(kSieSsie) : "memory");
            run_preemptible_by_tick([] { rtos::kernel::soft_interrupt_from_isr(); });
            return;
        default:
            rtos::panic_with_frame(frame, "unexpected interrupt %lu", cause & ~kCauseInterrupt);
        }
    }
#if defined(CONFIG_ARCH_RISCV64_SSTC)
    if (cause == kIllegalInstruction &&
        frame->sepc == reinterpret_cast<uint64_t>(rtos_riscv_sstc_probe)) {
        riscv::reg(*frame, riscv::kRegA5) = 0;  // no Sstc: the probe reads 0
        frame->sepc += 4;
        return;
    }
#endif
    rtos::panic_with_frame(frame, "%s at %016lx (stval %016lx)", exception_name(cause), frame->sepc,
                           CSR_READ(stval));
}
