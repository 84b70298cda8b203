// The device side of the driver fuzz targets: the host tests' driver
// environment (tests/host/virtio/driver_env.hpp: the fake virtio-mmio
// device, its interrupt line, the transport and the registered driver's
// probe) whose answers come from the fuzz input. A chain with
// device-writable buffers (a receive buffer, a request awaiting its
// response) takes the next delivery queued for its queue: its bytes
// scattered over the buffers and a used length that is honest or anything
// at all; with none queued it waits. A chain of readable buffers only (a
// transmit) is consumed at once and its bytes kept. The interrupt line is
// the kernel stand-in's (fuzz_kernel.hpp; irq_fuzz.cpp in place of the
// simulated kernel's irq_line.cpp).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include "driver_env.hpp"

namespace fuzz {

/// begin_input() for the driver targets: first takes the devices of the
/// input before (never shut down: drivers keep them for good) off the
/// device core's registry, while their memory is still theirs.
void begin_driver_input();

struct Delivery {
    std::vector<std::uint8_t> bytes;
    std::optional<std::uint32_t> used_len;  ///< reported instead of the bytes written
};

class ScriptedDevice final : public driver_test::DriverEnv {
public:
    /// The ring features offered and the interrupt line come from `in`.
    ScriptedDevice(driver_test::DeviceSetup s, FuzzedDataProvider& in);

    /// Queues `d` for queue `q`; the device takes it at once if a buffer waits.
    void deliver(std::uint16_t q, Delivery d);
    /// A delivery read from the input: up to `max` bytes and, one time in
    /// four, a used length that need not match them.
    static Delivery from_input(FuzzedDataProvider& in, std::size_t max);
    /// Bytes the driver sent on each queue (readable chains), oldest first.
    const std::vector<std::vector<std::uint8_t>>& sent(std::uint16_t q) { return sent_[q]; }

private:
    std::uint32_t serve(std::uint16_t q, fake::Chain& chain);

    std::vector<std::deque<Delivery>> pending_;
    std::vector<std::vector<std::vector<std::uint8_t>>> sent_;
};

}  // namespace fuzz
