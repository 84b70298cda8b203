// The virtio-console / virtio-rng drivers' environment for one scenario: the
// shared driver environment (tests/host/virtio/driver_env.hpp) with a
// console or rng model (models.hpp) as the device. After every register
// write the console model delivers what it can before the line is raised,
// as QEMU does within a notification.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "driver_env.hpp"
#include "log_capture.hpp"
#include "models.hpp"

namespace console_test {

struct Setup : driver_test::DeviceSetup {
    Setup() { device_id = virtio::VIRTIO_ID_CONSOLE; }  // or VIRTIO_ID_ENTROPY
    bool multiport = true;
    bool size = false;  ///< offer VIRTIO_CONSOLE_F_SIZE
    std::uint16_t cols = 0, rows = 0;
    std::uint32_t max_ports = 4;  ///< max_nr_ports in config space
    std::vector<HostPort> ports;  ///< the model's ports by id (multiport), before probe
};

struct Env : driver_test::DriverEnv {
    explicit Env(const Setup& s);
    Setup setup;
    ConsoleModel console;
    RngModel rng;

    /// The device delivers what it can now and raises the interrupt.
    void device_work();
};

/// Creates the environment and runs the registered driver's probe on it.
Env& boot(const Setup& s);

using host_log::LogCapture;

}  // namespace console_test
