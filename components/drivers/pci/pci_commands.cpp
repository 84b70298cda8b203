// `lspci`: the functions the host bridge enumerated, with what it assigned;
// `pci read|write`: a 32-bit access inside an assigned BAR, through the
// CPU's view of the window. Their output is a contract the system tests rely
// on (docs/pci.md).
#include <rtos/printk.hpp>
#include <rtos/string.hpp>

#include "drivers/mmio.hpp"

#include "drivers/pci/bus.hpp"
#include "shell/shell.hpp"

namespace pci {
namespace {

int lspci(int argc, char**) {
    if (argc != 1) return rtos::shell::kUsage;
    if (functions_begin() == functions_end()) {
        rtos::printk("lspci: no PCI functions\n");
        return 0;
    }
    char bdf[8];
    for (const Function* f = functions_begin(); f != functions_end(); ++f) {
        rtos::printk("%s %04x:%04x class %06x", format_address(f->address, bdf, sizeof bdf),
                     f->vendor_id, f->device_id, static_cast<unsigned>(f->class_code));
        if (f->interrupt_pin == 0) rtos::printk(" pin - irq -");
        else if (f->has_irq) rtos::printk(" pin %c irq %u", 'A' + f->interrupt_pin - 1, f->irq);
        else rtos::printk(" pin %c irq -", 'A' + f->interrupt_pin - 1);
        if (f->msix_vectors) rtos::printk(" msix %u", f->msix_vectors);
        rtos::printk(" driver %s\n", f->driver ? f->driver : "-");
        for (unsigned i = 0; i < Function::kBars; ++i) {
            const Bar& b = f->bar[i];
            if (b.kind == Bar::Kind::none) continue;
            rtos::printk("  bar%u %s%s 0x%llx size 0x%llx\n", i, bar_kind_name(b.kind),
                         b.prefetchable ? " pref" : "",
                         static_cast<unsigned long long>(b.bus_address),
                         static_cast<unsigned long long>(b.size));
        }
    }
    return 0;
}

// "00:02.0" -> the function, or null.
const Function* find_function(const char* text) {
    char bdf[8];
    for (const Function* f = functions_begin(); f != functions_end(); ++f)
        if (strcmp(format_address(f->address, bdf, sizeof bdf), text) == 0) return f;
    return nullptr;
}

int pci_command(int argc, char** argv) {
    bool write = argc == 6 && strcmp(argv[1], "write") == 0;
    if (!write && !(argc == 5 && strcmp(argv[1], "read") == 0)) return rtos::shell::kUsage;
    const Function* f = find_function(argv[2]);
    unsigned long long index, offset, value = 0;
    if (!f) {
        rtos::printk("pci: no function %s (see lspci)\n", argv[2]);
        return 1;
    }
    if (!rtos::shell::parse_u64(argv[3], index) || !rtos::shell::parse_u64(argv[4], offset) ||
        (write && (!rtos::shell::parse_u64(argv[5], value) || value > 0xffffffffull)))
        return rtos::shell::kUsage;
    const Bar* bar = index < Function::kBars ? &f->bar[index] : nullptr;
    if (!bar || bar->kind == Bar::Kind::none) {
        rtos::printk("pci: %s has no assigned bar %llu\n", argv[2], index);
        return 1;
    }
    if ((offset & 3) || offset >= bar->size || bar->size - offset < 4) {
        rtos::printk(
            "pci: offset %#llx is not an aligned 32-bit word inside bar %llu (size %#llx)\n",
            offset, index, static_cast<unsigned long long>(bar->size));
        return 1;
    }
    std::uintptr_t addr = bar->cpu_address + static_cast<std::uintptr_t>(offset);
    if (write) rtos::mmio::write32(addr, static_cast<std::uint32_t>(value));
    else value = rtos::mmio::read32(addr);
    rtos::printk("pci %s bar%llu+0x%llx %s 0x%08llx\n", argv[2], index, offset, write ? "<-" : "=",
                 value);
    return 0;
}

SHELL_COMMAND(lspci, "", "PCI functions: address, ids, class, interrupt, driver, assigned BARs",
              lspci);
SHELL_COMMAND(pci, "read <bdf> <bar> <offset> | write <bdf> <bar> <offset> <value>",
              "32-bit read or write inside an assigned BAR", pci_command);

}  // namespace
}  // namespace pci
