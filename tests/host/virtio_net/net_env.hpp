// What the virtio-net driver needs around it on the host, for one scenario
// (each runs in its own process, see sim.hpp): the fake virtio-mmio device
// as a network card, DMA memory (tests/host/virtio/dma_arena.cpp), an
// interrupt line delivered as the sim's software interrupt, and the driver
// table (tests/host/virtio/driver_table.hpp).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "drivers/virtio/mmio_transport.hpp"
#include "drivers/virtio/net/virtio_net_hdr.hpp"
#include "fake_mmio_device.hpp"
#include "net/netdev.hpp"

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

/// Forwards to the fake; after every register write raises the interrupt if
/// the fake's line is up.
class IrqLine final : public virtio::RegisterWindow {
public:
    explicit IrqLine(fake::FakeMmioDevice& d) : d_(d) {}
    std::uint8_t read8(std::uint32_t o) override { return d_.read8(o); }
    std::uint16_t read16(std::uint32_t o) override { return d_.read16(o); }
    std::uint32_t read32(std::uint32_t o) override { return d_.read32(o); }
    void write8(std::uint32_t o, std::uint8_t v) override { d_.write8(o, v); after_write(); }
    void write16(std::uint32_t o, std::uint16_t v) override { d_.write16(o, v); after_write(); }
    void write32(std::uint32_t o, std::uint32_t v) override { d_.write32(o, v); after_write(); }
    std::uint64_t base() const override { return d_.base(); }

private:
    void after_write();
    fake::FakeMmioDevice& d_;
};

struct Env {
    explicit Env(const Setup& s);
    Setup setup;
    fake::FakeMmioDevice fake;
    IrqLine line{fake};
    virtio::MmioTransport transport{line};
    bool probed = false;
    rtos::net::NetDevice* dev = nullptr;

    std::deque<Arrival> wire;                        ///< frames not yet taken by the device
    std::vector<std::vector<std::uint8_t>> delivered;  ///< frames the driver handed up
    std::vector<std::vector<std::uint8_t>> sent;     ///< frames the driver transmitted
    std::vector<bool> link_events;
    unsigned bad_tx_headers = 0;

    /// The header size the negotiated features call for.
    std::uint32_t hdr_len() const;
    bool mergeable() const;
    /// Puts frames on the wire and lets the device take them; returns once
    /// the driver handed `expect_delivered` frames up in total (or 200 ticks).
    void arrive(std::vector<Arrival> frames, std::size_t expect_delivered);
    /// Driver resets seen so far: DRIVER_OK written.
    unsigned driver_ok_count() const;
};

/// Creates the environment and runs the registered driver's probe on it.
Env& boot(const Setup& s);

}  // namespace net_test
