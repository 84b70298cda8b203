#include <rtos/console.hpp>
#include <rtos/format.hpp>
#include <rtos/printk.hpp>

#include "console_internal.hpp"

namespace {

// Collects up to a buffer of output between writes to the console; the whole
// call holds the console's output lock, so what one printk writes never
// interleaves with another's, from another thread or another CPU.
struct LineBuffer {
    char data[160];
    std::size_t used = 0;
};

void flush(LineBuffer* b) {
    rtos::console::write_locked(b->data, b->used);
    b->used = 0;
}

void sink(void* ctx, const char* s, std::size_t n) {
    auto* b = static_cast<LineBuffer*>(ctx);
    for (std::size_t i = 0; i < n; ++i) {
        b->data[b->used++] = s[i];
        if (b->used == sizeof(b->data)) flush(b);
    }
}

}  // namespace

extern "C" int vprintk(const char* fmt, va_list ap) {
    rtos::console::OutputLock lock;
    LineBuffer b;
    int n = rtos::vformat(sink, &b, fmt, ap);
    flush(&b);
    return n;
}

extern "C" int printk(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk(fmt, ap);
    va_end(ap);
    return n;
}
