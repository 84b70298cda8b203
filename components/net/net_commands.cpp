// Shell commands of the network stack: ifconfig, ping, dhcp.
#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

#include "net/net.hpp"
#include "shell/shell.hpp"

extern "C" {
#include "lwip/dhcp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "lwip/tcpip.h"
}

namespace rtos::net {

// (lwIP's ip4addr_aton also takes BSD shorthand, where "1.2.3" is 1.2.0.3,
// and octal and hex parts: typos become addresses.)
bool parse_quad(const char* s, ip4_addr_t& out) {
    std::uint32_t v = 0;
    for (int part = 0; part < 4; ++part) {
        if (part && *s++ != '.') return false;
        if (*s < '0' || *s > '9') return false;
        const char* start = s;
        unsigned n = 0;
        for (; *s >= '0' && *s <= '9' && s - start < 4; ++s)
            n = n * 10 + static_cast<unsigned>(*s - '0');
        if (n > 255 || (s - start > 1 && *start == '0')) return false;
        v = v << 8 | n;
    }
    if (*s) return false;
    ip4_addr_set_u32(&out, lwip_htonl(v));
    return true;
}

namespace {

int no_stack() {
    printk("net: no network interface\n");
    return 1;
}

void print_ip(const char* label, const ip4_addr_t* a) {
    char s[16];
    ip4addr_ntoa_r(a, s, sizeof(s));
    printk(" %s %s", label, s);
}

bool quad_or_complain(const char* what, const char* s, ip4_addr_t& out) {
    if (parse_quad(s, out)) return true;
    printk("ifconfig: bad %s '%s': four numbers 0-255 separated by dots (a.b.c.d)\n", what, s);
    return false;
}

// ifconfig <ip> <netmask> [gateway]: a static address for the first
// interface (DHCP stops). Nothing changes unless all of it is right.
int set_static(int argc, char** argv) {
    ip4_addr_t ip, mask, gw = {};
    if (!quad_or_complain("address", argv[1], ip) || !quad_or_complain("netmask", argv[2], mask) ||
        (argc == 4 && !quad_or_complain("gateway", argv[3], gw)))
        return 1;
    const std::uint32_t host_zeros = ~lwip_ntohl(ip4_addr_get_u32(&mask));
    if (host_zeros & (host_zeros + 1)) {  // ones, then zeros: the zeros are 2^k - 1
        printk(
            "ifconfig: bad netmask '%s': its ones must come first, then its zeros (e.g. "
            "255.255.255.0)\n",
            argv[2]);
        return 1;
    }
    Interface& i = interface(0);
    LOCK_TCPIP_CORE();
#if LWIP_DHCP
    dhcp_release_and_stop(i.nif);
#endif
    netif_set_addr(i.nif, &ip, &mask, &gw);
    UNLOCK_TCPIP_CORE();
    return 0;
}

int cmd_ifconfig(int argc, char** argv) {
    if (argc != 1 && argc != 3 && argc != 4) return shell::kUsage;
    if (interface_count() == 0) return no_stack();
    if (argc > 1) return set_static(argc, argv);
    for (std::size_t k = 0; k < interface_count(); ++k) {
        Interface& i = interface(k);
        const std::uint8_t* m = i.dev->mac();
        const Counters c = i.dev->counters();
        printk("%s: mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u link %s\n", i.dev->name(), m[0], m[1],
               m[2], m[3], m[4], m[5], i.nif->mtu, i.dev->link_up() ? "up" : "down");
        LOCK_TCPIP_CORE();
        ip4_addr_t ip = *netif_ip4_addr(i.nif), mask = *netif_ip4_netmask(i.nif),
                   gw = *netif_ip4_gw(i.nif);
#if LWIP_DHCP
        const bool dhcp = dhcp_supplied_address(i.nif);
#else
        const bool dhcp = false;
#endif
        const TcpCounters tcp = i.tcp;
        const unsigned long stack_drops = i.stack_drops;
        UNLOCK_TCPIP_CORE();
        printk(" ");
        print_ip("inet", &ip);
        print_ip("netmask", &mask);
        print_ip("gateway", &gw);
        printk(" (%s)\n", dhcp ? "dhcp" : "static");
        printk("  rx packets %llu bytes %llu dropped %llu errors %llu\n",
               static_cast<unsigned long long>(c.rx_packets),
               static_cast<unsigned long long>(c.rx_bytes),
               static_cast<unsigned long long>(c.rx_dropped + stack_drops),
               static_cast<unsigned long long>(c.rx_errors));
        printk("  tx packets %llu bytes %llu dropped %llu errors %llu\n",
               static_cast<unsigned long long>(c.tx_packets),
               static_cast<unsigned long long>(c.tx_bytes),
               static_cast<unsigned long long>(c.tx_dropped),
               static_cast<unsigned long long>(c.tx_errors));
        printk("  tcp in segments %llu bytes %llu coalesced %llu bad %llu, acks out %llu\n",
               tcp.segments_in, tcp.bytes_in, tcp.coalesced, tcp.bad, tcp.acks_out);
    }
    return 0;
}

// ---- ping: ICMP echo over a raw pcb ----

constexpr u16_t kPingId = 0x7e4e;
constexpr std::size_t kPingData = 56;

// The shell's ping and ping_recv() (the receive thread, on any CPU):
// waiting_seq, got and reply_ns under lwIP's core lock (LOCK_TCPIP_CORE);
// reply_ns is read once `reply` was given.
struct PingState {
    BinarySemaphore reply;
    u16_t waiting_seq;
    std::uint64_t reply_ns;
    bool got;
};
PingState ping_state;

// tcpip thread: an echo reply with our id and the awaited sequence number.
u8_t ping_recv(void* arg, raw_pcb*, pbuf* p, const ip_addr_t*) {
    auto* st = static_cast<PingState*>(arg);
    const std::uint64_t now = clock::now_ns();
    struct ip_hdr iph;
    struct icmp_echo_hdr echo;
    if (pbuf_copy_partial(p, &iph, sizeof(iph), 0) != sizeof(iph)) return 0;
    const u16_t hlen = static_cast<u16_t>(IPH_HL_BYTES(&iph));
    if (pbuf_copy_partial(p, &echo, sizeof(echo), hlen) != sizeof(echo)) return 0;
    if (echo.type != ICMP_ER || echo.id != lwip_htons(kPingId)) return 0;
    if (lwip_ntohs(echo.seqno) != st->waiting_seq || st->got) {
        pbuf_free(p);
        return 1;  // ours, but late: eat it
    }
    st->reply_ns = now;
    st->got = true;
    st->reply.give();
    pbuf_free(p);
    return 1;
}

int cmd_ping(int argc, char** argv) {
    if (argc < 2 || argc > 3) return shell::kUsage;
    if (interface_count() == 0) return no_stack();
    ip4_addr_t target;
    if (!parse_quad(argv[1], target)) {
        printk("ping: bad address '%s'\n", argv[1]);
        return 1;
    }
    unsigned long long count = 4;
    if (argc == 3 && (!shell::parse_u64(argv[2], count) || count == 0 || count > 10000)) {
        printk("ping: bad count '%s'\n", argv[2]);
        return 1;
    }
    LOCK_TCPIP_CORE();
    raw_pcb* pcb = raw_new(IP_PROTO_ICMP);
    if (pcb) raw_recv(pcb, ping_recv, &ping_state);
    UNLOCK_TCPIP_CORE();
    if (pcb == nullptr) {
        printk("ping: out of memory\n");
        return 1;
    }
    const Tick period = clock::ms_to_ticks(1000);
    unsigned sent = 0, received = 0;
    std::uint64_t min_ns = ~std::uint64_t{0}, max_ns = 0, sum_ns = 0;
    for (unsigned seq = 0; seq < count; ++seq) {
        const Tick start_tick = clock::ticks();
        pbuf* p = pbuf_alloc(PBUF_IP, sizeof(icmp_echo_hdr) + kPingData, PBUF_RAM);
        if (p == nullptr) break;
        auto* e = static_cast<icmp_echo_hdr*>(p->payload);
        e->type = ICMP_ECHO;
        e->code = 0;
        e->chksum = 0;
        e->id = lwip_htons(kPingId);
        e->seqno = lwip_htons(static_cast<u16_t>(seq));
        auto* data = reinterpret_cast<std::uint8_t*>(e + 1);
        for (std::size_t k = 0; k < kPingData; ++k) data[k] = static_cast<std::uint8_t>(k);
        e->chksum = inet_chksum(e, p->len);
        ip_addr_t dst;
        ip_addr_copy_from_ip4(dst, target);
        LOCK_TCPIP_CORE();
        ping_state.got = false;
        ping_state.waiting_seq = static_cast<u16_t>(seq);
        (void)ping_state.reply.take(Timeout::none());
        const std::uint64_t t0 = clock::now_ns();
        err_t err = raw_sendto(pcb, p, &dst);
        UNLOCK_TCPIP_CORE();
        pbuf_free(p);
        ++sent;
        bool replied = false;
        if (err == ERR_OK) {  // in slices: Ctrl-C stops a ping at once
            while (Tick t = shell::wait_slice(start_tick + period))
                if ((replied = ping_state.reply.take(Timeout::ticks(t)) == Status::ok)) break;
        }
        if (err != ERR_OK) {
            printk("ping: send failed (%d)\n", static_cast<int>(err));
        } else if (replied) {
            const std::uint64_t ns = ping_state.reply_ns - t0;
            ++received;
            sum_ns += ns;
            if (ns < min_ns) min_ns = ns;
            if (ns > max_ns) max_ns = ns;
            printk("%u bytes from %s: seq=%u time=%llu.%03llu ms\n",
                   static_cast<unsigned>(sizeof(icmp_echo_hdr) + kPingData), argv[1], seq,
                   static_cast<unsigned long long>(ns / 1000000),
                   static_cast<unsigned long long>(ns / 1000 % 1000));
        } else if (!shell::interrupted()) {
            printk("ping: seq=%u timeout\n", seq);
        }
        if (seq + 1 < count && !shell::sleep_until(start_tick + period)) break;
    }
    LOCK_TCPIP_CORE();
    raw_remove(pcb);
    UNLOCK_TCPIP_CORE();
    printk("ping: %u sent, %u received, %u%% loss", sent, received,
           sent ? (sent - received) * 100 / sent : 0);
    if (received) {
        const std::uint64_t avg = sum_ns / received;
        printk(", rtt min/avg/max %llu.%03llu/%llu.%03llu/%llu.%03llu ms",
               static_cast<unsigned long long>(min_ns / 1000000),
               static_cast<unsigned long long>(min_ns / 1000 % 1000),
               static_cast<unsigned long long>(avg / 1000000),
               static_cast<unsigned long long>(avg / 1000 % 1000),
               static_cast<unsigned long long>(max_ns / 1000000),
               static_cast<unsigned long long>(max_ns / 1000 % 1000));
    }
    printk("\n");
    if (shell::interrupted()) return shell::kInterrupted;
    return received ? 0 : 1;
}

int cmd_dhcp(int argc, char**) {
    if (argc != 1) return shell::kUsage;
    if (interface_count() == 0) return no_stack();
#if LWIP_DHCP
    Interface& i = interface(0);
    LOCK_TCPIP_CORE();
    err_t e = dhcp_supplied_address(i.nif) ? dhcp_renew(i.nif) : dhcp_start(i.nif);
    UNLOCK_TCPIP_CORE();
    if (e != ERR_OK) {
        printk("dhcp: failed (%d)\n", static_cast<int>(e));
        return 1;
    }
    printk("dhcp: %s: renewing\n", i.dev->name());
    return 0;
#else
    printk("dhcp: off in this build (CONFIG_NET_DHCP)\n");
    return 1;
#endif
}

}  // namespace
}  // namespace rtos::net

SHELL_COMMAND(ifconfig, "[<ip> <netmask> [gateway]]",
              "network interfaces: address, MAC, link, counters; or set a static address",
              rtos::net::cmd_ifconfig);
SHELL_COMMAND(ping, "<ip> [count]", "ICMP echo, one a second (default 4)", rtos::net::cmd_ping);
SHELL_COMMAND(dhcp, "", "renew the DHCP lease of the first interface", rtos::net::cmd_dhcp);
