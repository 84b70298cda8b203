// Device interrupts, independent of the interrupt controller (PLIC, GIC).
#pragma once

#include <cstdint>

namespace rtos::irq {

/// Interrupt numbers the kernel has handler slots for: a controller numbers
/// its lines and message-signalled interrupts below this (attach() refuses
/// the rest).
constexpr unsigned kMaxIrqs = 1024;

using Handler = void (*)(void* arg);

/// Installs the handler for interrupt `irq` (controller numbering: PLIC
/// source, GIC INTID) and enables it. A line that already has a handler is
/// shared (PCI INTx): every handler attached to it runs on each interrupt,
/// in attach order, so each must check whether its device interrupted.
/// Returns false if irq is out of range or no shared slot is left.
bool attach(unsigned irq, Handler handler, void* arg);
void enable(unsigned irq);
void disable(unsigned irq);

/// Priority classes of the nesting model (rtos/arch/port.hpp). Every
/// interrupt starts `normal`: normal handlers do not preempt one another. A
/// `preempting` interrupt (the aarch64 tick) preempts any normal handler.
/// How a class maps to hardware levels is the controller's business.
enum class Priority : unsigned char { normal, preempting };

/// The interface a controller driver implements (components/drivers/irq/).
class Controller {
public:
    /// Highest interrupt number + 1.
    virtual unsigned count() const = 0;
    virtual void enable(unsigned irq) = 0;
    virtual void disable(unsigned irq) = 0;
    /// Returns the pending interrupt, or count() when none is pending.
    /// claim() and complete() run in irq::dispatch(), interrupts masked.
    virtual unsigned claim() = 0;
    virtual void complete(unsigned irq) = 0;
    /// Puts `irq` in priority class `p`. False when the controller cannot
    /// give that class (it logged why).
    virtual bool set_priority(unsigned irq, Priority p) = 0;
    /// Makes software interrupt `irq` pending on this CPU (GIC: SGI 0-15).
    /// False when the controller has no such interrupt.
    virtual bool raise(unsigned irq) = 0;
    /// Short name for the boot log.
    virtual const char* name() const = 0;

    // ---- SMP (docs/smp.md). Logical CPU numbers (rtos/smp.hpp); the boot
    // ---- CPU is set up by the controller's probe.
    /// The per-CPU part of the set-up, on CPU `cpu` as it starts (PLIC: its
    /// hart's S-mode context; GIC: its CPU interface, banked SGIs and PPIs,
    /// redistributor). Interrupts masked.
    virtual void init_cpu(unsigned cpu) { (void)cpu; }
    /// Makes software interrupt `irq` pending on CPU `cpu` (GIC: an SGI to
    /// that CPU). False when the controller has none.
    virtual bool raise_on(unsigned irq, unsigned cpu) {
        (void)irq;
        (void)cpu;
        return false;
    }
    /// Delivers device interrupt `irq` to CPU `cpu` from now on (PLIC: the
    /// enable bit in that hart's context; GICv2: GICD_ITARGETSR; GICv3:
    /// GICD_IROUTER). False for an interrupt that cannot move (per-CPU
    /// ones, LPIs) or a controller that cannot route.
    virtual bool route(unsigned irq, unsigned cpu) {
        (void)irq;
        (void)cpu;
        return false;
    }

protected:
    ~Controller() = default;
};

/// Selects the controller (platform code, once at boot), initialised: its
/// count() is read here, once.
void set_controller(Controller* controller);
Controller* controller();

/// Called by the arch port for an external interrupt: claims and runs
/// handlers until none is pending.
void dispatch();

/// The software interrupt of this CPU (riscv64: the supervisor software
/// interrupt, SSIP; aarch64: an SGI to self), for work that must run in
/// interrupt context (tests, the Thread-Metric interrupt benchmarks). Its
/// handler runs like a device interrupt's (normal class, on the interrupted
/// thread's trap path; a thread it readies runs when the trap returns).
/// set_soft_handler installs the one handler (null: none).
void set_soft_handler(Handler handler, void* arg);
/// Makes the software interrupt pending on this CPU: with interrupts
/// unmasked in thread context, its handler has run when this returns.
void raise_soft();

/// A message-signalled interrupt (PCI MSI-X): the device raises it by writing
/// `data` (32 bits) to `address`.
struct MsiMessage {
    std::uint64_t address;
    std::uint32_t data;
};

/// An MSI controller (GICv3 ITS: LPIs; GICv2m: SPIs) turns such writes into
/// interrupts of the interrupt controller, numbered like its lines for
/// attach() / enable() / disable(). Interrupts are handed out at boot, while
/// drivers probe, and never returned.
class MsiController {
public:
    /// Allocates up to `count` interrupts for the requester `device_id` (the
    /// ID the controller sees: a PCI requester ID translated through the
    /// tree's msi-map). Fills irqs[i] and messages[i] for each and returns how
    /// many it allocated: fewer (or 0, logged) when its interrupts or device
    /// IDs run out. They stay disabled until attach() / enable(); a message
    /// written meanwhile stays pending and is taken on enable.
    virtual unsigned allocate(std::uint32_t device_id, unsigned count, unsigned* irqs,
                              MsiMessage* messages) = 0;
    /// Short name for boot lines ("gic-v3-its").
    virtual const char* name() const = 0;

protected:
    ~MsiController() = default;
};

/// Selects the MSI controller: its driver, after set_controller() and before
/// the `driver` start-up level where buses probe (the ITS needs the heap, so
/// it registers at the `platform` level). nullptr (the default): the
/// platform has none, devices use their lines.
void set_msi_controller(MsiController* controller);
MsiController* msi_controller();

/// Interrupts taken per source since boot (for diagnostics).
unsigned long count(unsigned irq);

/// The CPU device interrupt `irq` is delivered to (0 with SMP off). With
/// several CPUs online, attach() spreads the lines it enables round robin
/// over them (lines attached before the other CPUs start stay on CPU 0);
/// route() moves one. False when the line cannot move.
unsigned cpu_of(unsigned irq);
bool route(unsigned irq, unsigned cpu);

/// Kernel: the controller's per-CPU set-up on a CPU that starts.
void init_this_cpu();

}  // namespace rtos::irq
