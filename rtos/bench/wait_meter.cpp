// WaitMeter: how long the CPU waited while benchmark threads were blocked.
#include <rtos/thread.hpp>

#include "bench/bench.hpp"

namespace rtos::bench {

bool WaitMeter::start() {
    stop_ = false;
    waited_ = 0;
    thread_ =
        Thread::create({.name = "bench-wait", .priority = kMeterPriority}, entry, this, kStackSize);
    return thread_ != nullptr;
}

void WaitMeter::stop() {
    if (!thread_) return;
    stop_ = true;
    thread_->join();  // it sees stop_ after its next wake-up (the next tick at the latest)
    thread_ = nullptr;
}

void WaitMeter::entry(void* arg) {
    auto* m = static_cast<WaitMeter*>(arg);
    const Thread* self = Thread::current();
    bool woke = false;
    uint64_t woke_at = 0, cpu_at_wake = 0;
    while (!m->stop_) {
        arch::IrqState s = arch::irq_save();
        uint64_t t0 = arch::counter_read();
        // Since the last wake-up the interrupt ran and we kept the CPU (our
        // CPU time is only updated when we are switched out): it woke
        // nobody, so it belongs to the wait, not to a benchmark's request.
        if (woke && self->cpu_time() == cpu_at_wake) m->waited_ = m->waited_ + (t0 - woke_at);
        // Returns when an interrupt is pending, even though it is masked;
        // the interrupt is taken at irq_restore().
        arch::wait_for_interrupt();
        uint64_t t1 = arch::counter_read();
        m->waited_ = m->waited_ + (t1 - t0);
        woke = true;
        woke_at = t1;
        cpu_at_wake = self->cpu_time();
        arch::irq_restore(s);
    }
}

}  // namespace rtos::bench
