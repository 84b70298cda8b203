#include <rtos/console.hpp>
#include <rtos/config.hpp>
#include <rtos/critical.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/spinlock.hpp>

#include "console_internal.hpp"

namespace rtos::console {
namespace {

// Output: one lock for the driver's putc and the mirror, held for a whole
// printk (a line never interleaves with another CPU's). Lock order
// (rtos/spinlock.hpp): below the driver locks (drivers print while holding
// theirs), above the kernel lock (the mirror gives a semaphore); nothing in
// the kernel prints while holding the kernel lock, panics aside, which skip
// the mirror.
SpinLock out_lock;
#if defined(CONFIG_RTOS_SMP)
volatile int out_owner = -1;  // CPU holding out_lock (a panic inside printk writes anyway)
#endif
bool mirror_off = false;  // a panic: the mirror's semaphore may be unreachable
const Driver* driver = nullptr;
Mirror mirror = nullptr;
void* mirror_ctx = nullptr;

// Received bytes wait here until a thread reads them. Room for several whole
// shell lines: a pasted line arrives in one burst, possibly before the
// reader runs, and a byte that finds the ring full is dropped (the UART
// drivers do not hold bytes back in their FIFOs).
constexpr unsigned kRxSize = 1024;
char rx_ring[kRxSize];
volatile unsigned rx_head = 0;  // written by the ISR
volatile unsigned rx_tail = 0;  // written by readers
Semaphore rx_ready(0, kRxSize);
// Input: the ring and the Ctrl-C state, between the receive interrupts (any
// CPU) and the readers. A leaf: rx_ready is given after it is dropped.
SpinLock rx_lock;

constexpr char kCtrlC = 0x03;
volatile bool interrupt_armed = false;
volatile bool interrupt_flag = false;
// After an interrupt, readers drop the bytes up to rx_ring[discard_end]
// (exclusive): they were typed before the Ctrl-C. Dropping happens in getc()
// so that every byte still matches one count of rx_ready.
volatile bool discarding = false;
volatile unsigned discard_end = 0;

void interrupt_at(unsigned end) {
    interrupt_flag = true;
    discarding = true;
    discard_end = end;
}

}  // namespace

void set_driver(const Driver* d) { driver = d; }

void set_mirror(Mirror m, void* ctx) {
    OutputLock lock;
    mirror = m;
    mirror_ctx = ctx;
}

OutputLock::OutputLock() : state_(arch::irq_save()) {
#if defined(CONFIG_RTOS_SMP)
    // Re-entered on this CPU (a panic in the middle of a printk): write
    // through rather than wait for ourselves.
    int self = static_cast<int>(arch::this_cpu().id);
    if (out_owner == self) return;
    out_lock.lock();
    out_owner = self;
    held_ = true;
#else
    out_lock.lock();
#endif
}

OutputLock::~OutputLock() {
#if defined(CONFIG_RTOS_SMP)
    if (held_) {
        out_owner = -1;
        out_lock.unlock();
    }
#else
    out_lock.unlock();
#endif
    arch::irq_restore(state_);
}

void write_locked(const char* s, std::size_t n) {
    if (!driver) return;
    for (std::size_t i = 0; i < n; ++i) {
        if (s[i] == '\n') driver->putc(driver->ctx, '\r');
        driver->putc(driver->ctx, s[i]);
    }
    if (mirror && !mirror_off) mirror(mirror_ctx, s, n);
}

void write(const char* s, std::size_t n) {
    if (!driver) return;
    OutputLock lock;  // keeps a caller's output contiguous
    write_locked(s, n);
}

void panic_mode() { mirror_off = true; }

void puts(const char* s) {
    std::size_t n = 0;
    while (s[n]) ++n;
    write(s, n);
}

void rx_from_isr(char c) {
    {
        SpinLockGuard lock(rx_lock);
        if (c == kCtrlC && interrupt_armed) {
            interrupt_at(rx_head);
            return;
        }
        unsigned next = (rx_head + 1) % kRxSize;
        if (next == rx_tail) return;  // full: drop, the reader is too slow
        rx_ring[rx_head] = c;
        rx_head = next;
    }
    rx_ready.give_from_isr();
}

int getc(Timeout timeout) {
    for (;;) {
        if (rx_ready.take(timeout) != Status::ok) return -1;
        SpinLockGuard lock(rx_lock);
        char c = rx_ring[rx_tail];
        bool drop = discarding && rx_tail != discard_end;
        if (!drop) discarding = false;
        rx_tail = (rx_tail + 1) % kRxSize;
        if (!drop) return static_cast<unsigned char>(c);
    }
}

void arm_interrupt() {
    SpinLockGuard lock(rx_lock);
    interrupt_flag = false;
    interrupt_armed = true;
    // A Ctrl-C typed ahead, still queued: the last one interrupts at once.
    for (unsigned i = rx_tail; i != rx_head; i = (i + 1) % kRxSize)
        if (rx_ring[i] == kCtrlC) interrupt_at((i + 1) % kRxSize);
}

bool disarm_interrupt() {
    SpinLockGuard lock(rx_lock);
    interrupt_armed = false;
    bool was = interrupt_flag;
    interrupt_flag = false;
    return was;
}

bool interrupt_requested() { return interrupt_flag; }

}  // namespace rtos::console
