// The tick arithmetic both ports share: ticks are derived from the
// free-running counter, so a timer interrupt that comes late (QEMU
// descheduled, interrupts masked for a while, tickless idle) announces every
// tick period that elapsed instead of losing them. The port owns the
// compare register; this only says what to program and how many ticks passed.
#pragma once

#include <cstdint>

namespace rtos::arch {

class TickTimer {
public:
    /// Starts at counter value `now`; returns the first compare value.
    uint64_t start(uint64_t now, uint64_t period) {
        period_ = period;
        epoch_ = last_ = now;
        return last_ + period_;
    }

    /// Starts at counter value `now` with its boundaries on those of a
    /// timer started at `epoch` with the same period (the other CPUs' ticks
    /// fall on the boot CPU's); returns the first compare value.
    uint64_t start_aligned(uint64_t epoch, uint64_t now, uint64_t period) {
        period_ = period;
        last_ = now >= epoch ? epoch + (now - epoch) / period * period : epoch - period;
        return last_ + period_;
    }

    /// Goes on from `count` periods after the counter value start() was
    /// given (a tick counted elsewhere meanwhile).
    void resume_at(uint64_t count) { last_ = epoch_ + count * period_; }

    /// Whole tick periods elapsed by `now` since the last announced tick
    /// boundary; moves that boundary forward (0 for an early interrupt).
    uint64_t advance(uint64_t now) {
        uint64_t d = now - last_;
        if (d < period_) return 0;
        uint64_t n = d < 2 * period_ ? 1 : d / period_;
        last_ += n * period_;
        return n;
    }

    /// Compare value of the next tick boundary.
    uint64_t next() const { return last_ + period_; }
    /// Compare value `ticks` boundaries ahead (saturates instead of wrapping).
    uint64_t after(uint64_t ticks) const {
        uint64_t max = (~uint64_t{0} - last_) / period_;
        return ticks >= max ? ~uint64_t{0} : last_ + ticks * period_;
    }

    uint64_t period() const { return period_; }

private:
    uint64_t period_ = 0;
    uint64_t last_ = 0;
    uint64_t epoch_ = 0;
};

}  // namespace rtos::arch
