// The system commands every build has: help, version, ps, free, uptime,
// reboot, poweroff, echo, paste, hang.
#include <rtos/clock.hpp>
#include <rtos/console.hpp>
#include <rtos/crc32.hpp>
#include <rtos/critical.hpp>
#include <rtos/format.hpp>
#include <rtos/heap.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>
#include <rtos/string.hpp>
#include <rtos/system.hpp>
#include <rtos/thread.hpp>
#include <rtos/watchdog.hpp>

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
    printk("%-12s %-9s %4s %4s %3s %15s %7s\n", "NAME", "STATE", "PRI", "BASE", "CPU",
           "STACK used/size", "CPU%");
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
        printk("%-12s %-9s %4u %4u %3u %15s %3u.%u\n", r.name, thread_state_name(r.state),
               r.priority, r.base_priority, r.cpu, stack, static_cast<unsigned>(permille / 10),
               static_cast<unsigned>(permille % 10));
    }
    if (snap.total > n) printk("(%zu more threads not shown)\n", snap.total - n);
    return 0;
}

// Per CPU: where it is (hardware id), how busy (time outside its idle
// thread since boot), context switches, interrupts and inter-processor
// interrupts taken ("-": not counted, one CPU alone), and the thread it
// runs now.
int cmd_cpus(int argc, char**) {
    if (argc != 1) return kUsage;
    printk("%-4s %-8s %6s %10s %10s %10s  %s\n", "CPU", "HWID", "LOAD%", "SWITCHES", "IRQS", "IPIS",
           "THREAD");
    const uint64_t now = clock::now_ns() * system::counter_frequency() / 1000000000ull;
    for (unsigned c = 0; c < kMaxCpus; ++c) {
        smp::CpuStats s;
        if (!smp::stats(c, s) || !s.online) continue;
        uint64_t permille = now ? s.busy * 1000 / now : 0;
        if (permille > 1000) permille = 1000;
        char counts[3][24];
        const uint64_t values[3] = {s.switches, s.interrupts, s.ipis};
        for (unsigned i = 0; i < 3; ++i) {
            if (values[i] == ~uint64_t{0}) snprintf(counts[i], sizeof(counts[i]), "-");
            else
                snprintf(counts[i], sizeof(counts[i]), "%llu",
                         static_cast<unsigned long long>(values[i]));
        }
        printk("%-4u %-8llx %4u.%u %10s %10s %10s  %s\n", c,
               static_cast<unsigned long long>(s.hw_id), static_cast<unsigned>(permille / 10),
               static_cast<unsigned>(permille % 10), counts[0], counts[1], counts[2], s.thread);
    }
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

// The tick count and the counter window within which it was current. The
// count only moves when the tick interrupt announces it, and a busy host can
// deliver that late: a count read next to the counter may be a host
// scheduling slice stale. So this waits for the count to change (the
// interrupt has just caught up with the counter) and brackets the change
// with counter readings, retrying when QEMU was descheduled inside the
// bracket. tests/system/test_ktest.py compares two such samples.
struct TickSample {
    Tick ticks = 0;
    uint64_t from_ns = 0, to_ns = ~uint64_t{0};  // unbounded: no change seen
};

TickSample sample_ticks() {
    const uint64_t period_ns = 1000000000ull / clock::tick_hz();
    TickSample best;
    for (int attempt = 0; attempt < 8; ++attempt) {
        uint64_t from = clock::now_ns();  // before `before`: no change can precede it unseen
        Tick before = clock::ticks();
        const uint64_t give_up = from + 2 * period_ns + 100000000ull;
        for (;;) {
            uint64_t at = clock::now_ns();
            Tick t = clock::ticks();
            if (t != before) {
                uint64_t to = clock::now_ns();
                if (to - from < best.to_ns - best.from_ns) best = {t, from, to};
                break;
            }
            if (at > give_up) break;
            from = at;  // unchanged as of `at`: the change is later
        }
        if (best.to_ns - best.from_ns <= period_ns / 4) break;
    }
    return best;
}

int cmd_uptime(int argc, char**) {
    if (argc != 1) return kUsage;
    TickSample s = sample_ticks();
    auto ull = [](uint64_t v) { return static_cast<unsigned long long>(v); };
    if (s.to_ns == ~uint64_t{0}) {  // the tick never moved: say so rather than guess
        uint64_t ms = clock::now_ns() / 1000000;
        printk("up %llu.%03llu s, %llu ticks at %u Hz (tick not seen)\n", ull(ms / 1000),
               ull(ms % 1000), ull(clock::ticks()), clock::tick_hz());
        return 0;
    }
    uint64_t ms = s.to_ns / 1000000, from_us = s.from_ns / 1000, to_us = (s.to_ns + 999) / 1000;
    printk("up %llu.%03llu s, %llu ticks at %u Hz (counted at %llu.%06llu-%llu.%06llu s)\n",
           ull(ms / 1000), ull(ms % 1000), ull(s.ticks), clock::tick_hz(), ull(from_us / 1000000),
           ull(from_us % 1000000), ull(to_us / 1000000), ull(to_us % 1000000));
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

// Reads console input up to Ctrl-D and prints its length and CRC-32: a
// paste through the UART checked against the host's zlib.crc32
// (tests/system/test_reliability.py pastes 64 KiB). A first pause of `ms`
// makes it a slow reader, so that the paste fills the input ring.
int cmd_paste(int argc, char** argv) {
    unsigned long long pause_ms = 0;
    if (argc > 2 || (argc == 2 && (!parse_u64(argv[1], pause_ms) || pause_ms > 60000)))
        return kUsage;
    if (!sleep_until(clock::ticks() + pause_ms * clock::tick_hz() / 1000)) return kInterrupted;
    constexpr int kCtrlD = 0x04;
    uint32_t crc = 0;
    unsigned long long n = 0;
    for (;;) {
        if (interrupted()) return kInterrupted;
        int c = console::getc(Timeout::ticks(wait_slice(clock::ticks() + 50) + 1));
        if (c == kCtrlD) break;
        if (c < 0) continue;
        const char byte = static_cast<char>(c);
        crc = crc32(crc, &byte, 1);
        ++n;
    }
    printk("paste: %llu bytes crc32=%08x\n", n, crc);
    return 0;
}

// Hangs on purpose, to see a watchdog fire. Plain: interrupts masked and
// spinning forever (nothing is fed, nothing is scheduled: the hardware
// watchdog fires). `thread`: the shell thread registers with the software
// watchdog, checks in once and spins with interrupts on (the watchdog
// names it).
int cmd_hang(int argc, char** argv) {
    if (argc > 2 || (argc == 2 && strcmp(argv[1], "thread") != 0)) return kUsage;
    if (argc == 2) {
        static WatchdogClient client;
        if (client.start(200) != Status::ok) {
            printk("hang: no software watchdog (CONFIG_RTOS_WATCHDOG)\n");
            return 1;
        }
        printk("hang: thread '%s' stops checking in (period 200 ms), spinning\n",
               Thread::current()->name());
        for (;;) {
        }
    }
    printk("hang: interrupts masked, spinning forever\n");
    // This CPU only, on purpose (an IrqLock, not a spinlock): it is the one
    // that must stop; nothing is shared with the other CPUs.
    IrqLock lock;
    for (;;) {
    }
}

}  // namespace

SHELL_COMMAND(help, "", "list commands", cmd_help);
SHELL_COMMAND(version, "", "print the version", cmd_version);
SHELL_COMMAND(ps, "", "list threads: state, priority, CPU, stack use, CPU share", cmd_ps);
SHELL_COMMAND(cpus, "", "list CPUs: load, context switches, interrupts, IPIs", cmd_cpus);
SHELL_COMMAND(free, "", "heap statistics", cmd_free);
SHELL_COMMAND(uptime, "", "time since boot", cmd_uptime);
SHELL_COMMAND(reboot, "", "reset the machine", cmd_reboot);
SHELL_COMMAND(poweroff, "", "power off (QEMU exits with status 0)", cmd_poweroff);
SHELL_COMMAND(echo, "[words...]", "print the arguments", cmd_echo);
SHELL_COMMAND(paste, "[pause-ms]", "read console input up to Ctrl-D; print its length and CRC-32",
              cmd_paste);
SHELL_COMMAND(hang, "[thread]",
              "spin forever, interrupts masked or a watched thread (to test a watchdog)", cmd_hang);

}  // namespace rtos::shell
