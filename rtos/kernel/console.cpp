#include <rtos/console.hpp>
#include <rtos/config.hpp>
#include <rtos/critical.hpp>
#include <rtos/semaphore.hpp>

namespace rtos::console {
namespace {

const Driver* driver = nullptr;
Mirror mirror = nullptr;
void* mirror_ctx = nullptr;

// Received bytes wait here until a thread reads them. Room for several whole
// shell lines: a pasted line arrives in one burst, possibly before the
// reader runs. When it is full, a flow-controlled UART is held (rx_held:
// its receive interrupt masked, bytes left in its FIFO) until readers have
// emptied half of it; a source without flow control loses the byte.
// Lock: IrqLock (the receive interrupt and readers on this CPU).
constexpr unsigned kRxSize = 1024;
char rx_ring[kRxSize];
volatile unsigned rx_head = 0;  // written by the ISR
volatile unsigned rx_tail = 0;  // written by readers
Semaphore rx_ready(0, kRxSize);
volatile bool rx_held = false;

unsigned rx_queued() { return (rx_head + kRxSize - rx_tail) % kRxSize; }

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
    IrqLock lock;
    mirror = m;
    mirror_ctx = ctx;
}

void write(const char* s, std::size_t n) {
    if (!driver) return;
    IrqLock lock;  // keeps a caller's output contiguous
    for (std::size_t i = 0; i < n; ++i) {
        if (s[i] == '\n') driver->putc(driver->ctx, '\r');
        driver->putc(driver->ctx, s[i]);
    }
    if (mirror) mirror(mirror_ctx, s, n);
}

void puts(const char* s) {
    std::size_t n = 0;
    while (s[n]) ++n;
    write(s, n);
}

void rx_poll_from_isr() {
    if (!driver || !driver->rx_hold) return;
    while (!rx_held) {
        if (rx_queued() == kRxSize - 1) {  // full: the rest stays in the UART
            rx_held = true;
            driver->rx_hold(driver->ctx, true);
            return;
        }
        int c = driver->getc(driver->ctx);
        if (c < 0) return;
        rx_from_isr(static_cast<char>(c));
    }
}

void rx_from_isr(char c) {
    if (c == kCtrlC && interrupt_armed) {
        interrupt_at(rx_head);
        return;
    }
    unsigned next = (rx_head + 1) % kRxSize;
    if (next == rx_tail) return;  // full: drop, the reader is too slow
    rx_ring[rx_head] = c;
    rx_head = next;
    rx_ready.give_from_isr();
}

int getc(Timeout timeout) {
    for (;;) {
        if (rx_ready.take(timeout) != Status::ok) return -1;
        IrqLock lock;
        char c = rx_ring[rx_tail];
        bool drop = discarding && rx_tail != discard_end;
        if (!drop) discarding = false;
        rx_tail = (rx_tail + 1) % kRxSize;
        if (rx_held && rx_queued() <= kRxSize / 2) {
            // Room again: take what the UART held, then let its interrupt
            // deliver the rest. (A reader woken by this runs at the next
            // reschedule; the count is what matters here.)
            rx_held = false;
            driver->rx_hold(driver->ctx, false);
            rx_poll_from_isr();
        }
        if (!drop) return static_cast<unsigned char>(c);
    }
}

void arm_interrupt() {
    IrqLock lock;
    interrupt_flag = false;
    interrupt_armed = true;
    // A Ctrl-C typed ahead, still queued: the last one interrupts at once.
    for (unsigned i = rx_tail; i != rx_head; i = (i + 1) % kRxSize)
        if (rx_ring[i] == kCtrlC) interrupt_at((i + 1) % kRxSize);
}

bool disarm_interrupt() {
    IrqLock lock;
    interrupt_armed = false;
    bool was = interrupt_flag;
    interrupt_flag = false;
    return was;
}

bool interrupt_requested() { return interrupt_flag; }

}  // namespace rtos::console
