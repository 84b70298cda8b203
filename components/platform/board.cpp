// The board layer shared by every QEMU virt BSP: everything comes from the
// device tree, with the BSP's Kconfig values as the fallback. Differences
// between boards are only which drivers Kconfig selected.
#include <rtos/board.hpp>
#include <rtos/config.hpp>
#include <rtos/irq.hpp>
#include <rtos/printk.hpp>

#include "arch/port.hpp"
#include "drivers/serial/uart.hpp"
#include "platform.hpp"
#if defined(CONFIG_DRIVER_PLIC)
#include "drivers/irq/plic.hpp"
#endif
#if defined(CONFIG_DRIVER_GIC)
#include "drivers/irq/gic.hpp"
#endif
#if defined(CONFIG_ARCH_RISCV64)
#include "arch/riscv64/test_finisher.hpp"
#endif

extern "C" char __image_start[], __image_end[];

namespace rtos {
namespace {

fdt::Tree tree;
board::MemoryRange ram_range{CONFIG_PLATFORM_RAM_BASE, CONFIG_PLATFORM_RAM_SIZE};

#if defined(CONFIG_DRIVER_NS16550)
const drivers::ConsoleUart& console_uart = drivers::ns16550_uart;
constexpr const char* kUartCompatible = "ns16550a";
#elif defined(CONFIG_DRIVER_PL011)
const drivers::ConsoleUart& console_uart = drivers::pl011_uart;
constexpr const char* kUartCompatible = "arm,pl011";
#else
#error "the board needs a console UART driver (CONFIG_DRIVER_NS16550 or CONFIG_DRIVER_PL011)"
#endif

const void* locate_device_tree(uintptr_t boot_arg) {
    fdt::Tree probe;
    if (boot_arg && probe.init(reinterpret_cast<const void*>(boot_arg))) return probe.blob();
    if (CONFIG_PLATFORM_DTB_SEARCH_ADDR &&
        probe.init(reinterpret_cast<const void*>(uintptr_t{CONFIG_PLATFORM_DTB_SEARCH_ADDR})))
        return probe.blob();
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
}

// riscv64: QEMU's test finisher, so that a panic ends QEMU with a failure
// status (see arch/riscv64/test_finisher.hpp).
void probe_test_finisher() {
#if defined(CONFIG_ARCH_RISCV64)
    uint64_t base, size;
    fdt::Node n = tree.find_compatible("sifive,test0");
    if (n.valid() && tree.reg(n, 0, base, size))
        arch::riscv::set_test_finisher(static_cast<uintptr_t>(base));
#endif
}

irq::Controller* probe_interrupt_controller() {
    uint64_t a = 0, s = 0;
#if defined(CONFIG_DRIVER_PLIC)
    fdt::Node n = tree.find_compatible("riscv,plic0");
    if (!n.valid()) n = tree.find_compatible("sifive,plic-1.0.0");
    uint32_t sources = 95;
    uintptr_t base = CONFIG_PLATFORM_PLIC_BASE;
    if (n.valid() && tree.reg(n, 0, a, s)) base = static_cast<uintptr_t>(a);
    if (n.valid()) tree.prop_u32(n, "riscv,ndev", sources);
    return drivers::plic_init(base, sources);
#elif defined(CONFIG_DRIVER_GIC)
    uintptr_t dist = CONFIG_PLATFORM_GIC_DIST_BASE;
    uint64_t b = 0;
#if !defined(CONFIG_DRIVER_GIC_V2)
    fdt::Node v3 = tree.find_compatible("arm,gic-v3");
#if defined(CONFIG_DRIVER_GIC_V3)
    bool use_v3 = true;
#else
    bool use_v3 = v3.valid();
#endif
    if (use_v3) {
        uintptr_t redist = CONFIG_PLATFORM_GIC_REDIST_BASE;
        if (v3.valid() && tree.reg(v3, 0, a, s) && tree.reg(v3, 1, b, s)) {
            dist = static_cast<uintptr_t>(a);
            redist = static_cast<uintptr_t>(b);
        }
        return drivers::gic_v3_init(dist, redist);
    }
#endif
#if defined(CONFIG_DRIVER_GIC_V3)
    return nullptr;  // not reached: use_v3 is always true
#endif
#if !defined(CONFIG_DRIVER_GIC_V3)
    fdt::Node v2 = tree.find_compatible("arm,cortex-a15-gic");
    if (!v2.valid()) v2 = tree.find_compatible("arm,gic-400");
    uintptr_t cpu = CONFIG_PLATFORM_GIC_CPU_BASE;
    if (v2.valid() && tree.reg(v2, 0, a, s) && tree.reg(v2, 1, b, s)) {
        dist = static_cast<uintptr_t>(a);
        cpu = static_cast<uintptr_t>(b);
    }
    return drivers::gic_v2_init(dist, cpu);
#endif
#else
#error "the board needs an interrupt controller driver (CONFIG_DRIVER_PLIC or CONFIG_DRIVER_GIC)"
#endif
}

// The console UART named by /chosen/stdout-path, else the first compatible one.
fdt::Node find_console_node() {
    fdt::Node chosen = tree.find_path("/chosen");
    if (const char* path = tree.prop_string(chosen, "stdout-path")) {
        char buf[128];
        std::size_t i = 0;
        for (; path[i] && path[i] != ':' && i + 1 < sizeof(buf); ++i) buf[i] = path[i];
        buf[i] = '\0';
        fdt::Node n = buf[0] == '/' ? tree.find_path(buf) : fdt::Node{};
        if (n.valid()) return n;
    }
    return tree.find_compatible(kUartCompatible);
}

void probe_console() {
    unsigned irq_num = CONFIG_PLATFORM_UART_IRQ;
    fdt::Node n = find_console_node();
    uint64_t base = 0, size = 0;
    uint32_t v;
    if (n.valid() && tree.reg(n, 0, base, size) && base != CONFIG_PLATFORM_UART_BASE) {
        // Firmware put the console elsewhere: move to it.
        uint32_t shift = 0;
        tree.prop_u32(n, "reg-shift", shift);
        console_uart.init({static_cast<uintptr_t>(base), 0, CONFIG_PLATFORM_UART_BAUD, shift});
    }
    if (n.valid() && tree.interrupt(n, 0, v)) irq_num = v;
    if (!console_uart.enable_rx(irq_num))
        printk("board: console input interrupt %u could not be attached\n", irq_num);
}

}  // namespace

const fdt::Tree& platform::device_tree() { return tree; }

void board::early_init() {
    console_uart.init({CONFIG_PLATFORM_UART_BASE, 0, CONFIG_PLATFORM_UART_BAUD, 0});
}

void board::init(uintptr_t boot_arg) {
    if (const void* dtb = locate_device_tree(boot_arg); dtb && tree.init(dtb)) {
        printk("board: device tree at %p (%zu bytes)\n", dtb, tree.size());
    } else {
        printk("board: no device tree found, using Kconfig defaults\n");
    }
    probe_memory();
    probe_test_finisher();
    irq::Controller* ctrl = probe_interrupt_controller();
    irq::set_controller(ctrl);
    printk("board: interrupt controller %s\n", ctrl->name());
    probe_console();
}

board::MemoryRange board::ram() { return ram_range; }

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
