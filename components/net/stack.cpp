// Starts lwIP over every NetDevice the drivers registered: the tcpip thread,
// one netif each (DHCP or the static address of Kconfig), link events from
// the driver, and the "net: dhcp bound <ip>" line when a lease arrives.
//
// The netif: each receive batch of the driver is inspected (every TCP
// segment verified, gro.hpp), in-order segments of a connection are
// coalesced into one (CONFIG_NET_RX_COALESCE), and the whole batch goes
// through lwIP's input under one hold of the core lock, in the driver's
// receive thread. A frame becomes a custom pbuf over the driver's own
// buffer (CONFIG_NET_RX_ZEROCOPY; given back when lwIP frees it) or a copy
// in a pool pbuf (small frames, or when the driver lends no more).
// Transmit hands the pbuf chain's pieces to the driver without a copy and
// frees the pbuf when the driver is done with it; the device is notified
// once per output burst, when the core lock is released
// (UNLOCK_TCPIP_CORE(), lwipopts.h).
#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/heap.hpp>
#include <rtos/init.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/string.hpp>

#include "net/gro.hpp"
#include "net/net.hpp"

extern "C" {
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"
}

namespace rtos::net {
namespace {

constexpr std::size_t kMaxInterfaces = 4;
/// How long a send waits for a free transmit buffer before the frame is dropped.
constexpr Tick kTxWaitTicks = clock::ms_to_ticks(100);

#if defined(CONFIG_NET_RX_ZEROCOPY)
constexpr bool kZeroCopy = true;
/// Frames shorter than this are copied even when the driver would lend
/// the buffer: a small copy is cheap and keeps a whole buffer on the ring.
constexpr std::uint16_t kCopyBreak = CONFIG_NET_RX_COPYBREAK;
#else
constexpr bool kZeroCopy = false;
constexpr std::uint16_t kCopyBreak = 0;
#endif
#if defined(CONFIG_NET_RX_COALESCE)
constexpr bool kCoalesce = true;
#else
constexpr bool kCoalesce = false;
#endif

// A driver buffer lent to lwIP: the custom pbuf over it (first, so the
// pbuf lwIP frees is the loan) and where to give it back.
struct RxLoan {
    pbuf_custom pc;
    NetDevice* dev;
    std::uint32_t id;
};

// What each interface needs beside its Interface, allocated at start.
struct RxState {
    RxLoan* loans = nullptr;     // one per driver buffer id; a loan is in use while lwIP holds it
    gro::View* views = nullptr;  // the batch being handled (the driver's receive thread only)
    std::uint32_t buffers = 0;
};

::netif netifs[kMaxInterfaces];
Interface interfaces[kMaxInterfaces];
RxState rx_state[kMaxInterfaces];
std::size_t count = 0;  // written under the core lock (net_start), read by the unlock hook

// The segment lwIP is handling now when it is to be acknowledged at once,
// for the TCP input hook (tern_lwip_tcp_inpacket). The core lock protects it.
const pbuf* ack_now_input = nullptr;

Interface& iface_of(::netif* nif) { return interfaces[nif - netifs]; }

void loan_free(pbuf* p) {
    auto* loan = reinterpret_cast<RxLoan*>(p);
    loan->dev->give_back(loan->id);
}

// A pbuf with frame `f`'s bytes [skip, len): the driver's buffer itself
// when it lends it, else a copy. nullptr when there is no pbuf left.
pbuf* wrap(const RxState& st, RxFrame& f, std::uint16_t len, std::uint16_t skip) {
    if (kZeroCopy && f.loanable && len >= kCopyBreak && f.id < st.buffers) {
        RxLoan& loan = st.loans[f.id];
        pbuf* p = pbuf_alloced_custom(PBUF_RAW, len, PBUF_REF, &loan.pc, f.data, len);
        if (p != nullptr) {
            f.kept = true;
            if (skip) pbuf_remove_header(p, skip);
            return p;
        }
    }
    pbuf* p = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(len - skip), PBUF_POOL);
    if (p != nullptr) pbuf_take(p, f.data + skip, static_cast<u16_t>(len - skip));
    return p;
}

// Frames [k, k + run) of the batch as one pbuf chain: the first frame whole,
// then the others' TCP payloads, with the first's headers made those of the
// merged segment. `run` becomes what fitted (pbufs may run out).
pbuf* build_run(Interface& i, const RxState& st, std::span<RxFrame> batch, std::size_t k,
                std::size_t& run) {
    const gro::Segment& first = st.views[k].seg;
    pbuf* head = wrap(st, batch[k], first.frame_len, 0);
    if (head == nullptr) {
        run = 1;
        return nullptr;
    }
    std::uint32_t payload = first.payload;
    std::size_t n = 1;
    for (; n < run; ++n) {
        const gro::Segment& s = st.views[k + n].seg;
        pbuf* q = wrap(st, batch[k + n], s.frame_len, s.hdr_len);
        if (q == nullptr) break;
        pbuf_cat(head, q);
        payload += s.payload;
    }
    run = n;
    if (n > 1) {
        gro::merge_headers(static_cast<std::uint8_t*>(head->payload), batch[k + n - 1].data,
                           payload);
        i.tcp.coalesced += n - 1;
    }
    i.tcp.segments_in += n;
    i.tcp.bytes_in += payload;
    return head;
}

// One batch of at most st.buffers frames (receive()).
void receive_some(Interface& i, RxState& st, std::span<RxFrame> batch) {
    const std::size_t n = batch.size();
    // The checksums are the long part: outside the core lock.
    for (std::size_t k = 0; k < n; ++k)
        st.views[k] = {batch[k].data, gro::inspect(batch[k].data, batch[k].len, batch[k].csum_ok)};
    LOCK_TCPIP_CORE();
    for (std::size_t k = 0; k < n;) {
        const gro::Segment& s = st.views[k].seg;
        if (s.kind == gro::Kind::bad) {
            ++i.tcp.bad;
            ++k;
            continue;
        }
        std::size_t run = 1;
        pbuf* p;
        if (s.kind == gro::Kind::tcp) {
            if (kCoalesce) run = gro::run_length({st.views + k, n - k});
            p = build_run(i, st, batch, k, run);
        } else {
            p = wrap(st, batch[k], batch[k].len, 0);
        }
        if (p == nullptr) {
            ++i.stack_drops;
            k += run;
            continue;
        }
        // A coalesced segment, or a full-sized one alone: lwIP's input hook
        // marks the connection so that lwIP acknowledges it at once, as it
        // does every second full-sized segment, instead of on its 250 ms
        // timer (gro::ack_at_once()).
        ack_now_input = gro::ack_at_once(s, run, TCP_MSS) ? p : nullptr;
        if (i.nif->input(p, i.nif) != ERR_OK) {
            pbuf_free(p);
            ++i.stack_drops;
        }
        ack_now_input = nullptr;
        k += run;
    }
    UNLOCK_TCPIP_CORE();  // sends what the batch made lwIP send: one notification
}

// The driver's receive thread, one batch per pass over its ring.
void receive(void* ctx, std::span<RxFrame> batch) {
    auto* i = static_cast<Interface*>(ctx);
    RxState& st = rx_state[i - interfaces];
    while (!batch.empty()) {
        const std::size_t n = batch.size() < st.buffers ? batch.size() : st.buffers;
        receive_some(*i, st, batch.first(n));
        batch = batch.subspan(n);
    }
}

err_t linkoutput(::netif* nif, pbuf* p) {
    Interface& i = iface_of(nif);
    Fragment frags[kMaxTxFragments];
    std::size_t n = 0;
    bool fits = true;
    for (pbuf* q = p; q != nullptr; q = q->next) {
        if (q->len == 0) continue;
        if (n == kMaxTxFragments) {
            fits = false;
            break;
        }
        frags[n++] = {q->payload, q->len};
    }
    // The driver keeps the pieces until it is done (tx_done() frees them).
    pbuf* held = p;
    if (fits) {
        pbuf_ref(p);
    } else {  // a long chain: one copy in one piece
        held = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
        if (held == nullptr) return ERR_MEM;
        frags[0] = {held->payload, held->len};
        n = 1;
    }
    if (i.dev->transmit({frags, n}, held, Timeout::ticks(kTxWaitTicks)) != Status::ok) {
        pbuf_free(held);
        return ERR_IF;
    }
    if (gro::is_pure_ack(static_cast<const std::uint8_t*>(p->payload), p->len)) ++i.tcp.acks_out;
    return ERR_OK;
}

void tx_done(void*, void* cookie) { pbuf_free(static_cast<pbuf*>(cookie)); }

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

// The loan records and the batch's views, one per driver buffer.
bool rx_state_init(RxState& st, NetDevice* d) {
    st.buffers = d->rx_buffers();
    st.views = static_cast<gro::View*>(heap::alloc(sizeof(gro::View) * st.buffers));
    if (kZeroCopy) st.loans = static_cast<RxLoan*>(heap::alloc(sizeof(RxLoan) * st.buffers));
    if (st.buffers == 0 || st.views == nullptr || (kZeroCopy && st.loans == nullptr)) {
        heap::free(st.views);
        heap::free(st.loans);
        st = {};
        return false;
    }
    for (std::uint32_t id = 0; kZeroCopy && id < st.buffers; ++id) {
        st.loans[id].pc.custom_free_function = loan_free;
        st.loans[id].dev = d;
        st.loans[id].id = id;
    }
    return true;
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
        if (!rx_state_init(rx_state[count], d)) {
            printk("net: %s: no memory for its receive state\n", d->name());
            continue;
        }
        i = {nif, d, 0, {}};
        ip4_addr_t ip = {}, mask = {}, gw = {};
#if !LWIP_DHCP
        if (count == 0) {
            ip4addr_aton(CONFIG_NET_STATIC_IP, &ip);
            ip4addr_aton(CONFIG_NET_STATIC_NETMASK, &mask);
            ip4addr_aton(CONFIG_NET_STATIC_GATEWAY, &gw);
        }
#endif
        LOCK_TCPIP_CORE();
        // Input runs in the driver's receive thread under the core lock
        // (receive()), not through tcpip_input's message per frame.
        netif_add(nif, &ip, &mask, &gw, nullptr, netif_init_fn, ethernet_input);
        d->attach(receive, tx_done, link_changed, &i);  // before DHCP sends anything
        netif_set_status_callback(nif, status_changed);
        if (count == 0) netif_set_default(nif);
        ++count;  // before the unlock below flushes what DHCP sent
        netif_set_up(nif);
        if (d->link_up()) netif_set_link_up(nif);
#if LWIP_DHCP
        dhcp_start(nif);
#endif
        UNLOCK_TCPIP_CORE();
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

// ---- lwIP hooks (lwipopts.h) ----

// UNLOCK_TCPIP_CORE(): every frame lwIP queued while it held the lock
// reaches the device with one notification per interface.
extern "C" void tern_lwip_unlock_core(void) {
    for (std::size_t k = 0; k < rtos::net::count; ++k) rtos::net::interfaces[k].dev->flush();
    sys_mutex_unlock(&lock_tcpip_core);
}

// LWIP_HOOK_TCP_INPACKET_PCB: a segment the netif marked (a coalesced one,
// or a full-sized one alone) counts as the second of two full-sized ones, so
// its connection acknowledges it at once (lwIP's tcp_ack() sends the ACK when
// it finds one delayed already).
extern "C" int tern_lwip_tcp_inpacket(struct tcp_pcb* pcb, struct pbuf* p) {
    if (p == rtos::net::ack_now_input && pcb->state != LISTEN && pcb->state != TIME_WAIT)
        tcp_set_flags(pcb, TF_ACK_DELAY);
    return ERR_OK;
}

// LWIP_CHKSUM: lwIP's checksums with the netif's 64-bit sum.
extern "C" unsigned short tern_lwip_chksum(const void* data, int len) {
    return rtos::net::gro::sum_native(data, len > 0 ? static_cast<std::size_t>(len) : 0);
}

namespace {
void net_start_hook() { rtos::net::net_start(); }
}  // namespace
RTOS_INIT(net_start_hook, service);
