// The device side of the driver fuzz targets: the host tests' fake
// virtio-mmio device (tests/host/virtio/fake_mmio_device.hpp) whose answers
// come from the fuzz input. A chain with device-writable buffers (a receive
// buffer, a request awaiting its response) takes the next delivery queued
// for its queue: its bytes scattered over the buffers and a used length that
// is honest or anything at all; with none queued it waits. A chain of
// readable buffers only (a transmit) is consumed at once and its bytes kept.
// The driver reaches the device through line(), which raises the interrupt
// after every register write as a real device's line follows a notify.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "drivers/virtio/transport/register_window.hpp"
#include "fake_mmio_device.hpp"

namespace fuzz {

/// begin_input() for the driver targets: first takes the devices of the
/// input before (never shut down: drivers keep them for good) off the
/// device core's registry, while their memory is still theirs.
void begin_driver_input();

struct Delivery {
    std::vector<std::uint8_t> bytes;
    std::optional<std::uint32_t> used_len;  ///< reported instead of the bytes written
};

class ScriptedDevice {
public:
    /// Registers the interrupt line with the kernel stand-in (after begin_input()).
    explicit ScriptedDevice(const fake::FakeMmioDevice::Options& o);
    ScriptedDevice(const ScriptedDevice&) = delete;
    ScriptedDevice& operator=(const ScriptedDevice&) = delete;

    fake::FakeMmioDevice fake;
    /// What the transport is given.
    virtio::RegisterWindow& line() { return line_; }

    /// Queues `d` for queue `q`; the device takes it at once if a buffer waits.
    void deliver(std::uint16_t q, Delivery d);
    /// A delivery read from the input: up to `max` bytes and, one time in
    /// four, a used length that need not match them.
    static Delivery from_input(FuzzedDataProvider& in, std::size_t max);
    /// Lets the device work on queue `q` (if it is live) and raises the line.
    void process(std::uint16_t q);
    /// Bytes the driver sent on each queue (readable chains), oldest first.
    const std::vector<std::vector<std::uint8_t>>& sent(std::uint16_t q) { return sent_[q]; }
    std::size_t waiting(std::uint16_t q) const { return pending_[q].size(); }

private:
    class Line final : public virtio::RegisterWindow {
    public:
        explicit Line(ScriptedDevice& d) : d_(d) {}
        std::uint8_t read8(std::uint32_t o) override { return d_.fake.read8(o); }
        std::uint16_t read16(std::uint32_t o) override { return d_.fake.read16(o); }
        std::uint32_t read32(std::uint32_t o) override { return d_.fake.read32(o); }
        void write8(std::uint32_t o, std::uint8_t v) override;
        void write16(std::uint32_t o, std::uint16_t v) override;
        void write32(std::uint32_t o, std::uint32_t v) override;
        std::uint64_t base() const override { return d_.fake.base(); }

    private:
        ScriptedDevice& d_;
    };

    std::uint32_t serve(std::uint16_t q, fake::Chain& chain);

    Line line_{*this};
    std::vector<std::deque<Delivery>> pending_;
    std::vector<std::vector<std::vector<std::uint8_t>>> sent_;
};

}  // namespace fuzz
