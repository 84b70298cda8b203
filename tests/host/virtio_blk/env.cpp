// Host environment of the virtio-blk driver (see env.hpp).
#include "env.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include <rtos/critical.hpp>
#include <rtos/irq.hpp>
#include <rtos/printk.hpp>
#include <rtos/thread.hpp>
#include <rtos/timer.hpp>

#include "drivers/virtio/config.hpp"
#include "drivers/virtio/hal.hpp"
#include "driver_table.hpp"
#include "hal_host.hpp"
#include "sim.hpp"

// The driver table and virtio::announce(): tests/host/virtio/driver_table.cpp.
// DMA memory: the shared host arena (tests/host/virtio/dma_arena.cpp).

// ---- interrupts ----

// The interrupt line: tests/host/virtio/irq_line.cpp.

namespace {

blk_test::Env* current = nullptr;
rtos::Thread* device_thread = nullptr;
volatile bool device_stop = false;

}  // namespace

namespace blk_test {

void raise_irq() { host_irq::raise(); }

std::size_t dma_live_allocations() { return host_hal::live_allocations(); }

namespace {
fake::FakeMmioDevice::Options fake_options(const Setup& s) {
    fake::FakeMmioDevice::Options o;
    o.version = s.version;
    o.device_id = virtio::VIRTIO_ID_BLOCK;
    o.num_queues = 1;
    o.queue_num_max = s.queue_num_max;
    std::uint64_t f = s.features;
    if (virtio::config::event_idx) f |= virtio::feature_bit(virtio::VIRTIO_RING_F_EVENT_IDX);
    if (virtio::config::indirect_desc && s.offer_indirect)
        f |= virtio::feature_bit(virtio::VIRTIO_RING_F_INDIRECT_DESC);
    o.features = f;
    return o;
}
}  // namespace

Env::Env(const Setup& s)
    : setup(s), fake(fake_options(s)), model(s.capacity > 4096 ? 4096 : s.capacity) {
    fake.process_on_notify = s.process_on_notify;
    fake.refuse_features_ok = s.refuse_features_ok;
    fake.behaviour = [this](std::uint16_t, fake::Chain& c) { return model.serve(c); };
    model.read_only = (s.features & virtio::feature_bit(F_RO)) != 0;
    BlkModel::write_config(fake, s.capacity, s.size_max, s.seg_max, s.blk_size);
}

void Env::process_now() {
    {
        rtos::IrqLock lock;  // the device works "between" driver instructions
        if (fake.queue(0).live) {
            const std::uint64_t before = fake.queue(0).chains;
            fake.process(0);
            const std::uint64_t batch = fake.queue(0).chains - before;
            if (batch > max_batch) max_batch = batch;
        }
    }
    raise_irq();
}

void Env::start_device_thread() {
    device_stop = false;
    device_thread = rtos::Thread::create(
        {.name = "device", .priority = 3},
        [](void* e) {
            while (!device_stop) {
                rtos::Thread::sleep(1);
                static_cast<Env*>(e)->process_now();
            }
        },
        this, 4096);
}

void Env::stop_device_thread() {
    device_stop = true;
    if (device_thread) device_thread->join();
    device_thread = nullptr;
}

Env& env() { return *current; }

Env& boot(const Setup& s) {
    // The driver polls with a software timer when it has no interrupt; sim
    // starts the kernel without the boot path that starts the timer thread.
    rtos::kernel::timer_service_start();
    current = new Env(s);
    host_irq::install(&current->fake, s.irq);
    if (current->transport.probe() != virtio::Error::ok) {
        sim::fail(__FILE__, __LINE__, "transport probe failed");
        return *current;
    }
    current->probed = host_drivers::probe(current->transport, current->fake.base());
    current->dev = rtos::block::BlockDevice::find("vda");
    return *current;
}

}  // namespace blk_test
