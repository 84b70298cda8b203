// examples/net: UDP and TCP echo servers, a TCP sink and an HTTP status page
// on lwIP's netconn API, started at boot when the network stack runs.
#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/format.hpp>
#include <rtos/heap.hpp>
#include <rtos/init.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/smp.hpp>
#include <rtos/string.hpp>
#include <rtos/system.hpp>
#include <rtos/thread.hpp>

#include "net/net.hpp"
#if defined(CONFIG_SHELL)
#include "shell/shell.hpp"
#endif

extern "C" {
#include "lwip/api.h"
#include "lwip/netif.h"
}

namespace {

constexpr u16_t kEchoPort = CONFIG_EXAMPLE_NET_ECHO_PORT;
constexpr u16_t kSinkPort = CONFIG_EXAMPLE_NET_SINK_PORT;
constexpr u16_t kHttpPort = CONFIG_EXAMPLE_NET_HTTP_PORT;
constexpr unsigned kServerPriority = 12;
constexpr std::size_t kServerStack = 4096;

rtos::Semaphore tcp_slots{CONFIG_EXAMPLE_NET_TCP_CLIENTS};

netconn* listen_on(netconn_type type, u16_t port) {
    netconn* c = netconn_new(type);
    if (c == nullptr) return nullptr;
    if (netconn_bind(c, IP4_ADDR_ANY, port) != ERR_OK ||
        (type == NETCONN_TCP && netconn_listen(c) != ERR_OK)) {
        netconn_delete(c);
        return nullptr;
    }
    return c;
}

// Every datagram goes back to where it came from, unchanged.
void udp_echo(void*) {
    netconn* c = listen_on(NETCONN_UDP, kEchoPort);
    if (c == nullptr) {
        rtos::printk("net-demo: cannot bind udp port %u\n", kEchoPort);
        return;
    }
    for (;;) {
        netbuf* buf;
        if (netconn_recv(c, &buf) != ERR_OK) continue;
        netconn_sendto(c, buf, netbuf_fromaddr(buf), netbuf_fromport(buf));
        netbuf_delete(buf);
    }
}

// Pieces of a netbuf written back with one call: a coalesced segment
// arrives as one netbuf of up to 44 pbufs (components/net/gro.hpp).
constexpr u16_t kEchoVectors = 16;

void tcp_echo_client(void* arg) {
    auto* c = static_cast<netconn*>(arg);
    netbuf* buf;
    while (netconn_recv(c, &buf) == ERR_OK) {
        err_t e = ERR_OK;
        bool more = true;
        while (e == ERR_OK && more) {
            netvector v[kEchoVectors];
            u16_t n = 0;
            do {
                void* data;
                u16_t len;
                netbuf_data(buf, &data, &len);
                v[n++] = {data, len};
                more = netbuf_next(buf) >= 0;
            } while (more && n < kEchoVectors);
            e = netconn_write_vectors_partly(c, v, n, NETCONN_COPY, nullptr);
        }
        netbuf_delete(buf);
        if (e != ERR_OK) break;
    }
    netconn_close(c);
    netconn_delete(c);
    tcp_slots.give();
}

void tcp_echo(void*) {
    netconn* l = listen_on(NETCONN_TCP, kEchoPort);
    if (l == nullptr) {
        rtos::printk("net-demo: cannot listen on tcp port %u\n", kEchoPort);
        return;
    }
    // Each connection's thread is pinned to the next CPU in turn, so that
    // concurrent connections are served from different CPUs (this thread's
    // own state: no lock).
    unsigned next_cpu = 0;
    for (;;) {
        tcp_slots.take();
        netconn* c;
        if (netconn_accept(l, &c) != ERR_OK) {
            tcp_slots.give();
            continue;
        }
        const rtos::CpuMask cpu = rtos::cpu_mask(next_cpu++ % rtos::smp::cpu_count());
        if (rtos::Thread::create(
                {.name = "tcp-echo-c", .priority = kServerPriority, .affinity = cpu},
                tcp_echo_client, c, kServerStack, true) == nullptr) {
            netconn_delete(c);
            tcp_slots.give();
        }
    }
}

// Drops what arrives; at the client's end of stream answers with the byte
// count, so the host knows every byte got through before it stops the clock.
void tcp_sink(void*) {
    netconn* l = listen_on(NETCONN_TCP, kSinkPort);
    if (l == nullptr) {
        rtos::printk("net-demo: cannot listen on tcp port %u\n", kSinkPort);
        return;
    }
    for (;;) {
        netconn* c;
        if (netconn_accept(l, &c) != ERR_OK) continue;
        unsigned long long total = 0;
        netbuf* buf;
        err_t e;
        while ((e = netconn_recv(c, &buf)) == ERR_OK) {
            total += netbuf_len(buf);
            netbuf_delete(buf);
        }
        if (e == ERR_CLSD) {  // the client's FIN, not a reset
            char line[24];
            const int n = snprintf(line, sizeof(line), "%llu\n", total);
            netconn_write(c, line, static_cast<std::size_t>(n), NETCONN_COPY);
        }
        netconn_close(c);
        netconn_delete(c);
    }
}

// ---- HTTP status page ----

struct Page {
    char* buf;
    std::size_t size, len;
    void add(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf + len, size - len, fmt, ap);
        va_end(ap);
        if (n > 0) len = (len + static_cast<std::size_t>(n) < size) ? len + n : size - 1;
    }
};

void render(Page& p) {
    const std::uint64_t ms = rtos::clock::ticks_to_ms(rtos::clock::ticks());
    p.add("<!DOCTYPE html>\n<html><head><title>Tern status</title></head><body>\n");
    p.add("<h1>Tern %s (%s, %s)</h1>\n", RTOS_VERSION, RTOS_BSP, rtos::system::arch_name());
    p.add("<p>uptime: %llu.%03llu s</p>\n", static_cast<unsigned long long>(ms / 1000),
          static_cast<unsigned long long>(ms % 1000));
    // Threads: one consistent snapshot, formatted afterwards.
    constexpr unsigned kMaxRows = 32;
    rtos::system::ThreadInfo rows[kMaxRows];
    const rtos::system::Snapshot snap = rtos::system::threads(rows, kMaxRows);
    const unsigned n = static_cast<unsigned>(snap.stored),
                   total = static_cast<unsigned>(snap.total);
    p.add("<h2>threads: %u</h2>\n<table><tr><th>name</th><th>state</th><th>priority</th></tr>\n",
          total);
    for (unsigned i = 0; i < n; ++i)
        p.add("<tr><td>%s</td><td>%s</td><td>%u</td></tr>\n", rows[i].name,
              rtos::thread_state_name(rows[i].state), rows[i].priority);
    p.add("</table>\n");
    const rtos::heap::Stats h = rtos::heap::stats();
    p.add("<h2>memory</h2>\n<p>heap total %zu, used %zu, max used %zu, free %zu bytes</p>\n",
          h.total, h.used, h.max_used, h.total - h.used);
    p.add("<h2>network</h2>\n");
    for (std::size_t k = 0; k < rtos::net::interface_count(); ++k) {
        rtos::net::Interface& i = rtos::net::interface(k);
        const rtos::net::Counters c = i.dev->counters();
        char ip[16];
        ip4addr_ntoa_r(netif_ip4_addr(i.nif), ip, sizeof(ip));
        p.add(
            "<p>%s %s link %s: rx packets %llu bytes %llu dropped %llu errors %llu; "
            "tx packets %llu bytes %llu dropped %llu errors %llu</p>\n",
            i.dev->name(), ip, i.dev->link_up() ? "up" : "down",
            static_cast<unsigned long long>(c.rx_packets),
            static_cast<unsigned long long>(c.rx_bytes),
            static_cast<unsigned long long>(c.rx_dropped + i.stack_drops),
            static_cast<unsigned long long>(c.rx_errors),
            static_cast<unsigned long long>(c.tx_packets),
            static_cast<unsigned long long>(c.tx_bytes),
            static_cast<unsigned long long>(c.tx_dropped),
            static_cast<unsigned long long>(c.tx_errors));
    }
    p.add("</body></html>\n");
}

void http_serve(netconn* c) {
    // Read the request up to its blank line (any path gets the page).
    netconn_set_recvtimeout(c, 2000);
    char req[512];
    std::size_t have = 0;
    bool complete = false;
    netbuf* buf;
    while (!complete && netconn_recv(c, &buf) == ERR_OK) {
        do {
            void* data;
            u16_t len;
            netbuf_data(buf, &data, &len);
            for (u16_t k = 0; k < len && have < sizeof(req) - 1; ++k)
                req[have++] = static_cast<char*>(data)[k];
        } while (netbuf_next(buf) >= 0);
        netbuf_delete(buf);
        req[have] = '\0';
        for (std::size_t k = 0; k + 3 < have; ++k)
            if (!memcmp(req + k, "\r\n\r\n", 4)) complete = true;
        if (have == sizeof(req) - 1) complete = true;
    }
    if (complete) {
        constexpr std::size_t kPageMax = 8192;
        char* body = static_cast<char*>(rtos::heap::alloc(kPageMax));
        if (body != nullptr) {
            Page page{body, kPageMax, 0};
            body[0] = '\0';
            render(page);
            char head[160];
            int hl =
                snprintf(head, sizeof(head),
                         "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n"
                         "Connection: close\r\n\r\n",
                         page.len);
            if (!strncmp(req, "GET ", 4) || !strncmp(req, "HEAD ", 5)) {
                netconn_write(c, head, static_cast<std::size_t>(hl), NETCONN_COPY);
                if (req[0] == 'G') netconn_write(c, body, page.len, NETCONN_COPY);
            } else {
                static const char bad[] =
                    "HTTP/1.0 405 Method Not Allowed\r\nConnection: close\r\n\r\n";
                netconn_write(c, bad, sizeof(bad) - 1, NETCONN_COPY);
            }
            rtos::heap::free(body);
        }
    }
    netconn_close(c);
    netconn_delete(c);
}

void http(void*) {
    netconn* l = listen_on(NETCONN_TCP, kHttpPort);
    if (l == nullptr) {
        rtos::printk("net-demo: cannot listen on tcp port %u\n", kHttpPort);
        return;
    }
    for (;;) {
        netconn* c;
        if (netconn_accept(l, &c) == ERR_OK) http_serve(c);
    }
}

void net_demo_start() {
    if (rtos::net::interface_count() == 0) {
        rtos::printk("net-demo: no network interface, servers not started\n");
        return;
    }
    rtos::Thread::create({.name = "udp-echo", .priority = kServerPriority}, udp_echo, nullptr,
                         kServerStack, true);
    rtos::Thread::create({.name = "tcp-echo", .priority = kServerPriority}, tcp_echo, nullptr,
                         kServerStack, true);
    rtos::Thread::create({.name = "tcp-sink", .priority = kServerPriority}, tcp_sink, nullptr,
                         kServerStack, true);
    rtos::Thread::create({.name = "http", .priority = kServerPriority}, http, nullptr,
                         kServerStack + 4096, true);
    rtos::printk("net-demo: udp and tcp echo on port %u, tcp sink on port %u, http on port %u\n",
                 kEchoPort, kSinkPort, kHttpPort);
}

#if defined(CONFIG_SHELL)
// ---- echotest: a client for another guest's TCP echo server ----

constexpr std::size_t kChunk = 8192;

std::uint8_t pattern_byte(std::size_t i) {
    return static_cast<std::uint8_t>((i * 2654435761u) >> 13);
}

// lwIP's netconn wakes nothing on Ctrl-C, so echotest never blocks in it
// for long: the connect runs non-blocking, a chunk is written with
// NETCONN_DONTBLOCK (a write on a connection still connecting answers
// ERR_INPROGRESS), and both are retried once a tick; a receive waits in the
// shell's slices up to kEchoWaitMs for each part of the echo.
constexpr std::uint64_t kEchoWaitMs = 5000;

// Writes all n bytes; ERR_OK, lwIP's error, or ERR_OK short of n on Ctrl-C.
err_t write_all(netconn* c, const std::uint8_t* data, std::size_t n, std::size_t& written) {
    written = 0;
    while (written < n) {
        if (rtos::shell::interrupted()) return ERR_OK;
        std::size_t w = 0;
        const err_t e = netconn_write_partly(c, data + written, n - written,
                                             NETCONN_COPY | NETCONN_DONTBLOCK, &w);
        written += w;
        if (e == ERR_INPROGRESS || e == ERR_WOULDBLOCK) rtos::Thread::sleep(1);
        else if (e != ERR_OK) return e;
    }
    return ERR_OK;
}

// Receives the next part of the echo; ERR_TIMEOUT after kEchoWaitMs, also
// (with *buf null) when Ctrl-C ended the wait.
err_t receive(netconn* c, netbuf** buf) {
    const rtos::Tick deadline = rtos::clock::ticks() + rtos::clock::ms_to_ticks(kEchoWaitMs);
    while (rtos::Tick t = rtos::shell::wait_slice(deadline)) {
        const std::uint64_t ms = rtos::clock::ticks_to_ms(t);
        netconn_set_recvtimeout(c, static_cast<u32_t>(ms ? ms : 1));
        const err_t e = netconn_recv(c, buf);
        if (e != ERR_TIMEOUT) return e;
    }
    return ERR_TIMEOUT;
}

// Sends `total` bytes of a fixed pattern in chunks, reading each chunk's echo
// back before the next (both directions stay within the TCP windows).
int cmd_echotest(int argc, char** argv) {
    if (argc != 3) return rtos::shell::kUsage;
    ip4_addr_t address;
    unsigned long long total;
    if (!rtos::net::parse_quad(argv[1], address)) {
        rtos::printk("echotest: bad address '%s': four numbers 0-255 separated by dots\n", argv[1]);
        return 1;
    }
    if (!rtos::shell::parse_u64(argv[2], total) || total == 0) {
        rtos::printk("echotest: bad byte count '%s': a number from 1\n", argv[2]);
        return 1;
    }
    ip_addr_t server;
    ip_addr_copy_from_ip4(server, address);
    auto* chunk = static_cast<std::uint8_t*>(rtos::heap::alloc(kChunk));
    netconn* c = chunk ? netconn_new(NETCONN_TCP) : nullptr;
    if (c == nullptr) {
        rtos::heap::free(chunk);
        rtos::printk("echotest: out of memory\n");
        return 1;
    }
    const std::uint64_t t0 = rtos::clock::now_ns();
    netconn_set_nonblocking(c, 1);
    err_t e = netconn_connect(c, &server, kEchoPort);
    netconn_set_nonblocking(c, 0);  // the connect goes on; the writes say when it is done
    if (e == ERR_INPROGRESS) e = ERR_OK;
    std::size_t sent = 0, received = 0, mismatches = 0;
    while (e == ERR_OK && sent < total && !rtos::shell::interrupted()) {
        const std::size_t n = total - sent < kChunk ? total - sent : kChunk;
        for (std::size_t k = 0; k < n; ++k) chunk[k] = pattern_byte(sent + k);
        std::size_t written;
        e = write_all(c, chunk, n, written);
        sent += written;
        while (e == ERR_OK && received < sent) {
            netbuf* buf = nullptr;
            e = receive(c, &buf);
            if (e != ERR_OK) break;
            do {
                void* data;
                u16_t len;
                netbuf_data(buf, &data, &len);
                for (u16_t k = 0; k < len; ++k)
                    if (static_cast<std::uint8_t*>(data)[k] != pattern_byte(received + k))
                        ++mismatches;
                received += len;
            } while (netbuf_next(buf) >= 0);
            netbuf_delete(buf);
        }
    }
    const bool stopped = rtos::shell::interrupted();
    if (stopped && e == ERR_TIMEOUT) e = ERR_OK;  // the wait Ctrl-C cut short is no error
    netconn_delete(c);                            // closes it, also one still connecting
    rtos::heap::free(chunk);
    const std::uint64_t ms = (rtos::clock::now_ns() - t0) / 1000000;
    rtos::printk("echotest: %s%zu sent, %zu echoed, %zu mismatches, %llu ms%s%s\n",
                 stopped ? "interrupted: " : "", sent, received, mismatches,
                 static_cast<unsigned long long>(ms), e == ERR_OK ? "" : ", error ",
                 e == ERR_OK ? "" : lwip_strerr(e));
    if (stopped) return rtos::shell::kInterrupted;
    return (e == ERR_OK && received == total && mismatches == 0) ? 0 : 1;
}
#endif  // CONFIG_SHELL

}  // namespace

RTOS_INIT(net_demo_start, app);
#if defined(CONFIG_SHELL)
SHELL_COMMAND(echotest, "<ip> <bytes>", "send bytes to a TCP echo server, check the echo",
              cmd_echotest);
#endif
