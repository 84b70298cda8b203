// Watchdogs (CONFIG_RTOS_WATCHDOG, docs/reliability.md): a software
// watchdog that names the thread that stopped checking in, and the hook
// through which the kernel feeds a hardware watchdog only while the system
// is healthy (the watchdog thread runs and every watched thread checked in).
//
//   static rtos::WatchdogClient wd;          // one per watched thread
//   wd.start(500);                           // the calling thread, every 500 ms
//   for (;;) { do_work(); wd.check_in(); }
//
// A missed check-in prints "watchdog: thread '<name>' missed its check-in
// ..." and panics or resets (CONFIG_RTOS_WATCHDOG_ACTION_*).
#pragma once

#include <cstdint>

#include "list.hpp"
#include "types.hpp"

namespace rtos {

class Thread;

class WatchdogClient {
public:
    constexpr WatchdogClient() = default;
    WatchdogClient(const WatchdogClient&) = delete;
    WatchdogClient& operator=(const WatchdogClient&) = delete;

    /// Watches the calling thread: it must call check_in() at least every
    /// `period_ms`. invalid: period 0, already started, or no watchdog
    /// (CONFIG_RTOS_WATCHDOG off).
    Status start(uint32_t period_ms);
    /// "Still alive": restarts the period.
    void check_in();
    /// Stops watching (a thread that is about to block for long, or exit:
    /// a client must be stopped before its memory goes).
    void stop();

    // ---- Kernel-internal state.
    ListNode node;
    const Thread* thread = nullptr;
    Tick period = 0;
    volatile Tick deadline = 0;
    bool active = false;
};

namespace watchdog {

/// What a hardware watchdog driver gives the kernel: feed() restarts the
/// device's countdown, which must not run out in less than timeout_ms.
struct Hardware {
    const char* name;
    void (*feed)(void* ctx);
    void* ctx;
    uint32_t timeout_ms;
};

/// Hands a hardware watchdog (the device already counting) to the kernel,
/// which feeds it every timeout_ms / 4 while the system is healthy; one at
/// a time. invalid when one is set already or CONFIG_RTOS_WATCHDOG is off.
Status set_hardware(const Hardware* hw);

struct Info {
    const char* hardware;  ///< nullptr: none
    uint32_t hardware_timeout_ms;
    uint64_t feeds;
    unsigned clients;
};
Info info();

}  // namespace watchdog
}  // namespace rtos
