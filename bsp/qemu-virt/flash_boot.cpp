// Confirms a flash boot's slot B (flash/layout.hpp):
// the loader counts every boot of slot B in the boot state on pflash unit 1
// and falls back to slot A after kMaxTries unconfirmed ones; a kernel that
// got this far (every driver and application hook has run) is good, so it
// sets `confirmed` and the loader keeps booting slot B. The state is found
// through the device tree's cfi-flash node (its second bank is unit 1).
#include <rtos/config.hpp>
#include <rtos/init.hpp>
#include <rtos/printk.hpp>

#include "flash/layout.hpp"
#include "platform/platform.hpp"

namespace rtos {
namespace {

using namespace flash_layout;

void confirm_flash_boot() {
    const fdt::Tree& tree = platform::device_tree();
    if (!tree.valid()) return;
    // Unit 1 is the cfi-flash bank right after the lowest one (unit 0): QEMU
    // describes both in one node, or in two (aarch64 secure=on).
    uint64_t base[4] = {}, size[4] = {};
    unsigned banks = 0;
    for (fdt::Node n = tree.find_compatible("cfi-flash"); n.valid() && banks < 4;
         n = tree.find_compatible("cfi-flash", n)) {
        for (unsigned i = 0; banks < 4 && tree.reg(n, i, base[banks], size[banks]); ++i) ++banks;
    }
    unsigned unit0 = 0, unit1 = banks;
    for (unsigned i = 1; i < banks; ++i)
        if (base[i] < base[unit0]) unit0 = i;
    for (unsigned i = 0; i < banks; ++i)
        if (base[i] == base[unit0] + size[unit0]) unit1 = i;
    if (unit1 == banks || size[unit1] < sizeof(BootState)) return;
    auto& state = *reinterpret_cast<volatile BootState*>(static_cast<uintptr_t>(base[unit1]));
    if (state.magic != kStateMagic) return;  // not a flash boot with a boot state
    unsigned tries = tries_used(state);
    if (state.fallback == kSet) {
        printk("flash: running slot A; slot B failed %u tries\n", tries);
    } else if (state.confirmed == kSet) {
        printk("flash: running slot B (confirmed)\n");
    } else if (tries) {
        cfi_program(state.confirmed, kSet);
        printk("flash: slot B confirmed after try %u\n", tries);
    }
}

}  // namespace

RTOS_INIT(confirm_flash_boot, late);

}  // namespace rtos
