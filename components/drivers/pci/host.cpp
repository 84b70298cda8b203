#include "drivers/pci/host.hpp"

#include <rtos/printk.hpp>

#include "drivers/pci/bus.hpp"

namespace pci {
namespace {

std::uint32_t be32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}

std::uint64_t cells(const std::uint8_t* p, unsigned n) {
    std::uint64_t v = 0;
    for (unsigned i = 0; i < n; ++i) v = v << 32 | be32(p + 4 * i);
    return v;
}

constexpr std::uint64_t k4GiB = 1ull << 32;
constexpr std::uint64_t kEcamBusSize = 1ull << 20;

// phys.hi of a PCI address (IEEE 1275 PCI binding): space code in bits 25:24,
// prefetchable in bit 30.
constexpr std::uint32_t kSpaceIo = 1, kSpaceMem32 = 2, kSpaceMem64 = 3;
constexpr std::uint32_t kPrefetchable = 1u << 30;

bool fits(std::uint64_t base, std::uint64_t size) { return size != 0 && base + size - 1 >= base; }

}  // namespace

bool parse_host_bridge(const fdt::Tree& tree, fdt::Node node, HostBridge& out) {
    out = HostBridge{};
    const char* name = tree.name(node);
    if (!tree.reg(node, 0, out.ecam_base, out.ecam_size) || out.ecam_size < kEcamBusSize ||
        !fits(out.ecam_base, out.ecam_size)) {
        rtos::printk("pci: %s: no usable ECAM window in reg, host bridge ignored\n", name);
        return false;
    }
    std::size_t len = 0;
    std::uint32_t first = 0, last = 255;
    if (auto* p = static_cast<const std::uint8_t*>(tree.prop(node, "bus-range", &len)); p && len == 8) {
        first = be32(p);
        last = be32(p + 4);
    }
    if (first > 255 || last > 255 || last < first) {
        rtos::printk("pci: %s: bad bus-range %u-%u, host bridge ignored\n", name, first, last);
        return false;
    }
    // The ECAM window covers one MiB per bus, from bus 'first'.
    std::uint64_t buses = out.ecam_size / kEcamBusSize;
    if (last - first + 1 > buses) last = first + static_cast<std::uint32_t>(buses) - 1;
    out.bus_first = static_cast<std::uint8_t>(first);
    out.bus_last = static_cast<std::uint8_t>(last);

    // ranges: <child address (3 cells) parent address (parent's #address-cells) size (#size-cells)>
    std::uint32_t child_ac = 3, size_c = 2;
    tree.prop_u32(node, "#address-cells", child_ac);
    tree.prop_u32(node, "#size-cells", size_c);
    const unsigned parent_ac = node.addr_cells;
    auto* r = static_cast<const std::uint8_t*>(tree.prop(node, "ranges", &len));
    if (child_ac != 3 || size_c == 0 || size_c > 2 || parent_ac == 0 || parent_ac > 2) {
        rtos::printk("pci: %s: unexpected cell sizes, host bridge ignored\n", name);
        return false;
    }
    const std::size_t entry = 4 * (child_ac + parent_ac + size_c);
    for (std::size_t off = 0; r && off + entry <= len; off += entry) {
        const std::uint8_t* e = r + off;
        std::uint32_t hi = be32(e);
        Window w;
        w.present = true;
        w.prefetchable = hi & kPrefetchable;
        w.bus_base = cells(e + 4, 2);
        w.cpu_base = cells(e + 12, parent_ac);
        w.size = cells(e + 12 + 4 * parent_ac, size_c);
        std::uint32_t space = hi >> 24 & 3;
        Window* slot = space == kSpaceIo ? &out.io : space == kSpaceMem32 ? &out.mem
                     : space == kSpaceMem64 ? &out.mem64 : nullptr;
        if (!slot || slot->present || !fits(w.bus_base, w.size) || !fits(w.cpu_base, w.size) ||
            (space != kSpaceMem64 && w.bus_base + w.size > k4GiB)) {
            rtos::printk("pci: %s: ranges entry %u (%#x) ignored\n", name,
                         static_cast<unsigned>(off / entry), hi);
            continue;
        }
        // No BAR at I/O address 0: many devices and drivers read 0 as "unassigned".
        if (space == kSpaceIo && w.bus_base == 0) w.used = w.size > 0x1000 ? 0x1000 : w.size;
        *slot = w;
    }
    if (!out.io.present && !out.mem.present && !out.mem64.present)
        rtos::printk("pci: %s: no windows in ranges, BARs stay unassigned\n", name);
    return true;
}

void log_host_bridge(const HostBridge& host) {
    rtos::printk("pci: ecam @0x%llx buses %02x-%02x", static_cast<unsigned long long>(host.ecam_base),
                 host.bus_first, host.bus_last);
    const struct {
        const char* name;
        const Window& w;
    } windows[] = {{"io", host.io}, {"mem", host.mem}, {"mem64", host.mem64}};
    for (const auto& [wname, w] : windows) {
        if (!w.present) continue;
        rtos::printk(" %s 0x%llx+0x%llx%s", wname, static_cast<unsigned long long>(w.cpu_base),
                     static_cast<unsigned long long>(w.size), w.prefetchable ? " pref" : "");
        if (w.bus_base != w.cpu_base)
            rtos::printk(" (bus 0x%llx)", static_cast<unsigned long long>(w.bus_base));
    }
    rtos::printk("\n");
}

bool DeviceTreeIrqRouter::route(const Address& a, std::uint8_t pin, unsigned& irq) {
    // The child unit address is phys.hi/mid/lo with bus, device and function
    // in phys.hi (bits 23:16, 15:11, 10:8); the map's mask picks what matters.
    const std::uint32_t unit[3] = {std::uint32_t{a.bus} << 16 | std::uint32_t{a.device} << 11 |
                                       std::uint32_t{a.function} << 8, 0, 0};
    const std::uint32_t spec[1] = {pin};
    std::uint32_t out = 0;
    if (!tree_.map_interrupt(node_, unit, 3, spec, 1, out)) return false;
    irq = out;
    return true;
}

namespace {

// A BAR waiting for space: sized, not yet placed.
struct Request {
    Function* f;
    std::uint8_t index;
    Bar::Kind kind;
    bool prefetchable;
    std::uint64_t size;
};

constexpr unsigned kMaxRequests = kMaxFunctions * Function::kBars;

// Sizes BAR i of f (decoding is off): the bits that stay zero after writing
// all ones give the size. Appends a request; returns how many BAR slots it
// took (2 for a 64-bit BAR).
unsigned size_bar(Function& f, unsigned i, Request* reqs, unsigned& count) {
    ConfigSpace& c = *f.config;
    const auto off = static_cast<std::uint16_t>(reg::bar0 + 4 * i);
    char bdf[8];
    format_address(f.address, bdf, sizeof bdf);
    std::uint32_t orig = c.read32(off);
    c.write32(off, ~0u);
    std::uint32_t lo = c.read32(off);
    c.write32(off, orig);
    if (lo == 0 || lo == ~0u) return 1;  // not implemented (or the function vanished)
    Request r{&f, static_cast<std::uint8_t>(i), Bar::Kind::io, false, 0};
    unsigned slots = 1;
    std::uint64_t mask;
    if (lo & 1) {
        mask = lo & ~3ull;
        if (!(mask >> 16)) mask |= 0xffff0000u;  // 16-bit I/O decoder
        mask |= ~0ull << 32;
    } else {
        std::uint32_t type = lo >> 1 & 3;
        r.prefetchable = lo & 8;
        if (type == 0) {
            r.kind = Bar::Kind::memory32;
            mask = (lo & ~0xfull) | ~0ull << 32;
        } else if (type == 2 && i + 1 < Function::kBars) {
            r.kind = Bar::Kind::memory64;
            slots = 2;
            const auto hoff = static_cast<std::uint16_t>(off + 4);
            std::uint32_t orig_hi = c.read32(hoff);
            c.write32(hoff, ~0u);
            std::uint32_t hi = c.read32(hoff);
            c.write32(hoff, orig_hi);
            mask = std::uint64_t{hi} << 32 | (lo & ~0xfull);
        } else if (type == 2) {
            rtos::printk("pci %s: bar %u is 64-bit but the last one, ignored\n", bdf, i);
            return 1;
        } else {
            rtos::printk("pci %s: bar %u has reserved type %#x, ignored\n", bdf, i, lo & 0xf);
            return 1;
        }
    }
    r.size = ~mask + 1;
    if (mask == 0 || (r.size & (r.size - 1))) {
        rtos::printk("pci %s: bar %u reads back %#llx, not a size, ignored\n", bdf, i,
                     static_cast<unsigned long long>(mask));
        return slots;
    }
    if (count < kMaxRequests) reqs[count++] = r;
    return slots;
}

// Places `size` bytes (a power of two) naturally aligned in w; false if it does not fit.
bool allocate(Window& w, std::uint64_t size, bool below_4g, std::uint64_t& bus_address) {
    if (!w.present) return false;
    std::uint64_t start = w.bus_base + w.used;
    std::uint64_t aligned = (start + size - 1) & ~(size - 1);
    if (aligned < start || aligned - w.bus_base > w.size || size > w.size - (aligned - w.bus_base))
        return false;
    if (below_4g && (aligned >= k4GiB || size > k4GiB - aligned)) return false;
    bus_address = aligned;
    w.used = aligned - w.bus_base + size;
    return true;
}

void place(HostBridge& host, const Request& r, std::uint16_t& failed_decoders) {
    Bar& bar = r.f->bar[r.index];
    std::uint64_t addr = 0;
    Window* w = nullptr;
    if (r.kind == Bar::Kind::io) {
        if (allocate(host.io, r.size, true, addr)) w = &host.io;
    } else if (r.kind == Bar::Kind::memory64 && allocate(host.mem64, r.size, false, addr)) {
        w = &host.mem64;
    } else if (allocate(host.mem, r.size, true, addr)) {
        w = &host.mem;
    }
    if (!w) {
        char bdf[8];
        rtos::printk("pci %s: bar %u %s%s size %#llx fits no window, left unassigned (%s decoding off)\n",
                     format_address(r.f->address, bdf, sizeof bdf), r.index, bar_kind_name(r.kind),
                     r.prefetchable ? " pref" : "", static_cast<unsigned long long>(r.size),
                     r.kind == Bar::Kind::io ? "I/O" : "memory");
        failed_decoders |= r.kind == Bar::Kind::io ? command::io : command::memory;
        return;
    }
    bar.kind = r.kind;
    bar.prefetchable = r.prefetchable;
    bar.size = r.size;
    bar.bus_address = addr;
    bar.cpu_address = static_cast<std::uintptr_t>(w->cpu_base + (addr - w->bus_base));
    ConfigSpace& c = *r.f->config;
    const auto off = static_cast<std::uint16_t>(reg::bar0 + 4 * r.index);
    c.write32(off, static_cast<std::uint32_t>(addr));
    if (r.kind == Bar::Kind::memory64) c.write32(static_cast<std::uint16_t>(off + 4), static_cast<std::uint32_t>(addr >> 32));
}

// Reads the identity of a present function into a new table entry.
Function* add_function(ConfigSpace& c, const Address& a) {
    Function* f = new_function();
    char bdf[8];
    if (!f) {
        rtos::printk("pci %s: more than %u functions, ignored\n", format_address(a, bdf, sizeof bdf),
                     kMaxFunctions);
        return nullptr;
    }
    f->address = a;
    f->config = &c;
    f->vendor_id = c.read16(reg::vendor_id);
    f->device_id = c.read16(reg::device_id);
    f->revision = c.read8(reg::revision);
    f->class_code = c.read32(reg::revision) >> 8;
    f->interrupt_pin = c.read8(reg::interrupt_pin);
    return f;
}

}  // namespace

unsigned enumerate(HostBridge& host, ConfigAccess& access, IrqRouter& router) {
    static Request reqs[kMaxRequests];  // too big for a start-up stack
    unsigned nreq = 0;
    Function* found[kMaxFunctions];
    unsigned count = 0;
    const std::uint8_t bus = host.bus_first;
    char bdf[8];
    for (std::uint8_t dev = 0; dev < 32; ++dev) {
        for (std::uint8_t fn = 0; fn < 8; ++fn) {
            ConfigSpace* c = access.function(bus, dev, fn);
            if (!c) break;
            std::uint16_t vendor = c->read16(reg::vendor_id);
            if (vendor == 0xffff || vendor == 0) {
                if (fn == 0) break;  // no device
                continue;
            }
            std::uint8_t header = c->read8(reg::header_type);
            Function* f = add_function(*c, {bus, dev, fn});
            if (!f) return count;
            found[count++] = f;
            if ((header & 0x7f) == 0) {
                f->subsystem_vendor_id = c->read16(reg::subsystem_vendor_id);
                f->subsystem_id = c->read16(reg::subsystem_id);
                // Decoding off while the BARs are sized and moved.
                c->write16(reg::command, c->read16(reg::command) & ~(command::io | command::memory));
                for (unsigned i = 0; i < Function::kBars;) i += size_bar(*f, i, reqs, nreq);
            } else {
                rtos::printk("pci %s: header type %#x (bridge), buses behind it are not enumerated\n",
                             format_address(f->address, bdf, sizeof bdf), header & 0x7f);
            }
            if (fn == 0 && !(header & 0x80)) break;  // single-function device
        }
    }
    // Largest first: with power-of-two sizes every BAR lands naturally
    // aligned right after the previous one, without holes.
    for (unsigned i = 1; i < nreq; ++i)
        for (unsigned j = i; j > 0 && reqs[j - 1].size < reqs[j].size; --j) {
            Request t = reqs[j];
            reqs[j] = reqs[j - 1];
            reqs[j - 1] = t;
        }
    std::uint16_t failed[kMaxFunctions] = {};
    for (unsigned i = 0; i < nreq; ++i) {
        unsigned k = 0;
        while (found[k] != reqs[i].f) ++k;
        place(host, reqs[i], failed[k]);
    }
    for (unsigned k = 0; k < count; ++k) {
        Function& f = *found[k];
        std::uint16_t decode = 0;
        for (Bar& b : f.bar) {
            std::uint16_t bit = b.kind == Bar::Kind::io ? command::io : command::memory;
            if (b.kind == Bar::Kind::none) continue;
            if (failed[k] & bit) b = Bar{};  // unusable: the decoder stays off
            else decode |= bit;
        }
        if (decode) enable(f, decode);
        format_address(f.address, bdf, sizeof bdf);
        if (f.interrupt_pin >= 1 && f.interrupt_pin <= 4) {
            f.has_irq = router.route(f.address, f.interrupt_pin, f.irq);
            if (f.has_irq) f.config->write8(reg::interrupt_line, static_cast<std::uint8_t>(f.irq));
            else rtos::printk("pci %s: INT%c has no route in the interrupt-map\n", bdf, 'A' + f.interrupt_pin - 1);
        } else if (f.interrupt_pin != 0) {
            rtos::printk("pci %s: interrupt pin %u is invalid, ignored\n", bdf, f.interrupt_pin);
            f.interrupt_pin = 0;
        }
        if (f.has_irq)
            rtos::printk("pci %s %04x:%04x class %06x irq %u\n", bdf, f.vendor_id, f.device_id,
                         static_cast<unsigned>(f.class_code), f.irq);
        else
            rtos::printk("pci %s %04x:%04x class %06x irq -\n", bdf, f.vendor_id, f.device_id,
                         static_cast<unsigned>(f.class_code));
    }
    return count;
}

}  // namespace pci
