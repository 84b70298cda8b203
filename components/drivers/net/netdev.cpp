#include "drivers/net/netdev.hpp"

#include <rtos/critical.hpp>

namespace rtos::net {
namespace {

List<NetDevice, &NetDevice::registry_node> registry;

}  // namespace

Counters NetDevice::counters() const {
    IrqLock lock;
    return counters_;
}

void NetDevice::deliver(std::span<RxFrame> batch) {
    Receiver r = receiver_;
    if (r == nullptr) {
        IrqLock lock;  // as counters(): the driver's counter lock
        counters_.rx_dropped += batch.size();
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
    IrqLock lock;
    registry.push_back(dev);
}

NetDevice* NetDevice::first() { return registry.front(); }
NetDevice* NetDevice::next() const { return registry.next(this); }

}  // namespace rtos::net
