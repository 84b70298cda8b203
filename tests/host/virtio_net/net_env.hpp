// The virtio-net driver's environment for one scenario: the shared driver
// environment (tests/host/virtio/driver_env.hpp) with the fake device
// playing a network card (frames arrive on the receive queue, transmitted
// frames are collected).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "driver_env.hpp"
#include "drivers/virtio/net/virtio_net_hdr.hpp"
#include "drivers/net/netdev.hpp"

namespace net_test {

struct Setup : driver_test::DeviceSetup {
    Setup() { device_id = virtio::VIRTIO_ID_NET; }
    bool offer_mac = true;
    bool offer_status = true;
};

/// A frame on its way to the guest, and how the device will report it.
struct Arrival {
    std::vector<std::uint8_t> frame;
    virtio::net::NetHdr hdr{.num_buffers = 1};
    std::optional<std::uint32_t> used_len = {};  ///< reported instead of header + frame
};

struct Env : driver_test::DriverEnv {
    explicit Env(const Setup& s);
    Setup setup;
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
