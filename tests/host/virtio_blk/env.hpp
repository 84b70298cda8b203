// The virtio-blk driver's environment for one scenario: the shared driver
// environment (tests/host/virtio/driver_env.hpp) with the RAM-disk model
// (blk_model.hpp) as the device, and a device thread for the scenarios
// whose device works on its own time.
#pragma once

#include <cstddef>
#include <cstdint>

#include <rtos/types.hpp>

#include "blk_model.hpp"
#include "driver_env.hpp"
#include "drivers/block/block_device.hpp"

namespace blk_test {

struct Setup : driver_test::DeviceSetup {
    Setup() {
        device_id = virtio::VIRTIO_ID_BLOCK;
        num_queues = 1;
    }
    std::uint64_t capacity = 1024;  ///< sectors in config space (and the RAM disk, capped)
    std::uint32_t size_max = 0, seg_max = 0, blk_size = 0;  ///< config values (features: offered)
    std::uint16_t mq_queues = 0;      ///< config num_queues (with F_MQ offered)
    bool process_on_notify = true;    ///< false: requests wait for process_now()/the device thread
    bool refuse_features_ok = false;  ///< the device clears FEATURES_OK (modern)
};

struct Env : driver_test::DriverEnv {
    explicit Env(const Setup& s);
    Setup setup;
    BlkModel model;
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

}  // namespace blk_test
