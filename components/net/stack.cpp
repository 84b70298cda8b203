// Starts lwIP over every NetDevice the drivers registered: the tcpip thread,
// one netif each (DHCP or the static address of Kconfig), link events from
// the driver, and the "net: dhcp bound <ip>" line when a lease arrives.
#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/init.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/string.hpp>

#include "net/net.hpp"

extern "C" {
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"
}

namespace rtos::net {
namespace {

constexpr std::size_t kMaxInterfaces = 4;
constexpr unsigned kMaxFragments = 16;
/// How long a send waits for a free transmit buffer before the frame is dropped.
constexpr Tick kTxWaitTicks = clock::ms_to_ticks(100);

::netif netifs[kMaxInterfaces];
Interface interfaces[kMaxInterfaces];
std::size_t count = 0;

Interface& iface_of(::netif* nif) { return interfaces[nif - netifs]; }

err_t linkoutput(::netif* nif, pbuf* p) {
    Interface& i = iface_of(nif);
    Fragment frags[kMaxFragments];
    unsigned n = 0;
    for (pbuf* q = p; q != nullptr; q = q->next) {
        if (q->len == 0) continue;
        if (n == kMaxFragments) return ERR_BUF;
        frags[n++] = {q->payload, q->len};
    }
    return i.dev->transmit({frags, n}, Timeout::ticks(kTxWaitTicks)) == Status::ok ? ERR_OK
                                                                                   : ERR_IF;
}

// Driver receive thread: copy into a pool pbuf, queue it for the tcpip thread.
void receive(void* ctx, const std::uint8_t* frame, std::size_t len) {
    auto* i = static_cast<Interface*>(ctx);
    pbuf* p = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(len), PBUF_POOL);
    if (p == nullptr) {
        ++i->stack_drops;
        return;
    }
    pbuf_take(p, frame, static_cast<u16_t>(len));
    if (i->nif->input(p, i->nif) != ERR_OK) {
        pbuf_free(p);
        ++i->stack_drops;
    }
}

void link_changed(void* ctx, bool up) {
    auto* i = static_cast<Interface*>(ctx);
    LOCK_TCPIP_CORE();
    if (up) netif_set_link_up(i->nif);
    else netif_set_link_down(i->nif);
    UNLOCK_TCPIP_CORE();
}

void status_changed(::netif* nif) {
    static ip4_addr_t announced[kMaxInterfaces];
    ip4_addr_t& last = announced[nif - netifs];
    const ip4_addr_t* now = netif_ip4_addr(nif);
    if (ip4_addr_cmp(&last, now)) return;
    last = *now;
    if (ip4_addr_isany_val(*now)) return;
    char ip[16];
    ip4addr_ntoa_r(now, ip, sizeof(ip));
#if LWIP_DHCP
    if (dhcp_supplied_address(nif)) {
        printk("net: dhcp bound %s\n", ip);
        return;
    }
#endif
    printk("net: %s address %s\n", iface_of(nif).dev->name(), ip);
}

err_t netif_init_fn(::netif* nif) {
    Interface& i = iface_of(nif);
    nif->name[0] = 'e';
    nif->name[1] = 't';
    nif->mtu = kMtu;
    nif->hwaddr_len = ETH_HWADDR_LEN;
    memcpy(nif->hwaddr, i.dev->mac(), ETH_HWADDR_LEN);
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    nif->output = etharp_output;
    nif->linkoutput = linkoutput;
    return ERR_OK;
}

void tcpip_ready(void* arg) { static_cast<BinarySemaphore*>(arg)->give(); }

}  // namespace

void net_start() {
    if (NetDevice::first() == nullptr) return;  // no network device: no stack
    BinarySemaphore ready;
    tcpip_init(tcpip_ready, &ready);
    ready.take();

    for (NetDevice* d = NetDevice::first(); d != nullptr && count < kMaxInterfaces; d = d->next()) {
        Interface& i = interfaces[count];
        ::netif* nif = &netifs[count];
        i = {nif, d, 0};
        ip4_addr_t ip = {}, mask = {}, gw = {};
#if !LWIP_DHCP
        if (count == 0) {
            ip4addr_aton(CONFIG_NET_STATIC_IP, &ip);
            ip4addr_aton(CONFIG_NET_STATIC_NETMASK, &mask);
            ip4addr_aton(CONFIG_NET_STATIC_GATEWAY, &gw);
        }
#endif
        LOCK_TCPIP_CORE();
        netif_add(nif, &ip, &mask, &gw, nullptr, netif_init_fn, tcpip_input);
        d->attach(receive, link_changed, &i);  // before DHCP sends anything
        netif_set_status_callback(nif, status_changed);
        if (count == 0) netif_set_default(nif);
        netif_set_up(nif);
        if (d->link_up()) netif_set_link_up(nif);
#if LWIP_DHCP
        dhcp_start(nif);
#endif
        UNLOCK_TCPIP_CORE();
        ++count;
    }
#if LWIP_DHCP
    const char* how = "dhcp";
#else
    const char* how = "static " CONFIG_NET_STATIC_IP;
#endif
    printk("net: lwIP %s, %u interface%s, %s\n", LWIP_VERSION_STRING, static_cast<unsigned>(count),
           count == 1 ? "" : "s", how);
}

std::size_t interface_count() { return count; }
Interface& interface(std::size_t i) { return interfaces[i]; }

}  // namespace rtos::net

namespace {
void net_start_hook() { rtos::net::net_start(); }
}  // namespace
RTOS_INIT(net_start_hook, service);
