// Host environment of the console and rng drivers (see env.hpp).
#include "env.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <rtos/critical.hpp>

#include "drivers/virtio/config.hpp"
#include "driver_table.hpp"
#include "sim.hpp"

namespace {
console_test::Env* current = nullptr;
}  // namespace

namespace console_test {

void after_write() {
    if (current && current->setup.device_id == virtio::VIRTIO_ID_CONSOLE) current->console.pump();
}

namespace {
fake::FakeMmioDevice::Options fake_options(const Setup& s) {
    fake::FakeMmioDevice::Options o;
    o.version = s.version;
    o.device_id = s.device_id;
    o.num_queues = static_cast<std::uint16_t>(
        s.device_id == virtio::VIRTIO_ID_CONSOLE && s.multiport ? 2 + 2 * s.max_ports : 2);
    std::uint64_t f = 0;
    if (s.device_id == virtio::VIRTIO_ID_CONSOLE) {
        if (s.multiport) f |= virtio::feature_bit(F_MULTIPORT);
        if (s.size) f |= virtio::feature_bit(F_SIZE);
    }
    if (virtio::config::event_idx) f |= virtio::feature_bit(virtio::VIRTIO_RING_F_EVENT_IDX);
    if (virtio::config::indirect_desc)
        f |= virtio::feature_bit(virtio::VIRTIO_RING_F_INDIRECT_DESC);
    o.features = f;
    o.config_size = 12;
    return o;
}
}  // namespace

Env::Env(const Setup& s)
    : setup(s), fake(fake_options(s)), console(fake, s.multiport, s.max_ports) {
    if (s.device_id == virtio::VIRTIO_ID_CONSOLE) {
        fake.behaviour = [this](std::uint16_t q, fake::Chain& c) { return console.serve(q, c); };
        std::uint8_t cfg[12] = {};
        std::memcpy(cfg + 0, &s.cols, 2);
        std::memcpy(cfg + 2, &s.rows, 2);
        std::memcpy(cfg + 4, &s.max_ports, 4);
        fake.change_config(0, cfg);
        for (std::size_t i = 0; i < s.ports.size() && i < console.ports.size(); ++i)
            console.ports[i] = s.ports[i];
    } else {
        fake.behaviour = [this](std::uint16_t q, fake::Chain& c) { return rng.serve(q, c); };
    }
}

void Env::device_work() {
    {
        rtos::IrqLock lock;  // the device works "between" driver instructions
        if (setup.device_id == virtio::VIRTIO_ID_CONSOLE) console.pump();
        else if (fake.queue(0).live) fake.process(0);
    }
    host_irq::raise();
}

Env& boot(const Setup& s) {
    current = new Env(s);
    host_irq::install(&current->fake, true);
    if (current->transport.probe() != virtio::Error::ok) {
        sim::fail(__FILE__, __LINE__, "transport probe failed");
        return *current;
    }
    current->probed = host_drivers::probe(current->transport, current->fake.base());
    return *current;
}

}  // namespace console_test
