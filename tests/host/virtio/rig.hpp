// Test rig: a fake device, the virtio-mmio transport on it and a core Device,
// with an "interrupt line" the tests service by hand.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "drivers/virtio/config.hpp"
#include "drivers/virtio/device.hpp"
#include "drivers/virtio/transport/mmio_transport.hpp"
#include "fake_mmio_device.hpp"
#include "hal_host.hpp"

namespace rig {

using virtio::Error;
using virtio::feature_bit;

inline constexpr std::uint32_t kLegacy = virtio::mmio::VERSION_LEGACY;
inline constexpr std::uint32_t kModern = virtio::mmio::VERSION_MODERN;
/// A layout beside the two versions: a modern device that also offers
/// VIRTIO_F_RING_PACKED (the queues are packed rings).
inline constexpr std::uint32_t kPacked = 0x100 | kModern;

/// The virtio-mmio version of a layout.
constexpr std::uint32_t mmio_version(std::uint32_t layout) { return layout & 0xff; }

/// The virtio-mmio versions this build drives (Kconfig variant).
inline std::vector<std::uint32_t> enabled_versions() {
    std::vector<std::uint32_t> v;
    if (virtio::config::legacy) v.push_back(kLegacy);
    if (virtio::config::modern) v.push_back(kModern);
    return v;
}

/// The versions, and the packed ring when the build offers it.
inline std::vector<std::uint32_t> enabled_layouts() {
    std::vector<std::uint32_t> v = enabled_versions();
    if (virtio::config::ring_packed) v.push_back(kPacked);
    return v;
}

inline std::string version_name(const testing::TestParamInfo<std::uint32_t>& info) {
    return info.param == kLegacy ? "legacy" : info.param == kPacked ? "packed" : "modern";
}

/// Ring features the core offers in this build.
inline std::uint64_t core_ring_features() {
    std::uint64_t f = 0;
    if (virtio::config::event_idx) f |= feature_bit(virtio::VIRTIO_RING_F_EVENT_IDX);
    if (virtio::config::indirect_desc) f |= feature_bit(virtio::VIRTIO_RING_F_INDIRECT_DESC);
    return f;
}

/// What a boot line shows after "features " (Device::describe_features())
/// when the device offers every feature of this build's core and the
/// device-type `words` (in bit order): those, then indirect_desc and
/// event_idx as configured, version_1 on a modern device, ring_packed in
/// the packed layout; "none" if empty.
inline std::string feature_words(const std::string& words, std::uint32_t layout) {
    std::string s = words;
    auto add = [&](const char* w) { s += (s.empty() ? "" : " ") + std::string(w); };
    if (virtio::config::indirect_desc) add("indirect_desc");
    if (virtio::config::event_idx) add("event_idx");
    if (mmio_version(layout) == kModern) add("version_1");
    if (layout == kPacked) add("ring_packed");
    return s.empty() ? "none" : s;
}

/// What a boot line shows from "queue": " queue 8 ring split" (packed layout:
/// "ring packed").
inline std::string queue_words(unsigned size, std::uint32_t layout) {
    return " queue " + std::to_string(size) + (layout == kPacked ? " ring packed" : " ring split");
}

/// The device of a layout; packed adds VIRTIO_F_RING_PACKED to `features`.
inline fake::FakeMmioDevice::Options options(std::uint32_t layout, std::uint64_t features = 0) {
    fake::FakeMmioDevice::Options o;
    o.version = mmio_version(layout);
    o.features = features;
    if (layout == kPacked) o.features |= feature_bit(virtio::VIRTIO_F_RING_PACKED);
    return o;
}

struct Rig {
    fake::FakeMmioDevice fake;
    virtio::MmioTransport transport{fake};
    virtio::Device device{transport};
    std::vector<virtio::Completion> completions;  // popped by the queue callback
    std::vector<Error> pop_errors;                // pop_used() failures seen by the callback
    int config_changes = 0;

    explicit Rig(const fake::FakeMmioDevice::Options& o) : fake(o) { host_hal::reset(); }
    ~Rig() {
        if (probed_) device.shutdown();
    }
    Rig(const Rig&) = delete;
    Rig& operator=(const Rig&) = delete;

    virtio::Virtqueue& q(std::size_t i = 0) { return device.queue(i); }

    /// probe() then Device::start() with `queues` queues of `size` whose
    /// callback collects completions into `completions`.
    Error start(std::uint16_t size = 8, std::uint64_t features = 0, std::size_t queues = 1) {
        const Error e = transport.probe();
        if (e != Error::ok) return e;
        probed_ = true;
        specs_.assign(queues, {size, &Rig::collect, this});
        return device.start({.features = features,
                             .queues = specs_,
                             .on_config_change = &Rig::config_changed,
                             .context = this});
    }

    /// Delivers the interrupt while the fake's line is up (bounded).
    int service_irq() {
        int handled = 0;
        for (int i = 0; i < 16 && fake.irq_pending(); ++i)
            if (device.handle_interrupt()) ++handled;
        return handled;
    }

    static void collect(void* ctx, virtio::Virtqueue& q) {
        auto* self = static_cast<Rig*>(ctx);
        for (int n = 0; n <= 65536; ++n) {  // bounded even if pop_used() misbehaved
            auto r = q.pop_used();
            if (r.error == Error::empty) return;
            if (!r.ok()) {
                self->pop_errors.push_back(r.error);
                return;
            }
            self->completions.push_back(r.value);
        }
        ADD_FAILURE() << "pop_used() never ran dry";
    }

    static void config_changed(void* ctx) { ++static_cast<Rig*>(ctx)->config_changes; }

private:
    std::vector<virtio::Device::QueueSpec> specs_;
    bool probed_ = false;
};

}  // namespace rig
