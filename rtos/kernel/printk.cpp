#include <rtos/console.hpp>
#include <rtos/format.hpp>
#include <rtos/printk.hpp>

namespace {

// Collects a line (or up to a buffer) so concurrent printk calls don't interleave
// mid-line; flushed through the console in one locked write.
struct LineBuffer {
    char data[160];
    std::size_t used = 0;
};

void flush(LineBuffer* b) {
    rtos::console::write(b->data, b->used);
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
