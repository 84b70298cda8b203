#include "drivers/pci/host.hpp"

#include <new>

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
    if (auto* p = static_cast<const std::uint8_t*>(tree.prop(node, "bus-range", &len));
        p && len == 8) {
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
        Window* slot = space == kSpaceIo      ? &out.io
                       : space == kSpaceMem32 ? &out.mem
                       : space == kSpaceMem64 ? &out.mem64
                                              : nullptr;
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

    // msi-map: <rid-base msi-controller-phandle msi-base length>...
    if (auto* m = static_cast<const std::uint8_t*>(tree.prop(node, "msi-map", &len));
        m && len >= 16)
        out.msi = {true, be32(m), be32(m + 8), be32(m + 12)};
    else if (tree.prop(node, "msi-parent")) out.msi = {true, 0, 0, 0x10000};
    return true;
}

void log_host_bridge(const HostBridge& host) {
    rtos::printk("pci: ecam @0x%llx buses %02x-%02x",
                 static_cast<unsigned long long>(host.ecam_base), host.bus_first, host.bus_last);
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
    const std::uint32_t unit[3] = {
        std::uint32_t{a.bus} << 16 | std::uint32_t{a.device} << 11 | std::uint32_t{a.function} << 8,
        0, 0};
    const std::uint32_t spec[1] = {pin};
    std::uint32_t out = 0;
    if (!tree_.map_interrupt(node_, unit, 3, spec, 1, out)) return false;
    irq = out;
    return true;
}

namespace {

// Resource classes: where a BAR or a bridge window is placed. On the root
// bus `pref` is the host's 64-bit window (the 32-bit one when it has none
// or is full) and takes every 64-bit BAR; behind a bridge it is the
// bridge's prefetchable window and takes 64-bit prefetchable BARs.
enum Class : std::uint8_t { kIo, kMem, kPref };
constexpr unsigned kClasses = 3;
constexpr std::uint64_t kGranule[kClasses] = {0x1000, 0x100000, 0x100000};  // bridge windows
constexpr const char* kClassName[kClasses] = {"io", "mem", "pref"};

constexpr unsigned kMaxBridges = 16;
constexpr unsigned kMaxDepth = 8;

struct Bridge {
    Function* f;
    int parent;  ///< bridge index, -1 = the root bus
    bool pref64;
    Window window[kClasses];
};

// A BAR, or a bridge's window, waiting for space.
struct Request {
    Function* f;
    int owner;   ///< the bridge whose secondary bus holds it, -1 = root bus
    int bridge;  ///< >= 0: the window of this bridge, else BAR `index` of f
    std::uint8_t index;
    Bar::Kind kind;
    bool prefetchable;
    std::uint8_t cls;
    std::uint64_t size, align;
};

constexpr unsigned kMaxRequests = kMaxFunctions * Function::kBars + kMaxBridges * kClasses;

struct Scan {
    HostBridge& host;
    ConfigAccess& access;
    Request reqs[kMaxRequests];
    unsigned nreq = 0;
    Bridge bridges[kMaxBridges];
    unsigned nbridges = 0;
    Function* found[kMaxFunctions];
    int owner[kMaxFunctions];
    std::uint16_t failed[kMaxFunctions];  ///< decoders turned off (a BAR did not fit)
    unsigned count = 0;
    unsigned next_bus = 0;
    bool full = false;
    Scan(HostBridge& h, ConfigAccess& a) : host(h), access(a) {}
};

// Sizes BAR i of f (decoding is off): the bits that stay zero after writing
// all ones give the size. Appends a request; returns how many BAR slots it
// took (2 for a 64-bit BAR).
unsigned size_bar(Scan& s, Function& f, int owner, unsigned i, unsigned nbars) {
    ConfigSpace& c = *f.config;
    const auto off = static_cast<std::uint16_t>(reg::bar0 + 4 * i);
    char bdf[8];
    format_address(f.address, bdf, sizeof bdf);
    std::uint32_t orig = c.read32(off);
    c.write32(off, ~0u);
    std::uint32_t lo = c.read32(off);
    c.write32(off, orig);
    if (lo == 0 || lo == ~0u) return 1;  // not implemented (or the function vanished)
    Request r{&f, owner, -1, static_cast<std::uint8_t>(i), Bar::Kind::io, false, kIo, 0, 0};
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
        } else if (type == 2 && i + 1 < nbars) {
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
    r.size = r.align = ~mask + 1;
    if (mask == 0 || (r.size & (r.size - 1))) {
        rtos::printk("pci %s: bar %u reads back %#llx, not a size, ignored\n", bdf, i,
                     static_cast<unsigned long long>(mask));
        return slots;
    }
    if (r.kind == Bar::Kind::memory64 && (owner < 0 || (r.prefetchable && s.bridges[owner].pref64)))
        r.cls = kPref;
    else if (r.kind != Bar::Kind::io) r.cls = kMem;
    if (s.nreq < kMaxRequests) s.reqs[s.nreq++] = r;
    return slots;
}

// Places `size` bytes at `align` in w; false if it does not fit.
bool allocate(Window& w, std::uint64_t size, std::uint64_t align, bool below_4g,
              std::uint64_t& bus_address) {
    if (!w.present) return false;
    std::uint64_t start = w.bus_base + w.used;
    std::uint64_t aligned = (start + align - 1) & ~(align - 1);
    if (aligned < start || aligned - w.bus_base > w.size || size > w.size - (aligned - w.bus_base))
        return false;
    if (below_4g && (aligned >= k4GiB || size > k4GiB - aligned)) return false;
    bus_address = aligned;
    w.used = aligned - w.bus_base + size;
    return true;
}

Window* window_of(Scan& s, int owner, unsigned cls) {
    if (owner >= 0) return &s.bridges[owner].window[cls];
    return cls == kIo ? &s.host.io : cls == kMem ? &s.host.mem : &s.host.mem64;
}

unsigned index_of(const Scan& s, const Function* f) {
    unsigned k = 0;
    while (s.found[k] != f) ++k;
    return k;
}

void place(Scan& s, const Request& r) {
    std::uint64_t addr = 0;
    // Only a 64-bit BAR (or a prefetchable window) may land above 4 GiB.
    const bool below_4g = r.cls != kPref || (r.bridge >= 0 && !s.bridges[r.bridge].pref64);
    Window* w = window_of(s, r.owner, r.cls);
    if (!allocate(*w, r.size, r.align, below_4g, addr)) {
        w = r.cls == kPref ? window_of(s, r.owner, kMem) : nullptr;
        if (w && !allocate(*w, r.size, r.align, true, addr)) w = nullptr;
    }
    char bdf[8];
    format_address(r.f->address, bdf, sizeof bdf);
    if (r.bridge >= 0) {
        Window& sub = s.bridges[r.bridge].window[r.cls];
        if (!w) {
            rtos::printk(
                "pci %s: bridge %s window size %#llx fits no window, devices behind lose it\n", bdf,
                kClassName[r.cls], static_cast<unsigned long long>(r.size));
            return;
        }
        sub = Window{true, r.cls == kPref, w->cpu_base + (addr - w->bus_base), addr, r.size, 0};
        return;
    }
    if (!w) {
        rtos::printk(
            "pci %s: bar %u %s%s size %#llx fits no window, left unassigned (%s decoding off)\n",
            bdf, r.index, bar_kind_name(r.kind), r.prefetchable ? " pref" : "",
            static_cast<unsigned long long>(r.size), r.kind == Bar::Kind::io ? "I/O" : "memory");
        s.failed[index_of(s, r.f)] |= r.kind == Bar::Kind::io ? command::io : command::memory;
        return;
    }
    Bar& bar = r.f->bar[r.index];
    bar.kind = r.kind;
    bar.prefetchable = r.prefetchable;
    bar.size = r.size;
    bar.bus_address = addr;
    bar.cpu_address = static_cast<std::uintptr_t>(w->cpu_base + (addr - w->bus_base));
    ConfigSpace& c = *r.f->config;
    const auto off = static_cast<std::uint16_t>(reg::bar0 + 4 * r.index);
    c.write32(off, static_cast<std::uint32_t>(addr));
    if (r.kind == Bar::Kind::memory64)
        c.write32(static_cast<std::uint16_t>(off + 4), static_cast<std::uint32_t>(addr >> 32));
}

// Requests of `owner`, largest alignment first (stable): with power-of-two
// BAR sizes every one lands naturally aligned right after the previous.
unsigned sorted_requests(Scan& s, int owner, unsigned* out) {
    unsigned n = 0;
    for (unsigned i = 0; i < s.nreq; ++i) {
        if (s.reqs[i].owner != owner) continue;
        unsigned j = n++;
        for (; j > 0 && s.reqs[out[j - 1]].align < s.reqs[i].align; --j) out[j] = out[j - 1];
        out[j] = i;
    }
    return n;
}

// A bridge's windows: the space its secondary side needs per class, as one
// request on the parent's bus, aligned for the largest request inside.
void size_bridge_windows(Scan& s, int b) {
    static unsigned order[kMaxRequests];
    unsigned n = sorted_requests(s, b, order);
    for (unsigned cls = 0; cls < kClasses; ++cls) {
        std::uint64_t end = 0, align = kGranule[cls];
        for (unsigned k = 0; k < n; ++k) {
            const Request& r = s.reqs[order[k]];
            if (r.cls != cls) continue;
            end = ((end + r.align - 1) & ~(r.align - 1)) + r.size;
            if (r.align > align) align = r.align;
        }
        if (end == 0 || s.nreq == kMaxRequests) continue;
        std::uint64_t size = (end + kGranule[cls] - 1) & ~(kGranule[cls] - 1);
        const Bridge& br = s.bridges[b];
        // The parent passes a prefetchable window on in its own prefetchable
        // window only if that decodes 64-bit addresses too.
        std::uint8_t pcls = static_cast<std::uint8_t>(cls);
        if (cls == kPref && (br.parent >= 0 ? !s.bridges[br.parent].pref64 : !br.pref64))
            pcls = kMem;
        s.reqs[s.nreq++] =
            Request{br.f, br.parent, b, 0, Bar::Kind::none, cls == kPref, pcls, size, align};
    }
}

// Base/limit registers of a type-1 header (PCI-to-PCI Bridge 1.2, 3.2.5).
void program_bridge(const Bridge& br) {
    ConfigSpace& c = *br.f->config;
    const Window& io = br.window[kIo];
    const Window& mem = br.window[kMem];
    const Window& pref = br.window[kPref];
    if (io.present) {
        std::uint64_t last = io.bus_base + io.size - 1;
        c.write8(0x1c, static_cast<std::uint8_t>(io.bus_base >> 8 & 0xf0));
        c.write8(0x1d, static_cast<std::uint8_t>(last >> 8 & 0xf0));
        c.write16(0x30, static_cast<std::uint16_t>(io.bus_base >> 16));
        c.write16(0x32, static_cast<std::uint16_t>(last >> 16));
    } else {
        c.write8(0x1c, 0xf0);
        c.write8(0x1d, 0);
        c.write32(0x30, 0);
    }
    if (mem.present) {
        c.write16(0x20, static_cast<std::uint16_t>(mem.bus_base >> 16 & 0xfff0));
        c.write16(0x22, static_cast<std::uint16_t>((mem.bus_base + mem.size - 1) >> 16 & 0xfff0));
    } else {
        c.write16(0x20, 0xfff0);
        c.write16(0x22, 0);
    }
    if (pref.present) {
        std::uint64_t last = pref.bus_base + pref.size - 1;
        c.write16(0x24, static_cast<std::uint16_t>(pref.bus_base >> 16 & 0xfff0));
        c.write16(0x26, static_cast<std::uint16_t>(last >> 16 & 0xfff0));
        c.write32(0x28, br.pref64 ? static_cast<std::uint32_t>(pref.bus_base >> 32) : 0);
        c.write32(0x2c, br.pref64 ? static_cast<std::uint32_t>(last >> 32) : 0);
    } else {
        c.write16(0x24, 0xfff0);
        c.write16(0x26, 0);
        c.write32(0x28, 0);
        c.write32(0x2c, 0);
    }
}

// Reads the identity of a present function into a new table entry.
Function* add_function(ConfigSpace& c, const Address& a) {
    Function* f = new_function();
    char bdf[8];
    if (!f) {
        rtos::printk("pci %s: more than %u functions, ignored\n",
                     format_address(a, bdf, sizeof bdf), kMaxFunctions);
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

void scan_bus(Scan& s, std::uint8_t bus, int owner, unsigned depth);

// A type-1 header: the next bus number becomes its secondary bus, which is
// scanned; subordinate is the last bus found below.
void enter_bridge(Scan& s, Function& f, int owner, unsigned depth) {
    ConfigSpace& c = *f.config;
    char bdf[8];
    format_address(f.address, bdf, sizeof bdf);
    if (s.nbridges == kMaxBridges || depth == kMaxDepth || s.next_bus > s.host.bus_last) {
        rtos::printk("pci %s: bridge not entered (%s)\n", bdf,
                     s.next_bus > s.host.bus_last ? "no bus number left" : "too many bridges");
        program_bridge(Bridge{&f, owner, false, {}});  // windows closed: forwards nothing
        return;
    }
    const int b = static_cast<int>(s.nbridges++);
    Bridge& br = s.bridges[b];
    br = Bridge{&f, owner, (c.read16(0x24) & 0xf) == 1, {}};
    const auto secondary = static_cast<std::uint8_t>(s.next_bus++);
    c.write8(0x18, f.address.bus);
    c.write8(0x19, secondary);
    c.write8(0x1a, s.host.bus_last);  // while the buses below are scanned
    for (unsigned i = 0; i < 2;) i += size_bar(s, f, owner, i, 2);
    scan_bus(s, secondary, b, depth + 1);
    c.write8(0x1a, static_cast<std::uint8_t>(s.next_bus - 1));
}

void scan_bus(Scan& s, std::uint8_t bus, int owner, unsigned depth) {
    for (std::uint8_t dev = 0; dev < 32 && !s.full; ++dev) {
        for (std::uint8_t fn = 0; fn < 8; ++fn) {
            ConfigSpace* c = s.access.function(bus, dev, fn);
            if (!c) break;
            std::uint16_t vendor = c->read16(reg::vendor_id);
            if (vendor == 0xffff || vendor == 0) {
                if (fn == 0) break;  // no device
                continue;
            }
            std::uint8_t header = c->read8(reg::header_type);
            Function* f = add_function(*c, {bus, dev, fn});
            if (!f) {
                s.full = true;
                return;
            }
            s.owner[s.count] = owner;
            s.failed[s.count] = 0;
            s.found[s.count++] = f;
            // Decoding off while the BARs are sized and moved.
            c->write16(reg::command, c->read16(reg::command) & ~(command::io | command::memory));
            if ((header & 0x7f) == 0) {
                f->subsystem_vendor_id = c->read16(reg::subsystem_vendor_id);
                f->subsystem_id = c->read16(reg::subsystem_id);
                for (unsigned i = 0; i < Function::kBars;)
                    i += size_bar(s, *f, owner, i, Function::kBars);
            } else if ((header & 0x7f) == 1) {
                enter_bridge(s, *f, owner, depth);
            } else {
                char bdf[8];
                rtos::printk("pci %s: header type %#x not supported, no resources\n",
                             format_address(f->address, bdf, sizeof bdf), header & 0x7f);
            }
            if (fn == 0 && !(header & 0x80)) break;  // single-function device
        }
    }
}

// INTx behind bridges: each bridge rotates the pin by the device number
// below it (PCI-to-PCI Bridge 1.2, 9.1); the root bus uses the map.
bool route_intx(Scan& s, IrqRouter& router, unsigned k, unsigned& irq) {
    const Function* f = s.found[k];
    unsigned pin = f->interrupt_pin;
    Address at = f->address;
    for (int o = s.owner[k]; o >= 0; o = s.bridges[o].parent) {
        pin = (pin - 1 + at.device) % 4 + 1;
        at = s.bridges[o].f->address;
    }
    return router.route(at, static_cast<std::uint8_t>(pin), irq);
}

}  // namespace

unsigned enumerate(HostBridge& host, ConfigAccess& access, IrqRouter& router) {
    alignas(Scan) static unsigned char storage[sizeof(Scan)];  // too big for a start-up stack
    Scan& s = *new (storage) Scan(host, access);
    s.next_bus = host.bus_first + 1u;
    scan_bus(s, host.bus_first, -1, 0);
    // Bridges were found parent first: size their windows child first,
    // place parent first (root bus, then each bridge's secondary bus).
    for (int b = static_cast<int>(s.nbridges) - 1; b >= 0; --b) size_bridge_windows(s, b);
    static unsigned order[kMaxRequests];
    for (int owner = -1; owner < static_cast<int>(s.nbridges); ++owner) {
        unsigned n = sorted_requests(s, owner, order);
        for (unsigned k = 0; k < n; ++k) place(s, s.reqs[order[k]]);
        if (owner >= 0) program_bridge(s.bridges[owner]);
    }
    char bdf[8];
    for (unsigned k = 0; k < s.count; ++k) {
        Function& f = *s.found[k];
        std::uint16_t decode = 0;
        for (Bar& b : f.bar) {
            std::uint16_t bit = b.kind == Bar::Kind::io ? command::io : command::memory;
            if (b.kind == Bar::Kind::none) continue;
            if (s.failed[k] & bit) b = Bar{};  // unusable: the decoder stays off
            else decode |= bit;
        }
        for (unsigned b = 0; b < s.nbridges; ++b)
            if (s.bridges[b].f == &f) decode |= command::io | command::memory | command::bus_master;
        if (decode) enable(f, decode);
        format_address(f.address, bdf, sizeof bdf);
        const std::uint32_t rid = std::uint32_t{f.address.bus} << 8 |
                                  std::uint32_t{f.address.device} << 3 | f.address.function;
        if (host.msi.present && rid - host.msi.rid_base < host.msi.length) {
            f.has_msi_id = true;
            f.msi_id = host.msi.msi_base + (rid - host.msi.rid_base);
        }
        if (f.interrupt_pin >= 1 && f.interrupt_pin <= 4) {
            f.has_irq = route_intx(s, router, k, f.irq);
            if (f.has_irq) f.config->write8(reg::interrupt_line, static_cast<std::uint8_t>(f.irq));
            else
                rtos::printk("pci %s: INT%c has no route in the interrupt-map\n", bdf,
                             'A' + f.interrupt_pin - 1);
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
    for (unsigned b = 0; b < s.nbridges; ++b) {
        const Bridge& br = s.bridges[b];
        rtos::printk("pci %s: bridge to bus %02x-%02x",
                     format_address(br.f->address, bdf, sizeof bdf), br.f->config->read8(0x19),
                     br.f->config->read8(0x1a));
        for (unsigned cls = 0; cls < kClasses; ++cls)
            if (br.window[cls].present)
                rtos::printk(" %s 0x%llx+0x%llx", kClassName[cls],
                             static_cast<unsigned long long>(br.window[cls].bus_base),
                             static_cast<unsigned long long>(br.window[cls].size));
        rtos::printk("\n");
    }
    return s.count;
}

}  // namespace pci
