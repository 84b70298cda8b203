// The driver-test interrupt line (see irq_line.hpp).
#include "irq_line.hpp"

#include <rtos/irq.hpp>

#include "kernel/scheduler.hpp"
#include "sim.hpp"

namespace {

bool available = true;
rtos::irq::Handler isr = nullptr;
void* isr_arg = nullptr;
fake::FakeMmioDevice* device = nullptr;

// The software-interrupt hook: the interrupt controller's dispatch for our
// one line (runs the handler while the line is up, bounded).
void deliver(void*) {
    for (int i = 0; i < 16 && isr && device && device->irq_pending(); ++i) isr(isr_arg);
}

}  // namespace

namespace host_irq {

void install(fake::FakeMmioDevice* d, bool avail) {
    device = d;
    available = avail;
    rtos::kernel::set_soft_interrupt_hook(&deliver, nullptr);
}

void raise() {
    if (isr && device && device->irq_pending()) sim::soft_interrupt();
}

}  // namespace host_irq

namespace rtos::irq {
bool attach(unsigned, Handler handler, void* arg) {
    if (!available) return false;
    isr = handler;
    isr_arg = arg;
    return true;
}
void enable(unsigned) {}
void disable(unsigned) {}
// One CPU: every interrupt is delivered to CPU 0.
unsigned cpu_of(unsigned) { return 0; }
bool route(unsigned, unsigned cpu) { return cpu == 0; }
}  // namespace rtos::irq
