// The network stack as the rest of the system sees it: lwIP (started at
// boot when a network device exists, components/net/stack.cpp) with one
// netif per NetDevice.
#pragma once

#include <cstddef>

#include "drivers/net/netdev.hpp"

struct netif;
struct ip4_addr;

namespace rtos::net {

/// The netif's TCP counters (`ifconfig`, tools/bench.py --net).
struct TcpCounters {
    unsigned long long segments_in;  ///< TCP segments received, before coalescing
    unsigned long long bytes_in;     ///< their payload bytes
    unsigned long long coalesced;    ///< segments merged into the one before them
    unsigned long long bad;          ///< dropped: malformed, an IP fragment or a bad checksum
    unsigned long long acks_out;     ///< segments sent that carried nothing but an ACK
};

/// One netif over one NetDevice. The counters are written under lwIP's
/// core lock (LOCK_TCPIP_CORE()); read them under it too.
struct Interface {
    ::netif* nif;
    NetDevice* dev;
    unsigned long stack_drops;  ///< frames the stack had no buffer or queue room for
    TcpCounters tcp;
};

/// Starts the stack over the registered devices (a start-up hook; nothing
/// without a device).
void net_start();

/// The interfaces, in device order; count() is 0 when the stack did not start.
std::size_t interface_count();
Interface& interface(std::size_t i);

/// A dotted quad, strictly: four decimal numbers 0-255 without leading
/// zeros, signs or blanks (what every command takes as an IPv4 address).
bool parse_quad(const char* s, ::ip4_addr& out);

}  // namespace rtos::net
