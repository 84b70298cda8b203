// printk captured for the host tests (see hal_host.hpp); the DMA arena is
// in dma_arena.cpp.
#include "hal_host.hpp"

#include <cstdarg>
#include <cstdio>
#include <string>

namespace {

struct Log {
    std::string text;
    bool echo = false;
};

Log& captured() {
    static Log l;
    return l;
}

}  // namespace

extern "C" int vprintk(const char* fmt, va_list ap) {
    char buf[512];
    const int n = std::vsnprintf(buf, sizeof(buf), fmt, ap);
    captured().text += buf;
    if (captured().echo) std::fputs(buf, stderr);
    return n;
}

extern "C" int printk(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    const int n = vprintk(fmt, ap);
    va_end(ap);
    return n;
}

namespace host_hal {

void reset() {
    captured().text.clear();
    fail_allocations_after(-1);
}

const std::string& log() { return captured().text; }

bool log_contains(const std::string& text) {
    return captured().text.find(text) != std::string::npos;
}

void set_echo(bool on) { captured().echo = on; }

}  // namespace host_hal
