// The virtio-console / virtio-rng drivers' surroundings on the host, for one
// scenario (each runs in its own process on the simulated kernel, sim.hpp):
// the fake virtio-mmio device with a console or rng model behind it, DMA
// memory (tests/host/virtio/dma_arena.cpp), the interrupt line
// (tests/host/virtio/irq_line.hpp) and the driver table
// (tests/host/virtio/driver_table.hpp). After every register write the
// console model delivers what it can before the line is raised, as QEMU does
// within a notification.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "drivers/virtio/transport/mmio_transport.hpp"
#include "fake_mmio_device.hpp"
#include "irq_line.hpp"
#include "log_capture.hpp"
#include "models.hpp"

namespace console_test {

struct Setup {
    std::uint32_t version = virtio::mmio::VERSION_MODERN;
    std::uint32_t device_id = virtio::VIRTIO_ID_CONSOLE;
    bool multiport = true;
    bool size = false;  ///< offer VIRTIO_CONSOLE_F_SIZE
    std::uint16_t cols = 0, rows = 0;
    std::uint32_t max_ports = 4;  ///< max_nr_ports in config space
    std::vector<HostPort> ports;  ///< the model's ports by id (multiport), before probe
};

/// The console model delivers what it can (host_irq::IrqLine's hook after
/// every register write; the line is raised after it).
void after_write();

struct Env {
    explicit Env(const Setup& s);
    Setup setup;
    fake::FakeMmioDevice fake;
    host_irq::IrqLine line{fake, &after_write};
    virtio::MmioTransport transport{line};
    ConsoleModel console;
    RngModel rng;
    bool probed = false;

    /// The device delivers what it can now and raises the interrupt.
    void device_work();
};

/// Creates the environment and runs the registered driver's probe on it.
Env& boot(const Setup& s);

using host_log::LogCapture;

}  // namespace console_test
