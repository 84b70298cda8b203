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
// reader runs. When it is full, a flow-controlled UART is held (rx_held:
// its receive interrupt masked, bytes left in its FIFO) and the pushed
// source keeps its bytes (rx_source_waiting) until readers have emptied
// half of it. Nothing is dropped.
// Lock: rx_lock (below), rx_held, the UART's hold state and the source too.
constexpr unsigned kRxSize = 1024;
char rx_ring[kRxSize];
volatile unsigned rx_head = 0;  // written by the ISR
volatile unsigned rx_tail = 0;  // written by readers
Semaphore rx_ready(0, kRxSize);
// Input: the ring and the Ctrl-C state, between the receive interrupts (any
// CPU) and the readers. A leaf: rx_ready is given after it is dropped.
SpinLock rx_lock;

volatile bool rx_held = false;  // rx_lock
// The pushed source (set_rx_source()) and whether it keeps bytes the full
// ring refused: rx_lock. resume runs with rx_lock dropped (it takes the
// source's lock, which is above rx_lock).
void (*rx_resume)(void*) = nullptr;
void* rx_resume_ctx = nullptr;
bool rx_source_waiting = false;

unsigned rx_queued() { return (rx_head + kRxSize - rx_tail) % kRxSize; }  // rx_lock held

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

// rx_lock held: whether the ring is full (one slot stays free).
bool full_locked() { return rx_queued() == kRxSize - 1; }

// Queues a received byte, or takes Ctrl-C as an interrupt; false when
// nothing was queued (Ctrl-C). rx_lock held; the callers checked
// full_locked() (a Ctrl-C taken as the interrupt needs no room).
bool put_locked(char c) {
    if (c == kCtrlC && interrupt_armed) {
        interrupt_at(rx_head);
        return false;
    }
    rx_ring[rx_head] = c;
    rx_head = (rx_head + 1) % kRxSize;
    return true;
}

// Drains the UART into the ring until it is full, then holds the UART. The
// whole drain under rx_lock: a reader draining after a hold (any CPU) and
// the receive interrupt never interleave their bytes.
void rx_poll_from_isr() {
    if (!driver || !driver->rx_hold) return;
    unsigned queued = 0;
    {
        SpinLockGuard lock(rx_lock);
        while (!rx_held) {
            if (full_locked()) {  // the rest stays in the UART
                rx_held = true;
                driver->rx_hold(driver->ctx, true);
                break;
            }
            int c = driver->getc(driver->ctx);
            if (c < 0) break;
            if (put_locked(static_cast<char>(c))) ++queued;
        }
    }
    while (queued-- > 0) rx_ready.give_from_isr();
}

void set_rx_source(void (*resume)(void* ctx), void* ctx) {
    SpinLockGuard lock(rx_lock);
    rx_resume = resume;
    rx_resume_ctx = ctx;
    rx_source_waiting = false;
}

std::size_t rx_push_from_isr(const char* s, std::size_t n) {
    std::size_t taken = 0;
    unsigned queued = 0;
    {
        SpinLockGuard lock(rx_lock);
        for (; taken < n; ++taken) {
            if (full_locked() && !(s[taken] == kCtrlC && interrupt_armed)) {
                rx_source_waiting = true;  // getc() resumes the source
                break;
            }
            if (put_locked(s[taken])) ++queued;
        }
    }
    while (queued-- > 0) rx_ready.give_from_isr();
    return taken;
}

int getc(Timeout timeout) {
    for (;;) {
        if (rx_ready.take(timeout) != Status::ok) return -1;
        char c;
        bool drop, unheld = false;
        void (*resume)(void*) = nullptr;
        void* resume_ctx = nullptr;
        {
            SpinLockGuard lock(rx_lock);
            c = rx_ring[rx_tail];
            drop = discarding && rx_tail != discard_end;
            if (!drop) discarding = false;
            rx_tail = (rx_tail + 1) % kRxSize;
            if (rx_queued() <= kRxSize / 2) {
                if (rx_held) {
                    rx_held = false;
                    driver->rx_hold(driver->ctx, false);
                    unheld = true;
                }
                if (rx_source_waiting) {
                    rx_source_waiting = false;
                    resume = rx_resume;
                    resume_ctx = rx_resume_ctx;
                }
            }
        }
        if (unheld) {
            // Room again: take what the UART held (its interrupt delivers
            // the rest). Interrupts masked, as the receive interrupt runs it.
            IrqLock irq;
            rx_poll_from_isr();
        }
        // The source pushes what it kept (and waits again if the ring
        // fills); its own lock orders it against its interrupt handler.
        if (resume) resume(resume_ctx);
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
