// Matching board devices to registered drivers (device.hpp). Portable: the
// host tests run it against QEMU's own device trees.
#include "platform/device.hpp"

#include <rtos/config.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>

namespace rtos::platform {

bool node_enabled(const fdt::Tree& tree, fdt::Node n) {
    const char* status = tree.prop_string(n, "status");
    return !status || strcmp(status, "okay") == 0 || strcmp(status, "ok") == 0;
}

namespace {

bool try_probe(const DeviceDriver* d, const Device& dev) {
    if (!d) return false;
    if (!d->probe(dev)) return false;
    printk("board: %s @%#llx (%s, %s)\n", d->name,
           static_cast<unsigned long long>(dev.reg_count ? dev.reg[0].base : 0), dev.compatible,
           dev.name);
    return true;
}

}  // namespace

uint32_t Device::prop_u32(const char* prop, uint32_t fallback) const {
#if defined(CONFIG_PLATFORM_USE_DEVICE_TREE)
    uint32_t v;
    return tree && tree->prop_u32(node, prop, v) ? v : fallback;
#else
    (void)prop;
    return fallback;  // every device is a fallback one: no device-tree code linked in
#endif
}

const DeviceDriver* find_driver(Drivers drivers, DeviceClass cls, const char* compatible) {
    for (const DeviceDriver& d : drivers) {
        if (d.device_class != cls) continue;
        for (const char* const* c = d.compatible; *c; ++c)
            if (strcmp(*c, compatible) == 0) return &d;
    }
    return nullptr;
}

const DeviceDriver* match_node(const fdt::Tree& tree, fdt::Node n, DeviceClass cls, Drivers drivers,
                               Device& dev) {
    std::size_t len = 0;
    auto* list = static_cast<const char*>(tree.prop(n, "compatible", &len));
    if (!list || len == 0 || list[len - 1] != '\0') return nullptr;
    const DeviceDriver* driver = nullptr;
    for (std::size_t i = 0; i < len && !driver; i += strlen(list + i) + 1) {
        driver = find_driver(drivers, cls, list + i);
        if (driver) dev.compatible = list + i;
    }
    if (!driver) return nullptr;
    dev.name = tree.name(n);
    dev.tree = &tree;
    dev.node = n;
    dev.reg_count = 0;
    while (dev.reg_count < Device::kMaxRegs &&
           tree.reg(n, dev.reg_count, dev.reg[dev.reg_count].base, dev.reg[dev.reg_count].size))
        ++dev.reg_count;
    uint32_t irq;
    dev.has_irq = tree.interrupt(n, 0, irq);
    dev.irq = dev.has_irq ? irq : 0;
    return driver;
}

Device fallback_device(const FallbackDevice& f) {
    Device dev;
    dev.compatible = f.compatible;
    dev.name = "fallback";
    for (const Device::Range& r : f.reg) {
        if (!r.base && !r.size) break;
        dev.reg[dev.reg_count++] = r;
    }
    dev.has_irq = f.irq >= 0;
    dev.irq = dev.has_irq ? static_cast<unsigned>(f.irq) : 0;
    return dev;
}

fdt::Node stdout_node(const fdt::Tree& tree) {
    const char* path = tree.prop_string(tree.find_path("/chosen"), "stdout-path");
    if (!path || path[0] != '/') return {};  // absent, or an alias (not supported)
    char buf[128];
    std::size_t i = 0;
    for (; path[i] && path[i] != ':' && i + 1 < sizeof(buf); ++i) buf[i] = path[i];
    buf[i] = '\0';
    return tree.find_path(buf);
}

unsigned bind(const fdt::Tree& tree, DeviceClass cls, Drivers drivers,
              std::span<const FallbackDevice> fallback) {
    if (tree.valid()) {
        Device dev;
        fdt::Node tried;  // the console stdout-path names goes first
        if (cls == DeviceClass::console) {
            tried = stdout_node(tree);
            if (tried.valid() && node_enabled(tree, tried) &&
                try_probe(match_node(tree, tried, cls, drivers, dev), dev))
                return 1;
        }
        bool bound = false;
        tree.for_each_node([&](fdt::Node n) {
            if (!bound && n.offset != tried.offset && node_enabled(tree, n))
                bound = try_probe(match_node(tree, n, cls, drivers, dev), dev);
        });
        if (bound) return 1;
    }
    return bind_fallback(cls, drivers, fallback);
}

unsigned bind_fallback(DeviceClass cls, Drivers drivers, std::span<const FallbackDevice> fallback) {
    for (const FallbackDevice& f : fallback) {
        Device dev = fallback_device(f);
        if (try_probe(find_driver(drivers, cls, f.compatible), dev)) return 1;
    }
    return 0;
}

}  // namespace rtos::platform
