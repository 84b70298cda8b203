// The system commands every build has: help, version, ps, free, uptime,
// reboot, poweroff, echo.
#include <rtos/clock.hpp>
#include <rtos/critical.hpp>
#include <rtos/format.hpp>
#include <rtos/heap.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>
#include <rtos/system.hpp>

#include "shell.hpp"

namespace rtos::shell {
namespace {

int cmd_help(int argc, char**) {
    if (argc != 1) return kUsage;
    // Alphabetical: the linker gathers the entries in link order.
    constexpr unsigned kMax = 128;
    const Command* sorted[kMax];
    unsigned n = 0;
    for (const Command* c = commands_begin(); c < commands_end() && n < kMax; ++c) {
        unsigned i = n++;
        for (; i > 0 && strcmp(sorted[i - 1]->name, c->name) > 0; --i) sorted[i] = sorted[i - 1];
        sorted[i] = c;
    }
    for (unsigned i = 0; i < n; ++i) {
        const Command* c = sorted[i];
        char left[160];
        int len = snprintf(left, sizeof(left), "%s%s%s", c->name, c->usage[0] ? " " : "", c->usage);
        if (len <= 28) printk("  %-28s %s\n", left, c->help);
        else printk("  %s\n  %-28s %s\n", left, "", c->help);
    }
    return 0;
}

int cmd_version(int argc, char**) {
    if (argc != 1) return kUsage;
    printk("Tern %s (%s, %s)\n", RTOS_VERSION, RTOS_BSP, system::arch_name());
    return 0;
}

int cmd_ps(int argc, char**) {
    if (argc != 1) return kUsage;
    printk("%-12s %-9s %4s %4s %15s %7s\n", "NAME", "STATE", "PRI", "BASE", "STACK used/size",
           "CPU%");
    // Snapshot under the lock, print outside it (printing is slow).
    constexpr unsigned kMaxRows = 64;
    static system::ThreadInfo rows[kMaxRows];
    const system::Snapshot snap = system::threads(rows, kMaxRows);
    const uint64_t now = snap.counter;
    const unsigned n = static_cast<unsigned>(snap.stored);
    for (unsigned i = 0; i < n; ++i) {
        const system::ThreadInfo& r = rows[i];
        char stack[24];
        snprintf(stack, sizeof(stack), "%zu/%zu", r.stack_used, r.stack_size);
        uint64_t permille = now ? r.cpu_time * 1000 / now : 0;
        printk("%-12s %-9s %4u %4u %15s %3u.%u\n", r.name, thread_state_name(r.state), r.priority,
               r.base_priority, stack, static_cast<unsigned>(permille / 10),
               static_cast<unsigned>(permille % 10));
    }
    if (snap.total > n) printk("(%zu more threads not shown)\n", snap.total - n);
    return 0;
}

int cmd_free(int argc, char**) {
    if (argc != 1) return kUsage;
    heap::Stats s = heap::stats();
    printk("%12s %12s %12s %12s %10s %12s\n", "total", "used", "max used", "free", "fragments",
           "largest");
    printk("%12zu %12zu %12zu %12zu %10zu %12zu\n", s.total, s.used, s.max_used, s.total - s.used,
           s.free_fragments, s.largest_free);
    return 0;
}

int cmd_uptime(int argc, char**) {
    if (argc != 1) return kUsage;
    uint64_t ms = clock::now_ns() / 1000000;
    printk("up %llu.%03llu s, %llu ticks at %u Hz\n", static_cast<unsigned long long>(ms / 1000),
           static_cast<unsigned long long>(ms % 1000),
           static_cast<unsigned long long>(clock::ticks()), clock::tick_hz());
    return 0;
}

int cmd_reboot(int argc, char**) {
    if (argc != 1) return kUsage;
    printk("rebooting\n");
    system::reboot();
}

int cmd_poweroff(int argc, char**) {
    if (argc != 1) return kUsage;
    printk("powering off\n");
    system::poweroff();
}

int cmd_echo(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) printk("%s%s", argv[i], i + 1 < argc ? " " : "");
    printk("\n");
    return 0;
}

}  // namespace

SHELL_COMMAND(help, "", "list commands", cmd_help);
SHELL_COMMAND(version, "", "print the version", cmd_version);
SHELL_COMMAND(ps, "", "list threads: state, priority, stack use, CPU share", cmd_ps);
SHELL_COMMAND(free, "", "heap statistics", cmd_free);
SHELL_COMMAND(uptime, "", "time since boot", cmd_uptime);
SHELL_COMMAND(reboot, "", "reset the machine", cmd_reboot);
SHELL_COMMAND(poweroff, "", "power off (QEMU exits with status 0)", cmd_poweroff);
SHELL_COMMAND(echo, "[words...]", "print the arguments", cmd_echo);

}  // namespace rtos::shell
