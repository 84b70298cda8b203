#include <rtos/format.hpp>

#include <cstdint>

namespace rtos {
namespace {

struct Spec {
    bool left = false;
    bool zero = false;
    bool alt = false;  // '#': 0x prefix for %x, 0 for %o
    int width = 0;
    int length = 0;  // 0: int, 1: long, 2: long long, 3: size_t
};

int emit_padded(FormatSink sink, void* ctx, const char* s, std::size_t n, const Spec& spec,
                bool numeric_negative = false) {
    int pad = spec.width > static_cast<int>(n) ? spec.width - static_cast<int>(n) : 0;
    int out = 0;
    if (!spec.left && !spec.zero) {
        for (; pad > 0; --pad, ++out) sink(ctx, " ", 1);
    }
    if (numeric_negative) {
        sink(ctx, "-", 1);
        ++out, ++s, --n;
    }
    if (!spec.left && spec.zero) {
        for (; pad > 0; --pad, ++out) sink(ctx, "0", 1);
    }
    sink(ctx, s, n);
    out += static_cast<int>(n);
    for (; pad > 0; --pad, ++out) sink(ctx, " ", 1);
    return out;
}

int emit_number(FormatSink sink, void* ctx, unsigned long long v, bool negative, unsigned base,
                bool upper, const Spec& spec) {
    char buf[28];
    char* p = buf + sizeof(buf);
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    const bool prefix = spec.alt && v != 0 && base != 10;
    do {
        *--p = digits[v % base];
        v /= base;
    } while (v);
    if (prefix && base == 8) *--p = '0';
    if (prefix && base == 16) {
        // Zero padding goes between the prefix and the digits, as in C.
        Spec rest = spec;
        rest.width = spec.width > 2 ? spec.width - 2 : 0;
        if (!spec.zero || spec.left) {
            *--p = upper ? 'X' : 'x';
            *--p = '0';
            return emit_padded(sink, ctx, p, static_cast<std::size_t>(buf + sizeof(buf) - p), spec);
        }
        sink(ctx, upper ? "0X" : "0x", 2);
        return 2 + emit_padded(sink, ctx, p, static_cast<std::size_t>(buf + sizeof(buf) - p), rest);
    }
    if (negative) *--p = '-';
    return emit_padded(sink, ctx, p, static_cast<std::size_t>(buf + sizeof(buf) - p), spec,
                       negative);
}

}  // namespace

int vformat(FormatSink sink, void* ctx, const char* fmt, va_list ap) {
    int out = 0;
    while (*fmt) {
        const char* start = fmt;
        while (*fmt && *fmt != '%') ++fmt;
        if (fmt != start) {
            sink(ctx, start, static_cast<std::size_t>(fmt - start));
            out += static_cast<int>(fmt - start);
        }
        if (!*fmt) break;
        ++fmt;  // '%'
        Spec spec;
        for (;; ++fmt) {
            if (*fmt == '-') spec.left = true;
            else if (*fmt == '0') spec.zero = true;
            else if (*fmt == '#') spec.alt = true;
            else break;
        }
        if (*fmt == '*') {
            spec.width = va_arg(ap, int);
            ++fmt;
        } else {
            while (*fmt >= '0' && *fmt <= '9') spec.width = spec.width * 10 + (*fmt++ - '0');
        }
        if (*fmt == 'l') {
            spec.length = 1, ++fmt;
            if (*fmt == 'l') spec.length = 2, ++fmt;
        } else if (*fmt == 'z') {
            spec.length = 3, ++fmt;
        }
        char c = *fmt ? *fmt++ : '\0';
        switch (c) {
        case 'd':
        case 'i': {
            long long v = spec.length == 0   ? va_arg(ap, int)
                          : spec.length == 1 ? va_arg(ap, long)
                          : spec.length == 2 ? va_arg(ap, long long)
                                             : static_cast<long long>(va_arg(ap, std::size_t));
            unsigned long long mag = v < 0 ? 0ull - static_cast<unsigned long long>(v)
                                           : static_cast<unsigned long long>(v);
            out += emit_number(sink, ctx, mag, v < 0, 10, false, spec);
            break;
        }
        case 'u':
        case 'x':
        case 'X':
        case 'o': {
            unsigned long long v = spec.length == 0   ? va_arg(ap, unsigned)
                                   : spec.length == 1 ? va_arg(ap, unsigned long)
                                   : spec.length == 2 ? va_arg(ap, unsigned long long)
                                                      : va_arg(ap, std::size_t);
            unsigned base = c == 'u' ? 10 : c == 'o' ? 8 : 16;
            out += emit_number(sink, ctx, v, false, base, c == 'X', spec);
            break;
        }
        case 'p': {
            sink(ctx, "0x", 2);
            out += 2;
            out += emit_number(sink, ctx, reinterpret_cast<uintptr_t>(va_arg(ap, void*)), false, 16,
                               false, spec);
            break;
        }
        case 'c': {
            char ch = static_cast<char>(va_arg(ap, int));
            out += emit_padded(sink, ctx, &ch, 1, spec);
            break;
        }
        case 's': {
            const char* s = va_arg(ap, const char*);
            if (!s) s = "(null)";
            std::size_t n = 0;
            while (s[n]) ++n;
            out += emit_padded(sink, ctx, s, n, spec);
            break;
        }
        case '%':
            sink(ctx, "%", 1);
            ++out;
            break;
        default:  // unknown conversion: show it verbatim
            sink(ctx, "%", 1);
            if (c) sink(ctx, &c, 1);
            out += c ? 2 : 1;
            break;
        }
    }
    return out;
}

bool parse_u64(const char* s, unsigned long long& out) {
    if (!s || !*s) return false;
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
        if (!*s) return false;
    }
    unsigned long long v = 0;
    for (; *s; ++s) {
        unsigned d;
        if (*s >= '0' && *s <= '9') d = static_cast<unsigned>(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f') d = static_cast<unsigned>(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F') d = static_cast<unsigned>(*s - 'A' + 10);
        else return false;
        if (v > (~0ull - d) / base) return false;
        v = v * base + d;
    }
    out = v;
    return true;
}

}  // namespace rtos

#if !defined(RTOS_HOST_TEST)  // the host has its own C library
namespace {
struct BufferSink {
    char* buf;
    std::size_t size;
    std::size_t used;
};

void buffer_sink(void* ctx, const char* s, std::size_t n) {
    auto* b = static_cast<BufferSink*>(ctx);
    for (std::size_t i = 0; i < n; ++i, ++b->used)
        if (b->used + 1 < b->size) b->buf[b->used] = s[i];
}
}  // namespace

extern "C" int vsnprintf(char* buf, std::size_t size, const char* fmt, va_list ap) {
    BufferSink sink{buf, size, 0};
    int n = rtos::vformat(buffer_sink, &sink, fmt, ap);
    if (size) buf[sink.used < size ? sink.used : size - 1] = '\0';
    return n;
}

extern "C" int snprintf(char* buf, std::size_t size, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
#endif
