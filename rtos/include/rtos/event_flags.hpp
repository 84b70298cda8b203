// Event flags: 32 bits a thread can wait on, for any or all of a mask,
// optionally clearing the bits it consumed.
#pragma once

#include <cstdint>

#include "types.hpp"
#include "wait_queue.hpp"

namespace rtos {

class EventFlags {
public:
    enum Mode : uint8_t {
        any = 0,           ///< wake when any bit of the mask is set
        all = 1,           ///< wake when every bit of the mask is set
        clear_on_exit = 2  ///< or-ed in: clear the matched bits on wake-up
    };

    constexpr explicit EventFlags(uint32_t initial = 0) : flags_(initial) {}
    ~EventFlags();
    EventFlags(const EventFlags&) = delete;
    EventFlags& operator=(const EventFlags&) = delete;

    /// Waits for the mask; `out` receives the flags that satisfied the wait
    /// (before clearing). ok, timeout or deleted.
    Status wait(uint32_t mask, unsigned mode, Timeout timeout = Timeout::forever(),
                uint32_t* out = nullptr);
    /// Sets bits and wakes every waiter whose condition now holds.
    void set(uint32_t bits);
    void set_from_isr(uint32_t bits);
    void clear(uint32_t bits);
    uint32_t get() const { return flags_; }
    void destroy();

private:
    void set_locked(uint32_t bits);
    volatile uint32_t flags_;
    WaitQueue waiters_;
};

}  // namespace rtos
