// The `vcon` shell command over the port API (console_port.hpp). Its output
// is a contract the system tests rely on (docs/devices.md).
#include <rtos/clock.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>

#include "drivers/serial/console_port.hpp"
#include "shell/shell.hpp"

namespace rtos::serial {
namespace {

int list() {
    if (device_count() == 0) {
        printk("vcon: no virtio-console device\n");
        return 1;
    }
    printk("dev id  name                     host   guest  rx bytes    tx bytes\n");
    PortInfo p;
    for (unsigned i = 0; port_info(i, p); ++i) {
        if (!p.present) continue;
        printk("%-3u %-3u %-24s %-6s %-6s %-11llu %llu%s\n", p.device, p.id,
               p.name[0] ? p.name : (p.console ? "(console)" : "-"),
               p.host_open ? "open" : "closed", p.guest_open ? "open" : "closed",
               static_cast<unsigned long long>(p.rx_bytes),
               static_cast<unsigned long long>(p.tx_bytes), p.console ? " console" : "");
        if (p.cols || p.rows) printk("        size %ux%u\n", p.cols, p.rows);
    }
    return 0;
}

int write_line(const char* name, int argc, char** argv) {
    Port* port = open(name);
    if (!port) {
        printk("vcon: no port %s\n", name);
        return 1;
    }
    char line[256];
    std::size_t n = 0;
    for (int i = 0; i < argc; ++i) {
        for (const char* s = argv[i]; *s && n + 2 < sizeof(line); ++s) line[n++] = *s;
        if (i + 1 < argc && n + 2 < sizeof(line)) line[n++] = ' ';
    }
    line[n++] = '\n';
    // Up to 1 s for transmit buffers (the host may not read), waited in the
    // shell's slices so that Ctrl-C ends it.
    const Tick deadline = clock::ticks() + clock::ms_to_ticks(1000);
    std::size_t done = 0;
    long r = static_cast<long>(Status::timeout);
    while (done < n) {
        const Tick t = shell::wait_slice(deadline);
        if (t == 0) break;
        r = write(port, line + done, n - done, Timeout::ticks(t));
        if (r > 0) done += static_cast<std::size_t>(r);
        else if (r != static_cast<long>(Status::timeout)) break;
    }
    close(port);
    if (done < n && shell::interrupted()) {
        printk("vcon: %zu of %zu bytes to %s before the interrupt\n", done, n, name);
        return shell::kInterrupted;
    }
    if (done == 0) {
        printk("vcon: write to %s failed: %s\n", name, status_name(static_cast<Status>(r)));
        return 1;
    }
    printk("vcon: %zu bytes to %s\n", done, name);
    return 0;
}

int cmd_vcon(int argc, char** argv) {
    if (argc == 2 && !strcmp(argv[1], "list")) return list();
    if (argc >= 4 && !strcmp(argv[1], "write")) return write_line(argv[2], argc - 3, argv + 3);
    return shell::kUsage;
}

}  // namespace
}  // namespace rtos::serial

SHELL_COMMAND(vcon, "list | write <name|id> <text...>",
              "virtio-console ports: list them, or write a line to one", rtos::serial::cmd_vcon);
