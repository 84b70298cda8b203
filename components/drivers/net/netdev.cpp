#include "drivers/net/netdev.hpp"

#include <rtos/spinlock.hpp>

namespace rtos::net {
namespace {

// The network device list. Drivers add to it at probe, from whichever
// thread probes; registry_lock serialises the adds (level 1 of docs/smp.md's
// lock order, nothing taken inside it). first()/next() walk it without the
// lock: devices are only ever added, and the stack walks the list once
// probing is over (net_start(), an init hook after the drivers').
List<NetDevice, &NetDevice::registry_node> registry;
SpinLock registry_lock;

}  // namespace

// Each field once, single-copy atomic (count()): a snapshot per field.
Counters NetDevice::counters() const {
    auto get = [](const std::uint64_t& c) { return __atomic_load_n(&c, __ATOMIC_RELAXED); };
    return {get(counters_.rx_packets), get(counters_.rx_bytes),   get(counters_.rx_dropped),
            get(counters_.rx_errors),  get(counters_.tx_packets), get(counters_.tx_bytes),
            get(counters_.tx_dropped), get(counters_.tx_errors)};
}

void NetDevice::deliver(std::span<RxFrame> batch) {
    Receiver r = receiver_;
    if (r == nullptr) {
        count(counters_.rx_dropped, batch.size());  // the receive side's counter
        return;
    }
    r(context_, batch);
}

void NetDevice::set_link(bool up) {
    if (up == link_up_) return;
    link_up_ = up;
    if (link_listener_ != nullptr) link_listener_(context_, up);
}

void NetDevice::add(NetDevice* dev) {
    SpinLockGuard guard(registry_lock);
    registry.push_back(dev);
}

NetDevice* NetDevice::first() { return registry.front(); }
NetDevice* NetDevice::next() const { return registry.next(this); }

}  // namespace rtos::net
