// What the two ring targets (virtqueue.cpp: split, packed.cpp: packed)
// share: the queue under test, with the script as its device, and the
// driver's requests the script adds.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include <fuzzer/FuzzedDataProvider.h>

#include "drivers/virtio/device.hpp"
#include "drivers/virtio/transport/mmio_transport.hpp"
#include "fake_mmio_device.hpp"
#include "harness.hpp"

namespace fuzz {

/// The fake virtio-mmio device offering `o.features`, the transport and a
/// started device core with one queue of `qsize`. The fake device never
/// processes a chain: the script writes what the device would.
struct RingUnderTest {
    fake::FakeMmioDevice dev;
    virtio::MmioTransport transport{dev};
    virtio::Device device{transport};
    virtio::Virtqueue& q;
    fake::FakeMmioDevice::QueueView view;

    RingUnderTest(const fake::FakeMmioDevice::Options& o, std::uint16_t qsize)
        : dev(o), q(start(o, qsize)), view(dev.queue(0)) {}
    ~RingUnderTest() { device.shutdown(); }

    template <typename T>
    T* area(std::uint64_t addr) const {
        return reinterpret_cast<T*>(static_cast<std::uintptr_t>(addr));
    }

private:
    virtio::Virtqueue& start(const fake::FakeMmioDevice::Options& o, std::uint16_t qsize) {
        dev.process_on_notify = false;
        FUZZ_CHECK(transport.probe() == virtio::Error::ok);
        const virtio::Device::QueueSpec spec[] = {{qsize, nullptr, nullptr}};
        FUZZ_CHECK(device.start({.features = o.features, .queues = spec}) == virtio::Error::ok);
        return device.queue(0);
    }
};

/// A request's segments as the input says: 0..4 readable and 0..4 writable
/// (at least one in all), 1 to 600 bytes each. Only their addresses and
/// lengths matter: the ring code and the script never touch the bytes
/// (the fake device processes no chain), so every request's segments lie
/// in one static buffer, each segment in its own part of it.
struct Segments {
    static constexpr std::size_t kMax = 4, kBytes = 600;
    std::array<virtio::OutSegment, kMax> out{};
    std::array<virtio::InSegment, kMax> in{};
    unsigned nout = 0, nin = 0;
    std::uint64_t writable = 0;  ///< bytes the device may write

    explicit Segments(FuzzedDataProvider& input) {
        static std::uint8_t bytes[2 * kMax][kBytes];
        nout = input.ConsumeIntegralInRange<unsigned>(0, kMax);
        nin = input.ConsumeIntegralInRange<unsigned>(nout == 0 ? 1 : 0, kMax);
        for (unsigned k = 0; k < nout; ++k)
            out[k] = {bytes[k], input.ConsumeIntegralInRange<std::uint32_t>(1, kBytes)};
        for (unsigned k = 0; k < nin; ++k) {
            in[k] = {bytes[kMax + k], input.ConsumeIntegralInRange<std::uint32_t>(1, kBytes)};
            writable += in[k].len;
        }
    }
    std::span<const virtio::OutSegment> outs() const { return {out.data(), nout}; }
    std::span<const virtio::InSegment> ins() const { return {in.data(), nin}; }
    unsigned total() const { return nout + nin; }
};

}  // namespace fuzz
