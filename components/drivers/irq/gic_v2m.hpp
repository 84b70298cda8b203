// GICv2m MSI frames (Arm "GICv2m Architecture Specification", also SBSA):
// what the GICv2 driver calls to register the frame of its node, if any, as
// the MSI controller (irq::MsiController).
#pragma once

#include <cstdint>

#include "platform/device.hpp"

namespace rtos::drivers::gic {

/// Looks for an "arm,gic-v2m-frame" child of GICv2 node `gic` and, if it
/// gives a usable SPI range inside the distributor `dist`'s `lines`, makes
/// those SPIs edge-triggered and registers the frame with
/// irq::set_msi_controller(). Logs the frame, or why there is none.
void probe_v2m(const platform::Device& gic, uintptr_t dist, unsigned lines);

}  // namespace rtos::drivers::gic
