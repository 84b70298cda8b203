// The environment every VirtIO driver test runs its driver in, one per
// scenario (each scenario is a process of its own on the simulated kernel,
// tests/host/kernel_ipc/sim.hpp): the fake virtio-mmio device (a driver's
// device model plugs into fake.behaviour), the interrupt line between them
// (irq_line.hpp), the virtio-mmio transport on that line, and the bus's
// part: the registered driver probes the device as mmio_probe.cpp would
// (driver_table.hpp). DMA memory is the shared host arena (dma_arena.cpp);
// log_capture.hpp captures what the driver prints.
//
// A driver's environment derives from DriverEnv and adds its model:
//   struct Env : driver_test::DriverEnv {
//       explicit Env(const Setup& s) : DriverEnv(s) {
//           fake.behaviour = [this](std::uint16_t q, fake::Chain& c) { return model.serve(c); };
//       }
//       BlkModel model;
//   };
//   Env& e = *new Env(setup);  // lives until the scenario's process ends
//   e.probe();
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

#include "drivers/virtio/transport/mmio_transport.hpp"
#include "fake_mmio_device.hpp"
#include "irq_line.hpp"

namespace driver_test {

/// Whether a DeviceSetup offers VIRTIO_F_RING_PACKED unless it says
/// otherwise: the ring layout of the scenario (rig::VersionScenarios sets it
/// before the scenario's process starts).
inline bool offer_packed_default = false;

/// The device as the bus finds it.
struct DeviceSetup {
    std::uint32_t version = virtio::mmio::VERSION_MODERN;  ///< register layout
    std::uint32_t device_id = 0;
    std::uint64_t features = 0;  ///< device-type bits offered (VERSION_1 by the fake)
    /// The ring features, offered as QEMU does whatever the build asks for
    /// (the core accepts those its Kconfig variant has).
    bool offer_event_idx = true;
    bool offer_indirect = true;
    bool offer_packed = offer_packed_default;  ///< modern devices only
    std::uint16_t num_queues = 2;
    std::uint32_t queue_num_max = 1024;
    std::size_t config_size = 64;
    bool irq = true;  ///< rtos::irq::attach() succeeds (else the driver polls or gives up)
};

class DriverEnv {
public:
    explicit DriverEnv(const DeviceSetup& s);
    virtual ~DriverEnv() = default;
    DriverEnv(const DriverEnv&) = delete;
    DriverEnv& operator=(const DriverEnv&) = delete;

    /// Connects the interrupt line, probes the transport and runs the
    /// registered driver on it ("mmio" at the fake's base, irq 8, first of
    /// its type); sets and returns `probed`. A transport that does not
    /// probe fails the scenario.
    bool probe();

    /// The device consumes what is available on `queue` (if it is live) as
    /// if between two driver instructions, then raises the interrupt.
    /// Returns the chains it completed.
    std::uint64_t process(std::uint16_t queue = 0);
    /// Delivers the interrupt if a handler is attached and the line is up.
    static void raise_irq();
    /// DMA blocks the driver holds.
    static std::size_t dma_live_allocations();

    DeviceSetup device_setup;
    /// The device model's own work after every register write (before the
    /// line is raised), as QEMU does within the notification.
    std::function<void()> after_write;
    fake::FakeMmioDevice fake;
    host_irq::IrqLine line{fake, [this] {
                               if (after_write) after_write();
                           }};
    virtio::MmioTransport transport{line};
    bool probed = false;  ///< the driver took the device
};

}  // namespace driver_test
