// The `vcon` shell command over the port API (console_port.hpp). Its output
// is a contract the system tests rely on (docs/devices.md).
#include <rtos/clock.hpp>
#include <rtos/format.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

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

// vcon stress: line j of thread t is "t<t> <j> " and 40 letters from a
// xorshift seeded with t and j, then '\n' (tests/system/test_smp_io.py
// computes the same). One write() per line: a port's writes do not
// interleave, so each thread's lines reach the host whole and in order.
constexpr unsigned kStressThreads = 16;
constexpr std::size_t kStressLetters = 40;

struct StressJob {
    Port* port;
    unsigned index, lines;
    volatile CpuMask cpus;
    volatile unsigned errors;
    volatile unsigned long long bytes;
    volatile long failure;  // what the failed write returned
    volatile unsigned failed_line;
};

std::size_t stress_line(char* line, std::size_t cap, unsigned t, unsigned j) {
    int n = snprintf(line, cap, "t%u %u ", t, j);
    std::size_t at = n > 0 ? static_cast<std::size_t>(n) : 0;
    uint32_t x = t * 1000003u + j + 1;
    for (std::size_t i = 0; i < kStressLetters && at + 1 < cap; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        line[at++] = static_cast<char>('a' + x % 26);
    }
    line[at++] = '\n';
    return at;
}

void stress_thread(void* arg) {
    auto* j = static_cast<StressJob*>(arg);
    char line[64];
    for (unsigned i = 0; i < j->lines && !shell::interrupted(); ++i) {
        const std::size_t n = stress_line(line, sizeof(line), j->index, i);
        j->cpus = j->cpus | cpu_mask(smp::cpu_id());
        // 30 s for the host to read (a loaded host with 4 vCPUs on 2 cores is
        // slow): a line cut short would mix with another's.
        const long r = write(j->port, line, n, Timeout::ticks(clock::ms_to_ticks(30000)));
        if (r != static_cast<long>(n)) {
            j->failure = r;
            j->failed_line = i;
            j->errors = j->errors + 1;
            break;
        }
        j->bytes = j->bytes + n;
    }
}

int stress(const char* name, char** argv) {
    unsigned long long threads, lines;
    if (!shell::parse_u64(argv[0], threads) || !shell::parse_u64(argv[1], lines) || threads == 0 ||
        threads > kStressThreads || lines == 0 || lines > 1000000)
        return shell::kUsage;
    Port* port = open(name);
    if (!port) {
        printk("vcon: no port %s\n", name);
        return 1;
    }
    StressJob jobs[kStressThreads];
    Thread* workers[kStressThreads];
    for (unsigned i = 0; i < threads; ++i)
        jobs[i] = {port, i, static_cast<unsigned>(lines), 0, 0, 0, 0, 0};
    const unsigned started = create_pinned("vcon-stress", stress_thread, jobs,
                                           static_cast<unsigned>(threads), 4096, workers);
    unsigned errors = started == threads ? 0 : 1;
    unsigned long long bytes = 0;
    CpuMask cpus = 0;
    for (unsigned i = 0; i < started; ++i) {
        workers[i]->join();
        errors += jobs[i].errors;
        bytes += jobs[i].bytes;
        cpus |= jobs[i].cpus;
        if (jobs[i].errors)
            printk("vcon stress: thread %u line %u: %s\n", i, jobs[i].failed_line,
                   jobs[i].failure < 0 ? status_name(static_cast<Status>(jobs[i].failure))
                                       : "cut short");
    }
    close(port);
    printk("vcon stress: %s%u threads x %llu lines, %llu bytes to %s, %u errors, cpus 0x%x\n",
           shell::interrupted() ? "interrupted: " : "", started, lines, bytes, name, errors,
           static_cast<unsigned>(cpus));
    if (shell::interrupted()) return shell::kInterrupted;
    return errors ? 1 : 0;
}

int cmd_vcon(int argc, char** argv) {
    if (argc == 2 && !strcmp(argv[1], "list")) return list();
    if (argc >= 4 && !strcmp(argv[1], "write")) return write_line(argv[2], argc - 3, argv + 3);
    if (argc == 5 && !strcmp(argv[1], "stress")) return stress(argv[2], argv + 3);
    return shell::kUsage;
}

}  // namespace
}  // namespace rtos::serial

SHELL_COMMAND(vcon, "list | write <name|id> <text...> | stress <name|id> <threads> <lines>",
              "virtio-console ports: list them, write a line to one, or lines from threads over "
              "the CPUs",
              rtos::serial::cmd_vcon);
