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

}  // namespace rtos::console
