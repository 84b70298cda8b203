// Software timers. Callbacks run in the timer thread
// (CONFIG_RTOS_TIMER_THREAD_PRIORITY), so they may use any kernel call that
// does not block for long.
#pragma once

#include "list.hpp"
#include "types.hpp"

namespace rtos {

class Timer {
public:
    using Callback = void (*)(Timer& timer, void* arg);

    constexpr Timer(Callback cb, void* arg) : callback_(cb), arg_(arg) {}
    ~Timer();
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    /// Fires once after `delay` ticks (>= 1).
    Status start_once(Tick delay);
    /// Fires every `period` ticks (>= 1), first after one period, drift-free.
    Status start_periodic(Tick period);
    /// Stops a pending timer (harmless when stopped).
    void stop();
    bool active() const;
    /// Times this timer has fired since it was last started.
    unsigned long fired() const { return fired_; }

    // Kernel-internal.
    ListNode node;
    Tick expiry = 0;
    Tick period = 0;
    Callback callback_;
    void* arg_;
    volatile unsigned long fired_ = 0;

private:
    Status arm(Tick delay, Tick period);
};

namespace kernel {
/// Starts the timer thread (boot, before the start-up hooks).
void timer_service_start();
}  // namespace kernel

}  // namespace rtos
