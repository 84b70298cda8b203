// aarch64 EL1 port: interrupt masking, trap dispatch, the generic-timer
// tick, thread stacks, and machine control through PSCI and semihosting.
#include <rtos/config.hpp>
#include <rtos/irq.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>

#include "arch/port.hpp"
#include "arch/tick_timer.hpp"
#include "firmware.hpp"
#include "frame.hpp"
#include "sysreg.hpp"

rtos::arch::CpuLocal rtos_cpu_local{};
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

TickTimer ticker;
bool tick_stopped = false;           // tickless idle: compare set beyond the next tick
volatile unsigned tick_nesting = 0;  // trap depth seen by the latest tick
ExitHandler exit_handler = nullptr;  // set once at boot (set_exit_handler), read on failure

void on_soft_interrupt(void*) { kernel::soft_interrupt_from_isr(); }

// Announces the tick periods the counter says elapsed and arms the next
// boundary. From the timer interrupt, and from any other IRQ that ends a
// tickless idle period (the tick count must be current before its handler,
// or the thread it wakes, reads it). Runs masked: the tick does not nest.
void catch_up_ticks() {
    tick_nesting = this_cpu().trap_depth;
    tick_stopped = false;
    uint64_t n = ticker.advance(counter_read());
    write_sysreg(cntv_cval_el0, ticker.next());
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
    write_sysreg(cntv_cval_el0, ticker.start(counter_read(), counter_frequency() / hz));
    write_sysreg(cntv_ctl_el0, kCntCtlEnable);
    aarch64::isb();
    if (!irq::controller()->set_priority(kVirtualTimerIntid, irq::Priority::preempting))
        panic("aarch64: the tick cannot preempt other interrupt handlers");
    if (!irq::attach(kVirtualTimerIntid, on_timer, nullptr))
        panic("aarch64: cannot attach the timer interrupt %u", kVirtualTimerIntid);
    irq::attach(kSoftInterruptSgi, on_soft_interrupt, nullptr);
}

void timer_idle(uint64_t ticks) {
    if (ticks <= 1) return;  // the next tick is due anyway
    tick_stopped = true;
    write_sysreg(cntv_cval_el0, ticker.after(ticks));
}

const char* timer_source() { return "cntv"; }

unsigned last_tick_nesting() { return tick_nesting; }

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

void raise_soft_interrupt() { irq::controller()->raise(kSoftInterruptSgi); }

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
        if (tick_stopped) catch_up_ticks();
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
