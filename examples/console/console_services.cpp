// Two services on named virtio-console ports (docs/examples.md):
//   org.rtos.echo   every byte received is sent back unchanged;
//   org.rtos.upper  every line received is sent back upper-cased.
// Each thread opens its port by name (waiting for it to appear), then loops
// read -> transform -> write. Reads block; when the host side is closed the
// replies are dropped by the driver (write returns busy) and the service
// waits for the next bytes, which arrive once the host reconnects.
#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/init.hpp>
#include <rtos/printk.hpp>
#include <rtos/thread.hpp>

#include "drivers/serial/console_port.hpp"

namespace {

constexpr std::size_t kStack = 4096;

// Writes all n bytes unless the port fails; false when it did.
bool send(rtos::serial::Port* port, const char* data, std::size_t n) {
    while (n > 0) {
        const long w = rtos::serial::write(port, data, n);
        if (w <= 0) return false;
        data += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

rtos::serial::Port* open_port(const char* name) {
    rtos::serial::Port* port = rtos::serial::open(name, rtos::Timeout::forever());
    rtos::printk("console demo: %s open\n", name);
    return port;
}

void echo_main(void* arg) {
    rtos::serial::Port* port = open_port(static_cast<const char*>(arg));
    char buf[1024];
    for (;;) {
        const long n = rtos::serial::read(port, buf, sizeof(buf));
        if (n > 0) send(port, buf, static_cast<std::size_t>(n));
        else rtos::Thread::sleep(rtos::clock::ms_to_ticks(10));  // port removed or device failed
    }
}

void upper_main(void* arg) {
    rtos::serial::Port* port = open_port(static_cast<const char*>(arg));
    char in[256];
    char line[256];
    std::size_t len = 0;
    for (;;) {
        const long n = rtos::serial::read(port, in, sizeof(in));
        if (n <= 0) {
            rtos::Thread::sleep(rtos::clock::ms_to_ticks(10));
            continue;
        }
        for (long i = 0; i < n; ++i) {
            char c = in[i];
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
            line[len++] = c;
            // A line ends at '\n'; an overlong one goes out in pieces.
            if (c == '\n' || len == sizeof(line)) {
                send(port, line, len);
                len = 0;
            }
        }
    }
}

void console_services_start() {
    if (rtos::serial::device_count() == 0) {
        rtos::printk("console demo: no virtio-console device, services not started\n");
        return;
    }
    const rtos::Thread::Params echo{.name = "svc-echo",
                                    .priority = CONFIG_EXAMPLE_CONSOLE_PRIORITY};
    const rtos::Thread::Params upper{.name = "svc-upper",
                                     .priority = CONFIG_EXAMPLE_CONSOLE_PRIORITY};
    if (!rtos::Thread::create(echo, echo_main, const_cast<char*>("org.rtos.echo"), kStack, true) ||
        !rtos::Thread::create(upper, upper_main, const_cast<char*>("org.rtos.upper"), kStack, true))
        rtos::printk("console demo: cannot start the services\n");
}

}  // namespace

RTOS_INIT(console_services_start, app);
