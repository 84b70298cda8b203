// The board layer shared by every QEMU virt BSP: devices come from the
// device tree and bind to the drivers registered for their `compatible`
// (device.hpp); the BSP's fallback table (bsp/<board>/board.cpp, Kconfig
// values) stands in for a class of device the tree lacks.
#include <rtos/board.hpp>
#include <rtos/config.hpp>
#include <rtos/irq.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>

#include "arch/port.hpp"
#include "platform/device.hpp"
#include "platform/platform.hpp"

extern "C" char __image_start[], __image_end[];
extern "C" const rtos::platform::DeviceDriver __board_drivers_start[];
extern "C" const rtos::platform::DeviceDriver __board_drivers_end[];

namespace rtos {
namespace {

// CONFIG_PLATFORM_USE_DEVICE_TREE off: no device-tree code in the image.
#if defined(CONFIG_PLATFORM_USE_DEVICE_TREE)
constexpr bool kDeviceTree = true;
#else
constexpr bool kDeviceTree = false;
#endif

fdt::Tree tree;
board::MemoryRange ram_range{CONFIG_PLATFORM_RAM_BASE, CONFIG_PLATFORM_RAM_SIZE};

const void* locate_device_tree(uintptr_t boot_arg) {
#if defined(CONFIG_PLATFORM_USE_DEVICE_TREE)
    fdt::Tree probe;
    if (boot_arg && probe.init(reinterpret_cast<const void*>(boot_arg))) return probe.blob();
    if (CONFIG_PLATFORM_DTB_SEARCH_ADDR &&
        probe.init(reinterpret_cast<const void*>(uintptr_t{CONFIG_PLATFORM_DTB_SEARCH_ADDR})))
        return probe.blob();
#else
    (void)boot_arg;
#endif
    return nullptr;
}

void probe_memory() {
    fdt::Node mem = tree.find_path("/memory");
    uint64_t base, size;
    if (mem.valid() && tree.reg(mem, 0, base, size) && size) {
        ram_range = {static_cast<uintptr_t>(base), static_cast<std::size_t>(size)};
    } else {
        printk("board: no memory node, using CONFIG_PLATFORM_RAM_BASE/SIZE\n");
    }
    uint32_t timebase;
    if (tree.prop_u32(tree.find_path("/cpus"), "timebase-frequency", timebase))
        arch::set_counter_frequency(timebase);
    if (fdt::Node psci = tree.find_path("/psci"); psci.valid())
        arch::set_firmware_method(tree.prop_string(psci, "method"));
}

}  // namespace

platform::Drivers platform::registered_drivers() {
    return {__board_drivers_start, __board_drivers_end};
}

const fdt::Tree& platform::device_tree() { return tree; }

// The console before anything else: the board's fallback UART, polled (its
// receive interrupt comes with init(), once there is an interrupt controller).
void board::early_init() {
    for (const platform::FallbackDevice& f : platform::fallback_devices()) {
        const platform::DeviceDriver* d = platform::find_driver(
            platform::registered_drivers(), platform::DeviceClass::console, f.compatible);
        platform::Device dev = platform::fallback_device(f);
        dev.has_irq = false;
        if (d && d->probe(dev)) return;
    }
}

void board::init(uintptr_t boot_arg) {
    if (const void* dtb = locate_device_tree(boot_arg); kDeviceTree && dtb && tree.init(dtb)) {
        printk("board: device tree at %p (%zu bytes)\n", dtb, tree.size());
    } else {
        printk("board: no device tree found, using Kconfig defaults\n");
    }
    if constexpr (kDeviceTree) probe_memory();
    else printk("board: no memory node, using CONFIG_PLATFORM_RAM_BASE/SIZE\n");
    using platform::DeviceClass;
    for (unsigned c = 0; c < platform::kDeviceClasses; ++c) {
        auto cls = static_cast<DeviceClass>(c);
        const unsigned bound = kDeviceTree
                                   ? platform::bind(tree, cls, platform::registered_drivers(),
                                                    platform::fallback_devices())
                                   : platform::bind_fallback(cls, platform::registered_drivers(),
                                                             platform::fallback_devices());
        if (!bound && cls != DeviceClass::power)
            panic("board: no %s",
                  cls == DeviceClass::console ? "console UART" : "interrupt controller");
    }
}

board::MemoryRange board::ram() { return ram_range; }

// The cpu nodes under /cpus (device_type "cpu", enabled), in tree order:
// their reg is the hart id (riscv64) or the MPIDR affinity (aarch64).
std::size_t board::cpu_ids(uint64_t* out, std::size_t max) {
    std::size_t n = 0;
    if constexpr (kDeviceTree) {
        if (!tree.valid()) return 0;
        tree.for_each_node([&](fdt::Node node) {
            const char* type = tree.prop_string(node, "device_type");
            uint64_t id = 0, size = 0;
            if (n == max || !type || strcmp(type, "cpu") != 0 ||
                !platform::node_enabled(tree, node) || !tree.reg(node, 0, id, size))
                return;
            out[n++] = id;
        });
    }
    return n;
}

board::MemoryRange board::heap_range() {
    auto start = (reinterpret_cast<uintptr_t>(__image_end) + 4095) & ~uintptr_t{4095};
    uintptr_t end = ram_range.base + ram_range.size;
    // The device tree may sit above the image (riscv64: QEMU puts it near
    // the top of RAM); keep it intact for drivers that read it later.
    // Take the larger free side of it.
    auto dtb = reinterpret_cast<uintptr_t>(tree.blob());
    if (tree.valid() && dtb >= start && dtb < end) {
        uintptr_t below = dtb & ~uintptr_t{4095};
        uintptr_t above = (dtb + tree.size() + 4095) & ~uintptr_t{4095};
        if (end > above && end - above > below - start) start = above;
        else end = below;
    }
    if (end <= start) return {start, 0};
    return {start, end - start};
}

}  // namespace rtos
