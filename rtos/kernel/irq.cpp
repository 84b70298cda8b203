#include <rtos/critical.hpp>
#include <rtos/irq.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>
#include <rtos/spinlock.hpp>

#include "arch/port.hpp"
#include "kernel/scheduler.hpp"

namespace rtos::irq {
namespace {

// Handlers beyond the first on a line: PCI INTx lines are shared (QEMU's
// virt boards wire every PCI slot onto four lines), so a fifth PCI device
// shares the line of the first.
constexpr unsigned kMaxSharedHandlers = 32;

struct Shared {
    Handler handler;
    void* arg;
    Shared* next;
};

struct Slot {
    Handler handler;
    void* arg;
    Shared* more;  ///< further handlers on this line, called in attach order
    unsigned long count;
};

// Lock story: slots, the shared pool and the controller's enable and
// routing registers change under irq_lock (lock order, rtos/spinlock.hpp:
// below the driver locks, whose code enables and disables its lines; the
// controller's own locks, the GIC ITS's, below it). dispatch() reads a slot
// without it: a line is enabled only once its slot is written (and the
// store ordered before the enable).
SpinLock irq_lock;
Slot slots[kMaxIrqs];
Shared shared_pool[kMaxSharedHandlers];
unsigned shared_used = 0;
#if defined(CONFIG_RTOS_SMP)
uint8_t line_cpu[kMaxIrqs];  // where each line is delivered (0: the boot CPU)
unsigned next_cpu = 0;       // attach()'s round robin
#endif
Controller* ctrl = nullptr;
MsiController* msi_ctrl = nullptr;
unsigned ctrl_lines = 0;  // ctrl->count(), kept for the interrupt path

}  // namespace

void set_controller(Controller* c) {
    ctrl = c;
    ctrl_lines = c ? c->count() : 0;
}
Controller* controller() { return ctrl; }

void set_msi_controller(MsiController* c) { msi_ctrl = c; }
MsiController* msi_controller() { return msi_ctrl; }

// The port's software interrupt runs kernel::soft_interrupt_from_isr(),
// which calls this hook.
void set_soft_handler(Handler handler, void* arg) { kernel::set_soft_interrupt_hook(handler, arg); }
void raise_soft() { arch::raise_soft_interrupt(); }

#if defined(CONFIG_RTOS_SMP)
namespace {
// The n-th online CPU (n < cpu_count()).
unsigned nth_online(unsigned n) {
    CpuMask m = smp::online_mask();
    for (unsigned c = 0; c < kMaxCpus; ++c)
        if ((m & cpu_mask(c)) && n-- == 0) return c;
    return 0;
}
}  // namespace
#endif

// The controller's enable registers are read-modify-write (PLIC) and a
// handler may enable or disable interrupts too, so changes hold irq_lock.
// A second handler on a line is chained after the first (shared,
// level-triggered lines: every handler is called, each checks its device).
bool attach(unsigned irq, Handler handler, void* arg) {
    if (!ctrl || !handler || irq >= kMaxIrqs || irq >= ctrl->count()) return false;
    SpinLockGuard lock(irq_lock);
    Slot& slot = slots[irq];
    if (!slot.handler) {
        slot.handler = handler;
        slot.arg = arg;
#if defined(CONFIG_RTOS_SMP)
        // A line of its own: the next CPU in turn takes it (a no-op for
        // per-CPU interrupts and LPIs, which the controller does not move).
        if (unsigned n = smp::cpu_count(); n > 1) {
            unsigned cpu = nth_online(next_cpu++ % n);
            if (ctrl->route(irq, cpu)) line_cpu[irq] = static_cast<uint8_t>(cpu);
        }
#endif
    } else {
        if (shared_used == kMaxSharedHandlers) return false;  // the caller reports it
        Shared* s = &shared_pool[shared_used++];
        *s = {handler, arg, nullptr};
        Shared** tail = &slot.more;
        while (*tail) tail = &(*tail)->next;
        *tail = s;
    }
    // The slot is written before another CPU can take the interrupt.
    arch::device_write_barrier();
    ctrl->enable(irq);
    return true;
}

void enable(unsigned irq) {
    if (!ctrl || irq >= ctrl->count()) return;
    SpinLockGuard lock(irq_lock);
    ctrl->enable(irq);
}

void disable(unsigned irq) {
    if (!ctrl || irq >= ctrl->count()) return;
    SpinLockGuard lock(irq_lock);
    ctrl->disable(irq);
}

#if defined(CONFIG_RTOS_SMP)
unsigned cpu_of(unsigned irq) { return irq < kMaxIrqs ? line_cpu[irq] : 0; }

bool route(unsigned irq, unsigned cpu) {
    if (!ctrl || irq >= kMaxIrqs || irq >= ctrl->count() || cpu >= kMaxCpus ||
        !(smp::online_mask() & cpu_mask(cpu)))
        return false;
    SpinLockGuard lock(irq_lock);
    if (!ctrl->route(irq, cpu)) return false;
    line_cpu[irq] = static_cast<uint8_t>(cpu);
    return true;
}

void init_this_cpu() {
    if (ctrl) ctrl->init_cpu(arch::this_cpu().id);
}
#else
unsigned cpu_of(unsigned) { return 0; }
bool route(unsigned, unsigned cpu) { return cpu == 0; }
void init_this_cpu() {}
#endif

// Runs in the port's interrupt path. Handlers may be preempted by the tick
// (arch::run_irq_handler, nesting model in arch/port.hpp) but never by
// another device interrupt, so one dispatch runs at a time, apart from the
// tick's own on aarch64 (where the timer is a GIC interrupt too): that one
// touches only the timer's slot. One interrupt per trap: another one still
// pending traps again at once, and the common case (one) claims once.
void dispatch() {
    if (!ctrl) return;
    unsigned irq = ctrl->claim();
    if (irq >= ctrl_lines) return;
    if (irq < kMaxIrqs && slots[irq].handler) {
        ++slots[irq].count;
        arch::run_irq_handler(irq, slots[irq].handler, slots[irq].arg);
        for (const Shared* s = slots[irq].more; s; s = s->next)
            arch::run_irq_handler(irq, s->handler, s->arg);
    } else {
        printk("irq: spurious interrupt %u (no handler), disabling it\n", irq);
        disable(irq);
    }
    ctrl->complete(irq);
}

unsigned long count(unsigned irq) { return irq < kMaxIrqs ? slots[irq].count : 0; }

}  // namespace rtos::irq
