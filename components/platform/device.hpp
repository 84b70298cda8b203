// Board devices by device-tree `compatible`: each driver registers itself
// with BOARD_DRIVER(...) in its own file (as virtio drivers do with
// VIRTIO_DRIVER); the board layer (board.cpp) walks the device tree, and
// the board's fallback table (bsp/<board>/board.cpp) where the tree lacks a
// class of device, and hands each device to the driver that matches it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "fdt/fdt.hpp"

namespace rtos::platform {

/// What a device is to the board; devices bind class by class in this order.
enum class DeviceClass : uint8_t {
    power,                 ///< ends the machine (QEMU's test finisher): first, so a panic
                           ///< during the rest of the bring-up ends QEMU with a failure
    interrupt_controller,  ///< one per board; its probe calls irq::set_controller()
    console,               ///< the UART named by /chosen/stdout-path (else the first one)
};
constexpr unsigned kDeviceClasses = 3;

/// A device to bind: a device-tree node, or an entry of the board's fallback
/// table. Everything here came from the tree or the board: drivers check it.
struct Device {
    static constexpr unsigned kMaxRegs = 4;
    struct Range {
        uint64_t base, size;
    };
    const char* compatible = nullptr;  ///< the string the driver matched
    const char* name = nullptr;        ///< node name, or "fallback"
    Range reg[kMaxRegs] = {};
    unsigned reg_count = 0;
    bool has_irq = false;
    unsigned irq = 0;  ///< as the interrupt controller numbers it (fdt::Tree::interrupt)
    const fdt::Tree* tree = nullptr;  ///< null for a fallback device
    fdt::Node node;

    /// The node's u32 property `prop`, else `fallback`.
    uint32_t prop_u32(const char* prop, uint32_t fallback) const;
};

struct DeviceDriver {
    const char* name;
    DeviceClass device_class;
    const char* const* compatible;  ///< null-terminated
    /// Takes the device or returns false (it logged why).
    bool (*probe)(const Device& dev);
};

/// One device of the board's fallback table: used for its class when the
/// device tree is missing or has no device of that class.
struct FallbackDevice {
    const char* compatible;
    Device::Range reg[Device::kMaxRegs];
    int irq;  ///< -1: none
};

using Drivers = std::span<const DeviceDriver>;

/// The driver of class `cls` for `compatible`, or nullptr.
const DeviceDriver* find_driver(Drivers drivers, DeviceClass cls, const char* compatible);

/// The driver of class `cls` for node `n`: the node's compatible strings are
/// tried in order (most specific first). `dev` is filled for the probe.
const DeviceDriver* match_node(const fdt::Tree& tree, fdt::Node n, DeviceClass cls, Drivers drivers,
                               Device& dev);

/// `dev` for fallback entry `f` (driver matched separately).
Device fallback_device(const FallbackDevice& f);

/// Whether node `n` takes part: its status is "okay", "ok" or absent.
bool node_enabled(const fdt::Tree& tree, fdt::Node n);

/// The node /chosen/stdout-path names (options after ':' dropped), or invalid.
fdt::Node stdout_node(const fdt::Tree& tree);

/// Binds the devices of class `cls`: from the tree when it has any (an
/// interrupt controller or console: the first that a driver takes; the
/// console: the stdout-path node first), else from `fallback`. Returns the
/// number bound. Each binding is logged as
///   board: <driver> @0x<base> (<compatible>, <node name or "fallback">)
unsigned bind(const fdt::Tree& tree, DeviceClass cls, Drivers drivers,
              std::span<const FallbackDevice> fallback);

/// bind() without a device tree: `fallback` only (no device-tree code is
/// linked in through it).
unsigned bind_fallback(DeviceClass cls, Drivers drivers, std::span<const FallbackDevice> fallback);

/// Registered drivers (linker section), and the board's fallback table
/// (bsp/<board>/board.cpp).
Drivers registered_drivers();
std::span<const FallbackDevice> fallback_devices();

}  // namespace rtos::platform

#define BOARD_DRIVER(ident, device_class, probe_fn, ...)                                    \
    static constexpr const char* const board_compatible_##ident[] = {__VA_ARGS__, nullptr}; \
    [[gnu::used,                                                                            \
      gnu::section(".rtos_board_drivers")]] static constexpr ::rtos::platform::DeviceDriver \
        board_driver_##ident {                                                              \
#ident, device_class, board_compatible_##ident, probe_fn                            \
    }
