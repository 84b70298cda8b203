// aarch64 EL1 port: interrupt masking, trap dispatch, the generic-timer
// tick, thread stacks, and machine control through PSCI and semihosting.
#include <rtos/config.hpp>
#include <rtos/irq.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>

#include "arch/port.hpp"
#include "arch/tick_timer.hpp"
#include "firmware.hpp"
#include "frame.hpp"
#include "sysreg.hpp"

#if defined(CONFIG_RTOS_SMP)
rtos::arch::CpuLocal rtos_cpu_locals[CONFIG_RTOS_MAX_CPUS]{};
extern "C" char rtos_aarch64_secondary_entry[];
extern "C" rtos::arch::aarch64::MmuRegs rtos_aarch64_mmu_regs;
#else
rtos::arch::CpuLocal rtos_cpu_local{};
#endif
extern "C" unsigned rtos_aarch64_boot_el;
unsigned rtos_aarch64_boot_el = 1;
extern "C" char rtos_aarch64_thread_start[];

namespace rtos::arch {
namespace {

using aarch64::TrapFrame;
using aarch64::TrapKind;

// The virtual timer: usable at EL1 whatever EL2 does (CNTVOFF_EL2 is 0 when
// start.S came from EL2 and when there is no EL2). Its PPI is INTID 27; the
// tick preempts other handlers (irq::Priority::preempting).
constexpr unsigned kVirtualTimerIntid = 27;
// raise_soft_interrupt(): an SGI to this CPU.
constexpr unsigned kSoftInterruptSgi = 1;
constexpr uint64_t kCntCtlEnable = 1;

// Each core's tick (its own CNTV): touched by that core only, with
// interrupts masked.
struct CoreTick {
    TickTimer ticker;
    bool stopped = false;           // tickless idle: compare set beyond the next tick
    volatile unsigned nesting = 0;  // trap depth seen by the latest tick
};
#if defined(CONFIG_RTOS_SMP)
CoreTick core_ticks[CONFIG_RTOS_MAX_CPUS];
uint64_t tick_epoch = 0;  // the boot core's timer start: every core ticks on its boundaries
inline CoreTick& this_tick() {
    return rtos::smp::active() ? core_ticks[this_cpu().id] : core_ticks[0];
}
#else
CoreTick core_tick;
inline CoreTick& this_tick() { return core_tick; }
#endif
ExitHandler exit_handler = nullptr;  // set once at boot (set_exit_handler), read on failure

void on_soft_interrupt(void*) { kernel::soft_interrupt_from_isr(); }

// Announces the tick periods the counter says elapsed and arms the next
// boundary. From the timer interrupt, and from any other IRQ that ends a
// tickless idle period (the tick count must be current before its handler,
// or the thread it wakes, reads it). Runs masked: the tick does not nest.
void catch_up_ticks() {
    CoreTick& t = this_tick();
    t.nesting = this_cpu().trap_depth;
    t.stopped = false;
    uint64_t n = t.ticker.advance(counter_read());
    write_sysreg(cntv_cval_el0, t.ticker.next());
    aarch64::isb();  // the line drops before the GIC is told the interrupt is done
    if (n) kernel::announce_ticks(n);
}

void on_timer(void*) { catch_up_ticks(); }

// ESR_EL1 exception classes (ARM ARM D17.2.37).
enum Ec : uint64_t {
    kEcUnknown = 0x00,
    kEcWfx = 0x01,
    kEcFpAccess = 0x07,
    kEcIllegalState = 0x0e,
    kEcSvc64 = 0x15,
    kEcHvc64 = 0x16,
    kEcSmc64 = 0x17,
    kEcSysReg = 0x18,
    kEcSve = 0x19,
    kEcInsnAbortLower = 0x20,
    kEcInsnAbort = 0x21,
    kEcPcAlign = 0x22,
    kEcDataAbortLower = 0x24,
    kEcDataAbort = 0x25,
    kEcSpAlign = 0x26,
    kEcSError = 0x2f,
    kEcBreakpoint = 0x31,
    kEcStep = 0x33,
    kEcWatchpoint = 0x35,
    kEcBrk = 0x3c,
};

const char* ec_name(uint64_t ec) {
    switch (ec) {
    case kEcUnknown: return "undefined instruction";
    case kEcWfx: return "trapped WFI/WFE";
    case kEcFpAccess: return "FP/SIMD access";
    case kEcIllegalState: return "illegal execution state";
    case kEcSvc64: return "svc";
    case kEcHvc64: return "hvc";
    case kEcSmc64: return "smc";
    case kEcSysReg: return "trapped system register access";
    case kEcSve: return "SVE access";
    case kEcInsnAbortLower:
    case kEcInsnAbort: return "instruction abort";
    case kEcPcAlign: return "misaligned pc";
    case kEcDataAbortLower:
    case kEcDataAbort: return "data abort";
    case kEcSpAlign: return "misaligned sp";
    case kEcSError: return "SError";
    case kEcBreakpoint: return "hardware breakpoint";
    case kEcStep: return "software step";
    case kEcWatchpoint: return "watchpoint";
    case kEcBrk: return "brk";
    default: return "exception";
    }
}

// Data/instruction fault status code, ESR ISS[5:0] (ARM ARM D17.2.37).
const char* fault_status_name(uint64_t fsc) {
    // FSC 0b0000LL..0b0011LL: the four kinds of fault at lookup level LL.
    static constexpr const char* kAtLevel[] = {"address size fault", "translation fault",
                                               "access flag fault", "permission fault"};
    if (fsc < 0x10) return kAtLevel[fsc >> 2];
    return fsc == 0x10   ? "external abort"
           : fsc == 0x21 ? "alignment fault"
           : fsc == 0x30 ? "TLB conflict"
                         : "fault";
}

// An hvc, smc or hlt in firmware.S with nothing behind it: resume after it
// with x0 = -1 (PSCI NOT_SUPPORTED) so the caller can try something else.
bool fixup_firmware_call(TrapFrame* f) {
    auto pc = reinterpret_cast<const char*>(f->elr);
    if (pc != rtos_aarch64_hvc_insn && pc != rtos_aarch64_smc_insn &&
        pc != rtos_aarch64_semihost_insn)
        return false;
    f->x[0] = static_cast<uint64_t>(aarch64::kPsciNotSupported);
    f->elr += 4;
    return true;
}

[[noreturn]] void fatal_sync(TrapFrame* f, uint64_t esr) {
    uint64_t ec = esr >> 26;
    uint64_t iss = esr & 0x1ffffff;
    const char* what = ec_name(ec);
    switch (ec) {
    case kEcDataAbort:
    case kEcDataAbortLower:
        panic_with_frame(f, "%s (%s, %s) at %016lx, pc %016lx (ESR %08lx)", what,
                         (iss & (1u << 6)) ? "write" : "read", fault_status_name(iss & 0x3f),
                         read_sysreg(far_el1), f->elr, esr);
    case kEcInsnAbort:
    case kEcInsnAbortLower:
        panic_with_frame(f, "%s (%s) at %016lx (ESR %08lx)", what, fault_status_name(iss & 0x3f),
                         read_sysreg(far_el1), esr);
    case kEcPcAlign:
    case kEcWatchpoint:
        panic_with_frame(f, "%s at %016lx, pc %016lx (ESR %08lx)", what, read_sysreg(far_el1),
                         f->elr, esr);
    case kEcBrk: panic_with_frame(f, "brk #%lu at %016lx (ESR %08lx)", iss & 0xffff, f->elr, esr);
    default: panic_with_frame(f, "%s at %016lx (ESR %08lx)", what, f->elr, esr);
    }
}

}  // namespace

void wait_for_interrupt() { asm volatile("dsb sy\n\twfi" ::: "memory"); }

void* init_stack(void* stack_top, void (*entry)(void*), void* arg, void (*exit_fn)()) {
    auto top = reinterpret_cast<uintptr_t>(stack_top) & ~uintptr_t{15};
    auto* f = reinterpret_cast<aarch64::SwitchFrame*>(top - sizeof(aarch64::SwitchFrame));
    *f = {};                                                           // x29 = 0 ends backtraces
    f->x[0] = reinterpret_cast<uint64_t>(entry);                       // x19
    f->x[1] = reinterpret_cast<uint64_t>(arg);                         // x20
    f->x[2] = reinterpret_cast<uint64_t>(exit_fn);                     // x21
    f->x[11] = reinterpret_cast<uint64_t>(rtos_aarch64_thread_start);  // x30
    return f;
}

void start_first_thread(void* sp) {
    asm volatile("mov sp, %0\n\tb rtos_aarch64_resume" ::"r"(sp) : "memory");
    __builtin_unreachable();
}

void timer_start(uint32_t hz) {
    uint64_t now = counter_read();
#if defined(CONFIG_RTOS_SMP)
    tick_epoch = now;
#endif
    write_sysreg(cntv_cval_el0, this_tick().ticker.start(now, counter_frequency() / hz));
    write_sysreg(cntv_ctl_el0, kCntCtlEnable);
    aarch64::isb();
    if (!irq::controller()->set_priority(kVirtualTimerIntid, irq::Priority::preempting))
        panic("aarch64: the tick cannot preempt other interrupt handlers");
    if (!irq::attach(kVirtualTimerIntid, on_timer, nullptr))
        panic("aarch64: cannot attach the timer interrupt %u", kVirtualTimerIntid);
    irq::attach(kSoftInterruptSgi, on_soft_interrupt, nullptr);
}

#if defined(CONFIG_RTOS_SMP)
// The timer and software-interrupt PPI/SGI are banked per core: the
// controller enabled them on this core as the boot core had them
// (init_cpu); only the timer itself is this core's to start.
void timer_start_cpu() {
    // Spread over the period (core n: n/kMaxCpus of it later), so the
    // cores' ticks do not all want the kernel lock at the same instant.
    const uint64_t period = core_ticks[0].ticker.period();
    const uint64_t stagger = this_cpu().id * period / CONFIG_RTOS_MAX_CPUS;
    write_sysreg(cntv_cval_el0,
                 this_tick().ticker.start_aligned(tick_epoch + stagger, counter_read(), period));
    write_sysreg(cntv_ctl_el0, kCntCtlEnable);
    aarch64::isb();
}
#endif

void timer_idle(uint64_t ticks) {
    if (ticks <= 1) return;  // the next tick is due anyway
    CoreTick& t = this_tick();
    t.stopped = true;
    write_sysreg(cntv_cval_el0, t.ticker.after(ticks));
}

const char* timer_source() { return "cntv"; }

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

// Called by irq::dispatch() between the acknowledge (IAR) and the EOI. The
// GIC's running priority is now that of `irq`, so unmasking IRQs lets only a
// more urgent interrupt in: the tick (nesting model in arch/port.hpp). The
// tick's own handler stays masked. PSTATE.I writes by msr daifset/daifclr
// take effect for the next instruction; the isb puts the unmask after the
// acknowledge has completed. Should the CPU still see this interrupt's IRQ
// signal for a moment after that, the nested trap finds nothing to claim
// (a spurious INTID) and returns at once.
void run_irq_handler(unsigned irq, void (*handler)(void*), void* arg) {
    if (irq == kVirtualTimerIntid) {
        handler(arg);
        return;
    }
    aarch64::isb();
    asm volatile("msr daifclr, #2" ::: "memory");
    handler(arg);
    asm volatile("msr daifset, #2" ::: "memory");
}

#if defined(CONFIG_RTOS_SMP)
// The SGI is also the inter-processor interrupt: the flag says this CPU
// raised it (masked: the flag and the SGI on one CPU).
void raise_soft_interrupt() {
    // One CPU: nothing can move the thread in between (the others start
    // at boot, before anything raises one: a test and benchmark hook).
    if (!smp::active()) {
        this_cpu().soft_pending = true;
        irq::controller()->raise(kSoftInterruptSgi);
        return;
    }
    IrqState s = irq_save();
    this_cpu().soft_pending = true;
    irq::controller()->raise(kSoftInterruptSgi);
    irq_restore(s);
}

void send_ipi(unsigned cpu) { irq::controller()->raise_on(kSoftInterruptSgi, cpu); }

namespace {
// Cleans [p, p + n) to the point of coherency, for a core whose MMU and
// caches are still off (ARM ARM D7.5.9, "Data and unified caches": DC CVAC;
// the line size from CTR_EL0.DminLine), then DSB so it is complete.
void clean_to_poc(const void* p, std::size_t n) {
    const uint64_t line = uint64_t{4} << ((read_sysreg(ctr_el0) >> 16) & 0xf);
    auto a = reinterpret_cast<uint64_t>(p) & ~(line - 1);
    for (const auto end = reinterpret_cast<uint64_t>(p) + n; a < end; a += line)
        asm volatile("dc cvac, %0" ::"r"(a) : "memory");
    aarch64::dsb_sy();
}
}  // namespace

// PSCI CPU_ON (Arm DEN 0022, 5.1.4): the core enters
// rtos_aarch64_secondary_entry with x0 = its CpuLocal (the context id).
const char* start_cpu(unsigned cpu, uint64_t hw_id, void* stack_top) {
    CpuLocal& c = cpu_local(cpu);
    c.exception_stack = reinterpret_cast<uintptr_t>(stack_top);
    if (aarch64::psci_conduit() == aarch64::PsciConduit::none)
        return aarch64::boot_el() == 3 ? "no PSCI firmware (booted at EL3, secure=on)"
                                       : "no PSCI firmware";
    // What the core reads before its MMU is on (start.S).
    clean_to_poc(&c, sizeof(c));
    clean_to_poc(&rtos_aarch64_mmu_regs, sizeof(rtos_aarch64_mmu_regs));
    int64_t r = aarch64::psci_call(aarch64::kPsciCpuOn, hw_id,
                                   reinterpret_cast<uintptr_t>(rtos_aarch64_secondary_entry),
                                   reinterpret_cast<uintptr_t>(&c));
    switch (r) {
    case 0: return nullptr;
    case aarch64::kPsciAlreadyOn:
    case aarch64::kPsciOnPending: return "PSCI CPU_ON: already on";
    case aarch64::kPsciInvalidParameters: return "PSCI CPU_ON: no such core";
    case aarch64::kPsciNotSupported: return "PSCI CPU_ON not supported";
    default: return "PSCI CPU_ON failed";
    }
}

void frame_pc_sp(const void* frame, uintptr_t& pc, uintptr_t& sp) {
    const auto* f = static_cast<const TrapFrame*>(frame);
    pc = f->elr;
    sp = f->sp;
}

// B target (ARM ARM C6.2.26: imm26, the byte offset / 4). The data cache
// line is cleaned and the instruction cache line invalidated to the point
// of unification (ARM ARM D7.5.9.x, "Instruction cache maintenance":
// DC CVAU, DSB ISH, IC IVAU), inner shareable, so every core sees it.
void patch_branch(void* site, const void* target) {
    auto off = static_cast<int64_t>(reinterpret_cast<uintptr_t>(target) -
                                    reinterpret_cast<uintptr_t>(site));
    *static_cast<volatile uint32_t*>(site) = 0x14000000u | ((off >> 2) & 0x03ffffff);
    asm volatile("dc cvau, %0\n\tdsb ish\n\tic ivau, %0" ::"r"(site) : "memory");
}

void sync_instructions() { asm volatile("dsb ish\n\tisb" ::: "memory"); }
#else
void raise_soft_interrupt() { irq::controller()->raise(kSoftInterruptSgi); }
#endif

// Read on the boot core (rtos_kernel_main) and later by it only.
uint64_t boot_cpu_hw_id() { return read_sysreg(mpidr_el1) & 0xff00ffffffull; }

uint64_t counter_frequency() { return read_sysreg(cntfrq_el0); }
void set_counter_frequency(uint64_t) {}

void poweroff() {
    irq_save();
    aarch64::psci_call(aarch64::kPsciSystemOff);
#if defined(CONFIG_ARCH_AARCH64_SEMIHOSTING_EXIT)
    aarch64::semihosting_exit(0);  // no PSCI (QEMU secure=on without firmware)
#endif
    for (;;) wait_for_interrupt();
}

void reboot() {
    irq_save();
    aarch64::psci_call(aarch64::kPsciSystemReset);
    for (;;) wait_for_interrupt();
}

void set_exit_handler(ExitHandler handler) { exit_handler = handler; }

void fail_exit() {
    irq_save();
    if (exit_handler) exit_handler(1);
#if defined(CONFIG_ARCH_AARCH64_SEMIHOSTING_EXIT)
    aarch64::semihosting_exit(1);
#endif
    for (;;) wait_for_interrupt();
}

void dump_frame(const void* frame) {
    const auto* f = static_cast<const TrapFrame*>(frame);
    for (unsigned i = 0; i < 31; ++i) {
        printk("  %sx%u %016lx%s", i < 10 ? " " : "", i, f->x[i], (i % 4 == 3) ? "\n" : "");
    }
    printk("   sp %016lx\n  elr %016lx  spsr %08lx  esr %08lx  far %016lx\n", f->sp, f->elr,
           f->spsr, read_sysreg(esr_el1), read_sysreg(far_el1));
}

const char* name() { return "aarch64"; }

namespace aarch64 {
namespace {
PsciConduit conduit_override = PsciConduit::none;
bool conduit_set = false;
}  // namespace

}  // namespace aarch64

// The device tree's /psci "method" (a tree without /psci: the default by
// exception level stays, none at EL3).
void set_firmware_method(const char* method) {
    if (!method) return;
    auto is = [&](const char* m) {
        for (unsigned i = 0;; ++i) {
            if (method[i] != m[i]) return false;
            if (!m[i]) return true;
        }
    };
    if (is("hvc")) aarch64::set_psci_conduit(aarch64::PsciConduit::hvc);
    else if (is("smc")) aarch64::set_psci_conduit(aarch64::PsciConduit::smc);
}

namespace aarch64 {

unsigned boot_el() { return rtos_aarch64_boot_el; }

void set_psci_conduit(PsciConduit c) {
    conduit_override = c;
    conduit_set = true;
}

PsciConduit psci_conduit() {
    if (conduit_set) return conduit_override;
    switch (boot_el()) {
    case 1: return PsciConduit::hvc;
    case 2: return PsciConduit::smc;
    default: return PsciConduit::none;
    }
}

int64_t psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3) {
    switch (psci_conduit()) {
    case PsciConduit::hvc: return rtos_aarch64_hvc_call(fn, a1, a2, a3);
    case PsciConduit::smc: return rtos_aarch64_smc_call(fn, a1, a2, a3);
    case PsciConduit::none: break;
    }
    return kPsciNotSupported;
}

void semihosting_exit(uint32_t code) {
    constexpr uint64_t kSysExit = 0x18;
    constexpr uint64_t kAdpStoppedApplicationExit = 0x20026;
    const uint64_t params[2] = {kAdpStoppedApplicationExit, code};
    rtos_aarch64_semihost_call(kSysExit, params);
}

}  // namespace aarch64
}  // namespace rtos::arch

// Trap dispatch. Nesting (arch/port.hpp): an IRQ goes through
// irq::dispatch(), which runs every handler but the tick's with IRQs
// unmasked (run_irq_handler); the GIC priorities let only the tick preempt
// such a handler, so the tick nests into device and software interrupt
// handlers (depth 2) and nothing else nests. Exceptions and the tick run
// masked; every handler returns masked.
extern "C" void rtos_aarch64_trap_handler(unsigned kind, rtos::arch::aarch64::TrapFrame* frame) {
    using namespace rtos::arch;
    using aarch64::TrapKind;
    switch (static_cast<TrapKind>(kind)) {
    case TrapKind::irq:
#if defined(CONFIG_RTOS_SMP)
        if (rtos::smp::active()) {  // the stop report and `cpus`
            this_cpu().trap_frame = frame;
            ++this_cpu().interrupts;
        }
#endif
        if (this_tick().stopped) catch_up_ticks();
        rtos::irq::dispatch();
        return;
    case TrapKind::sync: {
        uint64_t esr = read_sysreg(esr_el1);
        uint64_t ec = esr >> 26;
        if (ec == kEcUnknown && fixup_firmware_call(frame)) return;
#if defined(CONFIG_RTOS_STACK_GUARD_PAGES)
        if (ec == kEcDataAbort) {
            // On the abort stack (vectors.S): the frame gets the thread's sp.
            frame->sp = read_sysreg(sp_el0);
            // Below the stack limit (stack base plus the guard band) by at
            // most two pages: the guard page, nothing else there can fault.
            uint64_t far = read_sysreg(far_el1), limit = this_cpu().stack_limit;
            if (far < limit && limit - far <= 2 * kPageSize)
                rtos_kernel_stack_guard_fault(frame, reinterpret_cast<const void*>(far));
        }
#endif
        fatal_sync(frame, esr);
    }
    case TrapKind::serror:
        rtos::panic_with_frame(frame, "SError (ESR %08lx)", read_sysreg(esr_el1));
    case TrapKind::fiq: rtos::panic_with_frame(frame, "unexpected FIQ");
    default:
        rtos::panic_with_frame(frame, "exception from an unexpected mode (vector %u, ESR %08lx)",
                               kind, read_sysreg(esr_el1));
    }
}
