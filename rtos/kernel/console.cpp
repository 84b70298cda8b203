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
// reader runs, and a byte that finds the ring full is dropped (the UART
// drivers do not hold bytes back in their FIFOs).
constexpr unsigned kRxSize = 1024;
char rx_ring[kRxSize];
volatile unsigned rx_head = 0;  // written by the ISR
volatile unsigned rx_tail = 0;  // written by readers
Semaphore rx_ready(0, kRxSize);

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
