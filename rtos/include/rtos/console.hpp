// The system console: output is polled (works before interrupts and in a
// panic); input is buffered from the UART's receive interrupt, with flow
// control: while the input ring is full the UART keeps its bytes in its FIFO
// (and its FIFO, full, holds the sender back) instead of losing them.
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
    /// Called with interrupts masked. nullptr: the driver pushes bytes
    /// with rx_from_isr() and a full ring drops them.
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

/// Queues one received byte (a source without flow control: virtio-console
/// port 0); dropped when the input ring is full.
void rx_from_isr(char c);

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
