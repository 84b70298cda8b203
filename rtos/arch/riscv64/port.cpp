// riscv64 S-mode port: trap dispatch, the timer tick (Sstc stimecmp when the
// hart has it, else the SBI timer call), thread stacks and machine control
// through OpenSBI.
#include <rtos/config.hpp>
#include <rtos/irq.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>

#include "arch/port.hpp"
#include "arch/tick_timer.hpp"
#include "frame.hpp"
#include "sbi.hpp"

// The hart OpenSBI booted (start.S): logical CPU 0. Written once by that
// hart at its entry, before it starts any other.
extern "C" uint64_t rtos_riscv_boot_hart;
#if defined(CONFIG_RTOS_SMP)
// ~0 (in .data, so not cleared with .bss) until the first hart claims it:
// every hart enters at _start, and the later ones are secondaries.
uint64_t rtos_riscv_boot_hart = ~uint64_t{0};
rtos::arch::CpuLocal rtos_cpu_locals[CONFIG_RTOS_MAX_CPUS]{};
static_assert(offsetof(rtos::arch::CpuLocal, hw_id) == 96 && sizeof(rtos::arch::CpuLocal) == 152,
              "start.S finds a secondary hart's CpuLocal with these");
extern "C" char _start[];
#else
uint64_t rtos_riscv_boot_hart = 0;
rtos::arch::CpuLocal rtos_cpu_local{};
#endif
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
bool use_sstc = false;               // probed on the boot hart; every hart alike
ExitHandler exit_handler = nullptr;  // set once at boot (set_exit_handler), read on failure

// Each hart's tick (its own stimecmp): touched by that hart only, with
// interrupts masked.
struct HartTick {
    TickTimer ticker;
    bool stopped = false;           // tickless idle: compare set beyond the next tick
    volatile unsigned nesting = 0;  // trap depth seen by the latest tick
};
#if defined(CONFIG_RTOS_SMP)
HartTick hart_ticks[CONFIG_RTOS_MAX_CPUS];
uint64_t tick_epoch = 0;  // the boot hart's timer start: every hart ticks on its boundaries
inline HartTick& this_tick() {
    return rtos::smp::active() ? hart_ticks[this_cpu().id] : hart_ticks[0];
}
// The harts' ticks are spread over the period (CPU n: n/kMaxCpus of it
// later), so they do not all want the kernel lock at the same instant.
inline uint64_t tick_stagger() {
    return this_cpu().id * hart_ticks[0].ticker.period() / CONFIG_RTOS_MAX_CPUS;
}
#else
HartTick hart_tick;
inline HartTick& this_tick() { return hart_tick; }
#endif

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
    HartTick& t = this_tick();
    t.nesting = this_cpu().trap_depth;
    t.stopped = false;
    uint64_t n = t.ticker.advance(counter_read());
    set_compare(t.ticker.next());
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
    uint64_t now = counter_read();
#if defined(CONFIG_RTOS_SMP)
    tick_epoch = now;
#endif
    set_compare(this_tick().ticker.start(now, timebase_hz / hz));
    asm volatile("csrs sie, %0" ::"r"(kSieStie | kSieSeie | kSieSsie));
}

#if defined(CONFIG_RTOS_SMP)
void timer_start_cpu() {
    set_compare(this_tick().ticker.start_aligned(tick_epoch + tick_stagger(), counter_read(),
                                                 hart_ticks[0].ticker.period()));
    asm volatile("csrs sie, %0" ::"r"(kSieStie | kSieSeie | kSieSsie));
}
#endif

void timer_idle(uint64_t ticks) {
    if (ticks <= 1) return;  // the next tick is due anyway
    HartTick& t = this_tick();
    t.stopped = true;
    set_compare(t.ticker.after(ticks));
}

const char* timer_source() { return use_sstc ? "sstc" : "sbi"; }

unsigned last_tick_nesting() {
#if defined(CONFIG_RTOS_SMP)
    IrqState s = irq_save();
    unsigned n = this_tick().nesting;
    irq_restore(s);
    return n;
#else
    return this_tick().nesting;
#endif
}

// irq::dispatch() runs inside run_preemptible_by_tick() already (the external
// interrupt path), so a handler only needs calling.
void run_irq_handler(unsigned, void (*handler)(void*), void* arg) { handler(arg); }

#if defined(CONFIG_RTOS_SMP)
// SSIP is also the inter-processor interrupt: the flag says this hart
// raised it (masked: the flag and SSIP on one hart).
void raise_soft_interrupt() {
    // One CPU: nothing can move the thread in between (the others start
    // at boot, before anything raises one: a test and benchmark hook).
    if (!smp::active()) {
        this_cpu().soft_pending = true;
        asm volatile("csrs sip, %0" ::"r"(kSieSsie) : "memory");
        return;
    }
    IrqState s = irq_save();
    this_cpu().soft_pending = true;
    asm volatile("csrs sip, %0" ::"r"(kSieSsie) : "memory");
    irq_restore(s);
}
#else
void raise_soft_interrupt() { asm volatile("csrs sip, %0" ::"r"(kSieSsie) : "memory"); }
#endif

uint64_t counter_frequency() { return timebase_hz; }
void set_counter_frequency(uint64_t hz) {
    if (hz) timebase_hz = hz;
}

void set_firmware_method(const char*) {}  // SBI is the only firmware

uint64_t boot_cpu_hw_id() { return rtos_riscv_boot_hart; }

#if defined(CONFIG_RTOS_SMP)

// SBI HSM hart_start (SBI spec v2.0, chapter 9): the hart enters _start in
// S-mode, which finds its CpuLocal by hart id (start.S: OpenSBI v1.1 may
// send it there without the opaque value, so there is none to trust).
const char* start_cpu(unsigned cpu, uint64_t hw_id, void* stack_top) {
    CpuLocal& c = cpu_local(cpu);
    c.exception_stack = reinterpret_cast<uintptr_t>(stack_top);
    if (sbi::call(sbi::kExtBase, sbi::kBaseProbeExtension, sbi::kExtHsm).value == 0)
        return "the SBI firmware has no HSM extension";
    // RVWMO (RISC-V unprivileged spec, "Memory Ordering Instructions"): FENCE
    // IORW,IORW orders every earlier access of this hart (the CpuLocal, the
    // idle thread, the patched code) before the firmware's accesses that
    // follow the ecall, among them the HSM state and the IPI that wake the
    // hart, so the new hart reads them as written.
    asm volatile("fence iorw, iorw" ::: "memory");
    sbi::Result r =
        sbi::call(sbi::kExtHsm, sbi::kHsmHartStart, hw_id, reinterpret_cast<uintptr_t>(_start), 0);
    switch (r.error) {
    case 0: return nullptr;
    case sbi::kErrAlreadyAvailable: return "SBI hart_start: already started";
    case sbi::kErrInvalidParam: return "SBI hart_start: no such hart";
    default: return "SBI hart_start failed";
    }
}

// SBI IPI extension, send_ipi(hart_mask, hart_mask_base) (SBI spec v2.0,
// chapter 7): sets the hart's SSIP.
void send_ipi(unsigned cpu) {
    // The reasons (an AMO) and what they refer to are visible before the
    // firmware's store that raises the interrupt (FENCE IORW,IORW: RVWMO,
    // as in start_cpu); else the handler could find no reason, and the
    // reason no interrupt.
    asm volatile("fence iorw, iorw" ::: "memory");
    sbi::call(sbi::kExtIpi, sbi::kIpiSendIpi, 1, cpu_local(cpu).hw_id);
}

void frame_pc_sp(const void* frame, uintptr_t& pc, uintptr_t& sp) {
    const auto* f = static_cast<const TrapFrame*>(frame);
    pc = f->sepc;
    sp = f->x[riscv::kRegSp - 1];
}

// JAL x0, target (RISC-V unprivileged spec, "Unconditional Jumps": J-type,
// a signed 21-bit byte offset). The no-op is 4 bytes (.option norvc) but
// may be only 2-byte aligned: two halfword stores.
void patch_branch(void* site, const void* target) {
    auto off = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(target) -
                                     reinterpret_cast<uintptr_t>(site));
    uint32_t insn = ((off & 0x100000) << 11) | ((off & 0x7fe) << 20) | ((off & 0x800) << 9) |
                    (off & 0xff000) | 0x6f;
    auto* h = static_cast<volatile uint16_t*>(site);
    h[0] = static_cast<uint16_t>(insn);
    h[1] = static_cast<uint16_t>(insn >> 16);
}

// FENCE.I (Zifencei) orders this hart's stores before its own later
// instruction fetches; a hart started afterwards fetches from memory.
void sync_instructions() { asm volatile("fence.i" ::: "memory"); }
#endif

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
#if defined(CONFIG_RTOS_SMP)
        if (rtos::smp::active()) {  // the stop report and `cpus`
            CpuLocal& cpu = this_cpu();
            cpu.trap_frame = frame;
            ++cpu.interrupts;
        }
#endif
        if (this_tick().stopped) catch_up_ticks();
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
