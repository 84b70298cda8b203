// The `input` shell command: `input list` (devices and what they report) and
// `input watch` (one line per event until Ctrl-C), for people and for the
// system tests, which inject events from the host and compare the lines.
#include <rtos/clock.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>

#include "drivers/input/input.hpp"
#include "shell/shell.hpp"

namespace rtos {
namespace {

const char* type_name(unsigned type) {
    switch (type) {
    case input::EV_SYN: return "syn";
    case input::EV_KEY: return "key";
    case input::EV_REL: return "rel";
    case input::EV_ABS: return "abs";
    case input::EV_MSC: return "msc";
    case input::EV_SW: return "sw";
    case input::EV_LED: return "led";
    case input::EV_SND: return "snd";
    case input::EV_REP: return "rep";
    case input::EV_FF: return "ff";
    default: return nullptr;
    }
}

void list_device(const input::Device& d) {
    const input::Device::Ids& id = d.ids();
    printk("%s: \"%s\" at %s, %llu events, %llu errors\n", d.name(), d.product_name(), d.location(),
           static_cast<unsigned long long>(d.events()),
           static_cast<unsigned long long>(d.errors()));
    printk("  ids: bus 0x%04x vendor 0x%04x product 0x%04x version 0x%04x serial \"%s\"\n",
           id.bustype, id.vendor, id.product, id.version, d.serial());
    printk("  types: %#x", static_cast<unsigned>(d.types()));
    for (unsigned t = 0; t < input::kEventTypes; ++t) {
        if (!(d.types() >> t & 1)) continue;
        const char* n = type_name(t);
        if (n) printk(" %s", n);
        else printk(" %u", t);
    }
    printk("\n");
    if (d.props()) printk("  props: %#x\n", static_cast<unsigned>(d.props()));
    for (unsigned t = 1; t < input::kEventTypes; ++t) {
        if (!(d.types() >> t & 1)) continue;
        unsigned count = 0, first = 0, last = 0;
        for (unsigned c = 0; c < input::kMaxCodes; ++c) {
            if (!d.has_code(static_cast<std::uint16_t>(t), static_cast<std::uint16_t>(c))) continue;
            if (count++ == 0) first = c;
            last = c;
        }
        if (count == 0) continue;
        const char* n = type_name(t);
        if (count > 8) {  // keyboards: a summary, not 100 numbers
            printk("  %s codes: %u (%u..%u)\n", n ? n : "?", count, first, last);
            continue;
        }
        printk("  %s codes:", n ? n : "?");
        for (unsigned c = first; c <= last; ++c)
            if (d.has_code(static_cast<std::uint16_t>(t), static_cast<std::uint16_t>(c)))
                printk(" %u", c);
        printk("\n");
    }
    for (unsigned a = 0; a < input::kAbsAxes; ++a) {
        const input::AbsInfo* abs = d.abs(static_cast<std::uint16_t>(a));
        if (!abs) continue;
        printk("  abs %u: min %d max %d fuzz %d flat %d res %d\n", a, static_cast<int>(abs->min),
               static_cast<int>(abs->max), static_cast<int>(abs->fuzz), static_cast<int>(abs->flat),
               static_cast<int>(abs->res));
    }
}

int cmd_list() {
    if (input::device_count() == 0) {
        printk("input: no input devices\n");
        return 0;
    }
    for (unsigned i = 0; i < input::device_count(); ++i) list_device(*input::device(i));
    return 0;
}

// `only`: the one device to print, nullptr for all.
int cmd_watch(const input::Device* only) {
    input::Subscriber sub;
    if (only) printk("input: watching %s (Ctrl-C stops)\n", only->name());
    else printk("input: watching %u devices (Ctrl-C stops)\n", input::device_count());
    unsigned long long events = 0;
    while (!shell::interrupted()) {
        input::Event e;
        if (sub.read(e, Timeout::ticks(clock::ms_to_ticks(50))) != Status::ok) continue;
        const input::Device* d = input::device(e.device);
        if (only && d != only) continue;
        printk("input: %s %u %u %d\n", d ? d->name() : "?", e.type, e.code,
               static_cast<int>(e.value));
        ++events;
    }
    printk("input watch: %llu events, %llu dropped\n", events,
           static_cast<unsigned long long>(sub.dropped()));
    return shell::kInterrupted;
}

int cmd_input(int argc, char** argv) {
    if (argc == 2 && strcmp(argv[1], "list") == 0) return cmd_list();
    if (argc == 2 && strcmp(argv[1], "watch") == 0) return cmd_watch(nullptr);
    if (argc == 3 && strcmp(argv[1], "watch") == 0) {
        for (unsigned i = 0; i < input::device_count(); ++i)
            if (strcmp(input::device(i)->name(), argv[2]) == 0) return cmd_watch(input::device(i));
        printk("input: no input device named %s\n", argv[2]);
        return 1;
    }
    return shell::kUsage;
}

}  // namespace
}  // namespace rtos

SHELL_COMMAND(input, "list | watch [device]",
              "input devices (list) or their events as 'input: <dev> <type> <code> <value>' until "
              "Ctrl-C (watch)",
              rtos::cmd_input);
