// Fuzz target: the device-tree reader and the board-device binding.
//
// The device-tree reader (components/fdt) and the board-device
// binding built on it (components/platform/device.cpp). The input is the
// blob itself; the target walks every node and property the board code
// reads (names, compatible lists, reg with the parent's cell sizes,
// interrupts with the controller's cells, interrupt-map translation,
// phandles, paths, /chosen/stdout-path) and binds the three board device
// classes to stand-in drivers. Checked: every string handed out ends inside
// the blob, every property lies inside it, and nothing reads outside
// (AddressSanitizer: the blob is copied into a buffer of exactly its size).
#include <cstring>
#include <vector>

#include "fdt/fdt.hpp"
#include "harness.hpp"
#include "platform/device.hpp"

namespace {

using rtos::platform::DeviceClass;

const std::uint8_t* g_lo = nullptr;
const std::uint8_t* g_hi = nullptr;

bool inside(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    return b >= g_lo && b <= g_hi && n <= static_cast<std::size_t>(g_hi - b);
}
// A string the reader hands out: NUL-terminated inside the blob.
void check_string(const char* s) {
    if (s == nullptr) return;
    if (!inside(s, 1)) return FUZZ_CHECK(s[0] == '\0');  // the reader's own ""

    FUZZ_CHECK(std::memchr(s, 0,
                           static_cast<std::size_t>(
                               g_hi - reinterpret_cast<const std::uint8_t*>(s))) != nullptr);
}

bool take(const rtos::platform::Device& d) {
    check_string(d.compatible);
    FUZZ_CHECK(d.reg_count <= rtos::platform::Device::kMaxRegs);
    return d.reg_count > 0 && (d.reg[0].base & 1) == 0;  // refuse some, like a picky driver
}
const char* const kPower[] = {"sifive,test1", "syscon", nullptr};
const char* const kIrq[] = {"sifive,plic-1.0.0", "riscv,plic0",        "arm,gic-400",
                            "arm,gic-v3",        "arm,cortex-a15-gic", nullptr};
const char* const kConsole[] = {"ns16550a", "arm,pl011", nullptr};
const rtos::platform::DeviceDriver kDrivers[] = {
    {"power", DeviceClass::power, kPower, take},
    {"irq", DeviceClass::interrupt_controller, kIrq, take},
    {"uart", DeviceClass::console, kConsole, take},
};

const char* const kProps[] = {
    "compatible",     "reg",           "interrupts",         "interrupt-parent",
    "#address-cells", "#size-cells",   "#interrupt-cells",   "phandle",
    "status",         "interrupt-map", "interrupt-map-mask", "ranges",
    "bus-range",      "msi-parent",    "stdout-path",        "device_type"};
const char* const kPaths[] = {"/chosen", "/soc/serial@10000000", "/a/b/c/d/e/f/g/h", "//"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::begin_input();
    // malloc: aligned like a real blob (16 bytes) and exactly `size` long,
    // so AddressSanitizer sees any read past the end.
    auto* blob = static_cast<std::uint8_t*>(std::malloc(size ? size : 1));
    if (size) std::memcpy(blob, data, size);
    g_lo = blob;
    g_hi = blob + size;
    fdt::Tree t;
    if (t.init(blob, size)) {
        FUZZ_CHECK(t.size() <= size);
        // Every node cheaply; thoroughly the first few and those with what
        // the board reads (interrupts, interrupt-map, a parent): lookups walk
        // the whole tree, so all of them for every node would be quadratic.
        unsigned nodes = 0, deep = 0;
        t.for_each_node([&](fdt::Node n) {
            ++nodes;
            check_string(t.name(n));
            std::size_t len = 0;
            const void* v = t.prop(n, "compatible", &len);
            if (v) FUZZ_CHECK(inside(v, len));
            std::uint64_t a = 0, s = 0;
            (void)t.reg(n, 0, a, s);
            const bool irqs = t.prop(n, "interrupts") != nullptr;
            const bool map = t.prop(n, "interrupt-map") != nullptr;
            if (deep >= 4 || (nodes > 2 && !irqs && !map)) return;
            ++deep;
            for (const char* p : kProps) {
                v = t.prop(n, p, &len);
                if (v) FUZZ_CHECK(inside(v, len));
                check_string(t.prop_string(n, p));
                std::uint32_t u = 0;
                (void)t.prop_u32(n, p, u);
            }
            (void)t.is_compatible(n, "ns16550a");
            for (unsigned i = 1; i < 3; ++i) (void)t.reg(n, i, a, s);
            std::uint32_t irq = 0;
            if (irqs) (void)t.interrupt(n, deep % 2, irq);
            const std::uint32_t unit[3] = {0x800, 0, 0}, spec[4] = {1, 2, 3, 4};
            if (map) {
                (void)t.map_interrupt(n, unit, 3, spec, 1, irq);
                (void)t.map_interrupt(n, unit, 2, spec, 3, irq);
            }
            (void)t.find_child_compatible(n, "arm,gic-v2m-frame");
            (void)rtos::platform::node_enabled(t, n);
        });
        for (const char* p : kPaths) (void)t.find_path(p);
        unsigned k = 0;
        for (fdt::Node n = t.find_compatible("virtio,mmio"); n.valid() && k < 4;
             n = t.find_compatible("virtio,mmio", n))
            ++k;
        (void)rtos::platform::stdout_node(t);
        for (auto cls :
             {DeviceClass::power, DeviceClass::interrupt_controller, DeviceClass::console})
            (void)rtos::platform::bind(t, cls, kDrivers, {});
    }
    std::free(blob);
    return 0;
}
