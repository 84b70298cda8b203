// A virtio-gpu 2D device side for the fake virtio-mmio device
// (tests/host/virtio/): the control queue as QEMU's virtio-gpu answers it
// (display info, EDID, one 2D resource with its backing, scanout, transfer
// into a host copy of the resource, flush), and the misbehaviour a driver
// must survive: responses shorter than their type, error types, absurd
// display counts and sizes, a broken EDID, no answer at all. Protocol
// mistakes of the driver go to errors().
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "drivers/virtio/gpu/virtio_gpu_spec.hpp"
#include "fake_mmio_device.hpp"

namespace gpu_test {

struct Mode {
    std::uint32_t width = 0, height = 0;
    bool enabled = false;
};

class GpuModel {
public:
    GpuModel();

    /// The fake's behaviour for queue 0 (control); the cursor queue must stay unused.
    std::uint32_t serve(std::uint16_t queue, fake::Chain& chain);
    /// Writes num_scanouts (and the rest of the config space) into the fake.
    void write_config(fake::FakeMmioDevice& dev) const;
    /// A valid 128-byte EDID whose preferred mode is w x h.
    static std::vector<std::uint8_t> make_edid(std::uint32_t w, std::uint32_t h);
    /// As QEMU writes a mode too large for a base-block descriptor: the base
    /// block without a timing, then a DisplayID extension with a Type I
    /// timing of w x h (section length `section_len`, 23 when right).
    static std::vector<std::uint8_t> make_edid_displayid(std::uint32_t w, std::uint32_t h,
                                                         std::uint8_t section_len = 23);

    // ---- what the device reports ----
    std::uint32_t num_scanouts = 1;
    Mode modes[virtio::gpu::MAX_SCANOUTS];
    std::vector<std::uint8_t> edid;     ///< empty: answers GET_EDID with size 0
    std::uint32_t edid_size_field = 0;  ///< nonzero: the size it claims instead of edid.size()

    // ---- misbehaviour, for one command type (0: none) ----
    std::uint32_t short_cmd = 0;  ///< answer this command with only short_len bytes
    std::uint32_t short_len = 0;
    std::uint32_t error_cmd = 0;  ///< answer this command with error_type
    std::uint32_t error_type = virtio::gpu::RESP_ERR_UNSPEC;
    std::uint32_t hold_cmd = 0;  ///< never answer this command

    // ---- observations ----
    std::vector<std::uint32_t> commands;  ///< command types in order
    struct Resource {
        bool created = false;
        std::uint32_t id = 0, format = 0, width = 0, height = 0;
        std::uint64_t addr = 0;
        std::uint32_t length = 0;
        std::vector<std::uint32_t> host;  ///< the host's copy (filled by transfers)
    } resource;
    std::uint32_t scanout_resource = 0, scanout_id = 0xffffffff;
    virtio::gpu::GpuRect scanout_rect{};
    std::vector<virtio::gpu::GpuRect> transfers, flushes;
    std::vector<std::string> errors;

private:
    std::vector<std::uint8_t> answer(std::uint32_t type, const std::vector<std::uint8_t>& req);
};

}  // namespace gpu_test
