// What the virtio-blk driver needs around it on the host, for one scenario
// (each runs in its own process, see sim.hpp):
//   * virtio::hal: DMA memory from a low, poisoned, never-reused arena (as in
//     tests/host/virtio/hal_host.cpp, whose printk would clash with sim's);
//   * the interrupt line (tests/host/virtio/irq_line.hpp): attach() succeeds
//     or not (the driver then polls);
//   * the driver table behind virtio::drivers_begin()/drivers_end() and
//     virtio::announce() (tests/host/virtio/driver_table.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include <rtos/types.hpp>

#include "blk_model.hpp"
#include "drivers/block/block_device.hpp"
#include "drivers/virtio/transport/mmio_transport.hpp"
#include "fake_mmio_device.hpp"
#include "irq_line.hpp"

namespace blk_test {

struct Setup {
    std::uint32_t version = virtio::mmio::VERSION_MODERN;
    std::uint64_t capacity = 1024;  ///< sectors in config space (and the RAM disk, capped)
    std::uint64_t features = 0;     ///< blk feature bits offered; ring features are added
    bool offer_indirect = true;     ///< offer INDIRECT_DESC when the build has it
    std::uint32_t size_max = 0, seg_max = 0, blk_size = 0;
    bool irq = true;  ///< irq::attach() succeeds
    std::uint32_t queue_num_max = 1024;
    bool process_on_notify = true;    ///< false: requests wait for process_now()/the device thread
    bool refuse_features_ok = false;  ///< the device clears FEATURES_OK (modern)
};

struct Env {
    explicit Env(const Setup& s);
    Setup setup;
    fake::FakeMmioDevice fake;
    host_irq::IrqLine line{fake};
    virtio::MmioTransport transport{line};
    BlkModel model;
    bool probed = false;  ///< the driver took the device
    rtos::block::BlockDevice* dev = nullptr;
    std::uint64_t max_batch = 0;  ///< most requests consumed by one process_now()

    /// The device consumes every available request now (if its queue is
    /// live) and raises the interrupt.
    void process_now();
    /// Starts a kernel thread (priority 3) that calls process_now() every tick.
    void start_device_thread();
    void stop_device_thread();
};

/// Creates the environment and runs the registered driver's probe on it.
Env& boot(const Setup& s);
Env& env();

/// Raises the interrupt if an ISR is attached and the fake's line is up.
void raise_irq();

std::size_t dma_live_allocations();

}  // namespace blk_test
