// Device interrupts, independent of the interrupt controller (PLIC, GIC).
#pragma once

namespace rtos::irq {

using Handler = void (*)(void* arg);

/// Installs the handler for interrupt `irq` (controller numbering: PLIC
/// source, GIC INTID) and enables it. A line that already has a handler is
/// shared (PCI INTx): every handler attached to it runs on each interrupt,
/// in attach order, so each must check whether its device interrupted.
/// Returns false if irq is out of range or no shared slot is left (logged).
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

/// Interrupts taken per source since boot (for diagnostics).
unsigned long count(unsigned irq);

}  // namespace rtos::irq
