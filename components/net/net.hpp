// The network stack as the rest of the system sees it: lwIP (started at
// boot when a network device exists, components/net/stack.cpp) with one
// netif per NetDevice.
#pragma once

#include <cstddef>

#include "drivers/net/netdev.hpp"

struct netif;
struct ip4_addr;

namespace rtos::net {

struct Interface {
    ::netif* nif;
    NetDevice* dev;
    unsigned long stack_drops;  ///< frames the stack had no buffer or queue room for
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
