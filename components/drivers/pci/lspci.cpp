// `lspci`: the functions the host bridge enumerated, with what it assigned.
// Its output is a contract the system tests rely on (README.md, "PCI").
#include <rtos/printk.hpp>

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
        rtos::printk(" driver %s\n", f->driver ? f->driver : "-");
        for (unsigned i = 0; i < Function::kBars; ++i) {
            const Bar& b = f->bar[i];
            if (b.kind == Bar::Kind::none) continue;
            rtos::printk("  bar%u %s%s 0x%llx size 0x%llx\n", i, bar_kind_name(b.kind),
                         b.prefetchable ? " pref" : "", static_cast<unsigned long long>(b.bus_address),
                         static_cast<unsigned long long>(b.size));
        }
    }
    return 0;
}

SHELL_COMMAND(lspci, "", "PCI functions: address, ids, class, interrupt, driver, assigned BARs", lspci);

}  // namespace
}  // namespace pci
