// The fuzz targets' device model (see scripted_device.hpp).
#include "scripted_device.hpp"

#include <algorithm>
#include <cstring>

#include "drivers/virtio/device.hpp"
#include "harness.hpp"

namespace fuzz {

void begin_driver_input() {
    while (virtio::Device* d = virtio::Device::first()) d->registry_node.unlink();
    begin_input();
}

namespace {
driver_test::DeviceSetup with_input(driver_test::DeviceSetup s, FuzzedDataProvider& in) {
    s.offer_event_idx = in.ConsumeBool();
    s.offer_indirect = in.ConsumeBool();
    s.irq = in.ConsumeIntegralInRange<unsigned>(0, 7) != 0;  // else the driver polls or refuses
    return s;
}
}  // namespace

ScriptedDevice::ScriptedDevice(driver_test::DeviceSetup s, FuzzedDataProvider& in)
    : DriverEnv(with_input(s, in)), pending_(s.num_queues), sent_(s.num_queues) {
    fake.behaviour = [this](std::uint16_t q, fake::Chain& c) { return serve(q, c); };
}

std::uint32_t ScriptedDevice::serve(std::uint16_t q, fake::Chain& c) {
    if (c.writable.empty()) {
        std::vector<std::uint8_t> all;
        for (auto seg : c.readable) all.insert(all.end(), seg.begin(), seg.end());
        if (sent_[q].size() < 256) sent_[q].push_back(std::move(all));
        return 0;
    }
    if (pending_[q].empty()) return fake::kNotYet;
    Delivery d = std::move(pending_[q].front());
    pending_[q].pop_front();
    std::size_t done = 0;
    for (auto seg : c.writable) {
        const std::size_t k = std::min(seg.size(), d.bytes.size() - done);
        if (k) std::memcpy(seg.data(), d.bytes.data() + done, k);
        done += k;
    }
    return d.used_len ? *d.used_len : static_cast<std::uint32_t>(done);
}

void ScriptedDevice::deliver(std::uint16_t q, Delivery d) {
    if (q >= pending_.size()) return;
    if (pending_[q].size() < 64) pending_[q].push_back(std::move(d));
    process(q);
}

Delivery ScriptedDevice::from_input(FuzzedDataProvider& in, std::size_t max) {
    Delivery d;
    d.bytes = in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, max));
    if (in.ConsumeIntegralInRange<unsigned>(0, 3) == 0)
        d.used_len = in.ConsumeIntegral<std::uint32_t>();
    return d;
}

}  // namespace fuzz
