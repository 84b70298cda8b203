// The software watchdog and the feeding of a hardware one (rtos/watchdog.hpp).
// A thread at the highest priority wakes every CONFIG_RTOS_WATCHDOG_CHECK_MS:
// a watched thread past its deadline is named and the configured action
// taken; otherwise the hardware watchdog is fed when its quarter period is
// due. Nothing feeds it while interrupts are masked for long or a thread at
// the highest priority spins, so the device fires then.
#include <rtos/watchdog.hpp>

#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>
#include <rtos/spinlock.hpp>
#include <rtos/system.hpp>
#include <rtos/thread.hpp>

namespace rtos {

#if defined(CONFIG_RTOS_WATCHDOG)
namespace {

// Lock: watchdog_lock, level 1 of docs/smp.md's order (clients start and
// stop from any thread on any CPU; the watchdog thread walks the list).
// check_in() is one atomic store of `deadline`, read atomically here; `feeds`
// has one writer (the watchdog thread); thread_started is an atomic flag.
SpinLock watchdog_lock;
List<WatchdogClient, &WatchdogClient::node> clients;
unsigned client_count = 0;
const watchdog::Hardware* hardware = nullptr;
uint64_t feeds = 0;

StaticThread<CONFIG_RTOS_WATCHDOG_STACK_SIZE> watchdog_thread;
unsigned thread_started = 0;  // a word: riscv64 has no byte-sized atomic swap

[[noreturn]] void missed(const WatchdogClient& c, Tick now) {
    printk("watchdog: thread '%s' missed its check-in (period %llu ms, %llu ms late)\n",
           c.thread ? c.thread->name() : "?",
           static_cast<unsigned long long>(clock::ticks_to_ms(c.period)),
           static_cast<unsigned long long>(clock::ticks_to_ms(now - c.deadline)));
#if defined(CONFIG_RTOS_WATCHDOG_ACTION_RESET)
    printk("watchdog: resetting\n");
    system::reboot();
#else
    panic("watchdog: thread '%s' stopped checking in", c.thread ? c.thread->name() : "?");
#endif
}

void watchdog_main(void*) {
    const Tick interval = clock::ms_to_ticks(CONFIG_RTOS_WATCHDOG_CHECK_MS);
    Tick next_feed = 0;
    for (Tick wake = clock::ticks();; wake += interval) {
        Thread::sleep_until(wake);
        const Tick now = clock::ticks();
        if (now - wake > interval) wake = now;  // after a long stall: no burst of catch-up rounds
        const WatchdogClient* late = nullptr;
        const watchdog::Hardware* hw;
        {
            SpinLockGuard lock(watchdog_lock);
            clients.for_each([&](const WatchdogClient* c) {
                const Tick deadline = __atomic_load_n(&c->deadline, __ATOMIC_RELAXED);
                if (static_cast<std::int64_t>(now - deadline) > 0) late = c;
            });
            hw = hardware;
        }
        if (late) missed(*late, now);
        if (hw && static_cast<std::int64_t>(now - next_feed) >= 0) {
            hw->feed(hw->ctx);
            __atomic_store_n(&feeds, feeds + 1, __ATOMIC_RELAXED);
            next_feed = now + clock::ms_to_ticks(hw->timeout_ms / 4);
        }
    }
}

void ensure_thread() {
    if (__atomic_exchange_n(&thread_started, 1u, __ATOMIC_ACQ_REL) != 0) return;
    watchdog_thread.start({.name = "watchdog", .priority = 0}, watchdog_main, nullptr);
}

}  // namespace

Status WatchdogClient::start(uint32_t period_ms) {
    if (period_ms == 0) return Status::invalid;
    {
        SpinLockGuard lock(watchdog_lock);
        if (active) return Status::invalid;
        thread = Thread::current();
        period = clock::ms_to_ticks(period_ms);
        deadline = clock::ticks() + period;
        active = true;
        clients.push_back(this);
        ++client_count;
    }
    ensure_thread();
    return Status::ok;
}

void WatchdogClient::check_in() {
    __atomic_store_n(&deadline, clock::ticks() + period, __ATOMIC_RELAXED);
}

void WatchdogClient::stop() {
    SpinLockGuard lock(watchdog_lock);
    if (!active) return;
    clients.remove(this);
    --client_count;
    active = false;
}

namespace watchdog {

Status set_hardware(const Hardware* hw) {
    if (!hw || !hw->feed || hw->timeout_ms < 4) return Status::invalid;
    {
        SpinLockGuard lock(watchdog_lock);
        if (hardware) return Status::invalid;
        hardware = hw;
    }
    hw->feed(hw->ctx);
    ensure_thread();
    return Status::ok;
}

Info info() {
    SpinLockGuard lock(watchdog_lock);
    return {hardware ? hardware->name : nullptr, hardware ? hardware->timeout_ms : 0,
            __atomic_load_n(&feeds, __ATOMIC_RELAXED), client_count};
}

}  // namespace watchdog

#else  // !CONFIG_RTOS_WATCHDOG: the API stays, and says no.

Status WatchdogClient::start(uint32_t) { return Status::invalid; }
void WatchdogClient::check_in() {}
void WatchdogClient::stop() {}
namespace watchdog {
Status set_hardware(const Hardware*) { return Status::invalid; }
Info info() { return {nullptr, 0, 0, 0}; }
}  // namespace watchdog

#endif

}  // namespace rtos
