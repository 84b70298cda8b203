// O(1) highest-priority lookup: one bit per priority level. Up to 64 levels
// (the default 32, and 8) fit one word: one count-trailing-zeros per lookup
// (a single instruction with Zbb on riscv64, rbit+clz on aarch64). More
// levels use two levels of 64-bit words, up to 4096.
// Priority 0 is the highest, so the answer is the lowest set bit.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtos::kernel {

template <unsigned Levels, bool OneWord = (Levels <= 64)>
class ReadyBitmap {
    static_assert(Levels >= 1 && Levels <= 4096, "1..4096 priority levels");
    static constexpr unsigned kWords = (Levels + 63) / 64;

public:
    static constexpr unsigned kNone = Levels;

    void set(unsigned prio) {
        words_[prio / 64] |= bit(prio % 64);
        summary_ |= bit(prio / 64);
    }

    void clear(unsigned prio) {
        words_[prio / 64] &= ~bit(prio % 64);
        if (words_[prio / 64] == 0) summary_ &= ~bit(prio / 64);
    }

    bool test(unsigned prio) const { return words_[prio / 64] & bit(prio % 64); }

    /// Highest priority (lowest number) with its bit set, or kNone.
    unsigned highest() const {
        if (summary_ == 0) return kNone;
        unsigned w = static_cast<unsigned>(__builtin_ctzll(summary_));
        return w * 64 + static_cast<unsigned>(__builtin_ctzll(words_[w]));
    }

    /// The next priority below `prio` (higher number) with its bit set, or kNone.
    unsigned next(unsigned prio) const {
        unsigned w = prio / 64, b = prio % 64;
        uint64_t rest = b == 63 ? 0 : words_[w] & (~uint64_t{0} << (b + 1));
        if (rest) return w * 64 + static_cast<unsigned>(__builtin_ctzll(rest));
        uint64_t more = w == 63 ? 0 : summary_ & (~uint64_t{0} << (w + 1));
        if (!more) return kNone;
        unsigned nw = static_cast<unsigned>(__builtin_ctzll(more));
        return nw * 64 + static_cast<unsigned>(__builtin_ctzll(words_[nw]));
    }

private:
    static constexpr uint64_t bit(unsigned n) { return uint64_t{1} << n; }
    uint64_t words_[kWords] = {};
    uint64_t summary_ = 0;
};

/// The single-word form.
template <unsigned Levels>
class ReadyBitmap<Levels, true> {
public:
    static constexpr unsigned kNone = Levels;

    void set(unsigned prio) { word_ |= bit(prio); }
    void clear(unsigned prio) { word_ &= ~bit(prio); }
    bool test(unsigned prio) const { return word_ & bit(prio); }

    /// Highest priority (lowest number) with its bit set, or kNone.
    unsigned highest() const {
        return word_ ? static_cast<unsigned>(__builtin_ctzll(word_)) : kNone;
    }

    /// The next priority below `prio` (higher number) with its bit set, or kNone.
    unsigned next(unsigned prio) const {
        uint64_t rest = prio >= 63 ? 0 : word_ & (~uint64_t{0} << (prio + 1));
        return rest ? static_cast<unsigned>(__builtin_ctzll(rest)) : kNone;
    }

private:
    static constexpr uint64_t bit(unsigned n) { return uint64_t{1} << n; }
    uint64_t word_ = 0;
};

}  // namespace rtos::kernel
