// The driver-test environment (see driver_env.hpp). It reads no Kconfig
// variant (compiled once for every driver test).
#include "driver_env.hpp"

#include <rtos/critical.hpp>

#include "driver_table.hpp"
#include "hal_host.hpp"
#include "sim.hpp"

namespace driver_test {

namespace {
fake::FakeMmioDevice::Options fake_options(const DeviceSetup& s) {
    fake::FakeMmioDevice::Options o;
    o.version = s.version;
    o.device_id = s.device_id;
    o.num_queues = s.num_queues;
    o.queue_num_max = s.queue_num_max;
    o.config_size = s.config_size;
    o.features = s.features;
    if (s.offer_event_idx) o.features |= virtio::feature_bit(virtio::VIRTIO_RING_F_EVENT_IDX);
    if (s.offer_indirect) o.features |= virtio::feature_bit(virtio::VIRTIO_RING_F_INDIRECT_DESC);
    if (s.offer_packed && s.version == virtio::mmio::VERSION_MODERN)
        o.features |= virtio::feature_bit(virtio::VIRTIO_F_RING_PACKED);
    return o;
}
}  // namespace

DriverEnv::DriverEnv(const DeviceSetup& s) : device_setup(s), fake(fake_options(s)) {}

bool DriverEnv::probe() {
    host_irq::install(&fake, device_setup.irq);
    if (transport.probe() != virtio::Error::ok) {
        sim::fail(__FILE__, __LINE__, "transport probe failed");
        return false;
    }
    probed = host_drivers::probe(transport, fake.base());
    return probed;
}

std::uint64_t DriverEnv::process(std::uint16_t queue) {
    std::uint64_t done = 0;
    {
        rtos::IrqLock lock;  // the device works "between" driver instructions
        if (fake.queue(queue).live) {
            const std::uint64_t before = fake.queue(queue).chains;
            fake.process(queue);
            done = fake.queue(queue).chains - before;
        }
    }
    raise_irq();
    return done;
}

void DriverEnv::raise_irq() { host_irq::raise(); }

std::size_t DriverEnv::dma_live_allocations() { return host_hal::live_allocations(); }

}  // namespace driver_test
