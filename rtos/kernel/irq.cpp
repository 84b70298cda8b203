#include <rtos/irq.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>

namespace rtos::irq {
namespace {

constexpr unsigned kMaxIrqs = 1024;

struct Slot {
    Handler handler;
    void* arg;
    unsigned long count;
};

Slot slots[kMaxIrqs];
Controller* ctrl = nullptr;

}  // namespace

void set_controller(Controller* c) { ctrl = c; }
Controller* controller() { return ctrl; }

bool attach(unsigned irq, Handler handler, void* arg) {
    if (!ctrl || irq >= kMaxIrqs || irq >= ctrl->count()) return false;
    slots[irq].handler = handler;
    slots[irq].arg = arg;
    ctrl->enable(irq);
    return true;
}

void enable(unsigned irq) {
    if (ctrl && irq < ctrl->count()) ctrl->enable(irq);
}

void disable(unsigned irq) {
    if (ctrl && irq < ctrl->count()) ctrl->disable(irq);
}

void dispatch() {
    if (!ctrl) return;
    for (;;) {
        unsigned irq = ctrl->claim();
        if (irq >= ctrl->count()) return;
        if (irq < kMaxIrqs && slots[irq].handler) {
            ++slots[irq].count;
            slots[irq].handler(slots[irq].arg);
        } else {
            printk("irq: spurious interrupt %u (no handler), disabling it\n", irq);
            ctrl->disable(irq);
        }
        ctrl->complete(irq);
    }
}

unsigned long count(unsigned irq) { return irq < kMaxIrqs ? slots[irq].count : 0; }

}  // namespace rtos::irq
