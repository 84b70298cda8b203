// What the virtio-net driver needs around it on the host, for one scenario
// (each runs in its own process, see sim.hpp): the fake virtio-mmio device
// as a network card, DMA memory (tests/host/virtio/dma_arena.cpp), the
// interrupt line (tests/host/virtio/irq_line.hpp) and the driver table
// (tests/host/virtio/driver_table.hpp).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "drivers/virtio/transport/mmio_transport.hpp"
#include "drivers/virtio/net/virtio_net_hdr.hpp"
#include "fake_mmio_device.hpp"
#include "irq_line.hpp"
#include "drivers/net/netdev.hpp"

namespace net_test {

struct Setup {
    std::uint32_t version = virtio::mmio::VERSION_MODERN;
    bool offer_mac = true;
    bool offer_status = true;
    bool irq = true;
};

/// A frame on its way to the guest, and how the device will report it.
struct Arrival {
    std::vector<std::uint8_t> frame;
    virtio::net::NetHdr hdr{.num_buffers = 1};
    std::optional<std::uint32_t> used_len = {};  ///< reported instead of header + frame
};

struct Env {
    explicit Env(const Setup& s);
    Setup setup;
    fake::FakeMmioDevice fake;
    host_irq::IrqLine line{fake};
    virtio::MmioTransport transport{line};
    bool probed = false;
    rtos::net::NetDevice* dev = nullptr;

    std::deque<Arrival> wire;                          ///< frames not yet taken by the device
    std::vector<std::vector<std::uint8_t>> delivered;  ///< frames the driver handed up
    std::vector<std::size_t> batches;                  ///< the size of each receive batch
    std::size_t loanable = 0;                          ///< frames the driver offered to lend
    /// The receiver keeps this many of the next loanable frames (ids in `kept`).
    std::size_t keep = 0;
    std::vector<std::uint32_t> kept;
    std::vector<std::vector<std::uint8_t>> sent;  ///< frames the driver transmitted
    std::vector<void*> tx_completed;              ///< cookies of TxDone, in order
    std::vector<bool> link_events;
    unsigned bad_tx_headers = 0;

    /// The header size the negotiated features call for.
    std::uint32_t hdr_len() const;
    bool mergeable() const;
    /// Puts frames on the wire and lets the device take them; returns once
    /// the driver handed `expect_delivered` frames up in total (or 200 ticks).
    void arrive(std::vector<Arrival> frames, std::size_t expect_delivered);
    /// Lets `ticks` timer ticks pass (the driver's threads and timers run).
    void idle(unsigned ticks);
    /// Driver resets seen so far: DRIVER_OK written.
    unsigned driver_ok_count() const;
    /// Receive buffers on the ring now (available or taken, not yet used).
    unsigned rx_on_ring() const;
};

/// Creates the environment and runs the registered driver's probe on it.
Env& boot(const Setup& s);

}  // namespace net_test
