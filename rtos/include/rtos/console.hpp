// The system console: output is polled (works before interrupts and in a
// panic); input is buffered from the UART's receive interrupt and from one
// pushed source (virtio-console port 0), with flow control: while the input
// ring is full the UART keeps its bytes in its FIFO and the source in its
// own buffers (and either, full, holds the sender back) instead of losing
// them.
#pragma once

#include <cstddef>

#include "types.hpp"

namespace rtos::console {

/// What a UART driver provides to be the console.
struct Driver {
    void (*putc)(void* ctx, char c);
    /// Returns -1 when no character is waiting (polling fallback).
    int (*getc)(void* ctx);
    void* ctx;
    /// Receive flow control: hold=true masks the UART's receive interrupt
    /// (the input ring is full: bytes stay in the FIFO), false unmasks it.
    /// Called with interrupts masked. nullptr: polled input only.
    void (*rx_hold)(void* ctx, bool hold);
};

void set_driver(const Driver* driver);

/// A second output that receives everything written to the console (the
/// text as given, '\n' not expanded), after the driver, with interrupts
/// masked: it must not block. nullptr removes it. Used to mirror the
/// console on another device (virtio-console port 0).
using Mirror = void (*)(void* ctx, const char* s, std::size_t n);
void set_mirror(Mirror mirror, void* ctx);

void write(const char* s, std::size_t n);
void puts(const char* s);

/// Next received character, or -1 on timeout.
int getc(Timeout timeout = Timeout::forever());

/// Called by a flow-controlled UART's receive interrupt (a driver with
/// rx_hold): takes bytes with the driver's getc() while the input ring has
/// room; when it fills, holds the UART (rx_hold(true)) until readers have
/// emptied half of it, then takes the rest itself (rx_hold(false)).
void rx_poll_from_isr();

/// The pushed input source (virtio-console port 0 as the shell; one at a
/// time, the last set wins): `resume(ctx)` is called once readers have
/// emptied half of a ring that rx_push_from_isr() found full, from the
/// reader's getc() with no console lock held, so that the source pushes
/// what it kept. It may take the source's own lock and push again.
void set_rx_source(void (*resume)(void* ctx), void* ctx);

/// Queues up to n received bytes of the pushed source, in order, and
/// returns how many were taken (a Ctrl-C taken as the interrupt counts).
/// Fewer than n: the ring is full; the source keeps the rest (and holds
/// its sender back) until resume. Any context, interrupts masked.
std::size_t rx_push_from_isr(const char* s, std::size_t n);

/// Ctrl-C for a foreground command (the shell arms it around each command).
/// While armed, a received Ctrl-C (0x03) is not queued as input: it raises
/// the interrupt flag and discards the input received before it, as a
/// terminal's ^C does, so neither the ^C nor lines typed ahead of it reach
/// the next prompt. Arming also takes a Ctrl-C already typed ahead (after
/// the command's Enter) as the interrupt.
void arm_interrupt();
/// Stops treating Ctrl-C as an interrupt; returns whether one came.
bool disarm_interrupt();
/// True once Ctrl-C arrived while armed (callable from any thread or ISR).
bool interrupt_requested();

}  // namespace rtos::console
