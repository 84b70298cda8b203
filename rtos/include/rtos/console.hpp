// The system console: output is polled (works before interrupts and in a
// panic); input is buffered from the UART's receive interrupt.
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

/// Called by the UART driver's receive interrupt for each byte.
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
