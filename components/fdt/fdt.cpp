#include "fdt.hpp"

namespace fdt {
namespace {

enum Token : uint32_t { kBeginNode = 1, kEndNode = 2, kProp = 3, kNop = 4, kEnd = 9 };
constexpr unsigned kMaxDepth = 32;

uint32_t load_be32(const uint8_t* p) {
    return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// A specifier as the controller numbers it: for a 3-cell ARM GIC specifier
// <type number flags> the INTID (type 0 = SPI n -> 32+n, PPI n -> 16+n); for
// a 1- or 2-cell controller (PLIC) the first cell.
uint32_t decode_specifier(const uint8_t* p, unsigned cells) {
    if (cells >= 3) {
        uint32_t type = load_be32(p), num = load_be32(p + 4);
        return num + (type == 0 ? 32 : 16);
    }
    return load_be32(p);
}

std::size_t align4(std::size_t v) { return (v + 3) & ~std::size_t{3}; }

bool str_eq(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

// `have` is a node name; `want` (want_len chars) may omit the unit address.
bool name_matches(const char* have, const char* want, std::size_t want_len) {
    for (std::size_t i = 0; i < want_len; ++i)
        if (have[i] != want[i] || have[i] == '\0') return false;
    if (have[want_len] == '\0') return true;
    for (std::size_t i = 0; i < want_len; ++i)
        if (want[i] == '@') return false;  // caller gave a unit address: exact match only
    return have[want_len] == '@';
}

}  // namespace

bool Tree::init(const void* blob, std::size_t max_size) {
    base_ = nullptr;
    if (!blob || max_size < 40) return false;  // not even a header to read
    auto* p = static_cast<const uint8_t*>(blob);
    if (load_be32(p) != kMagic) return false;
    std::size_t total = load_be32(p + 4);
    std::size_t off_struct = load_be32(p + 8), off_strings = load_be32(p + 12);
    std::size_t version = load_be32(p + 20);
    std::size_t size_strings = load_be32(p + 32), size_struct = load_be32(p + 36);
    if (total < 40 || total > max_size || version < 17) return false;
    if (off_struct > total || size_struct > total - off_struct || off_strings > total ||
        size_strings > total - off_strings || (off_struct & 3))
        return false;
    base_ = p;
    total_ = total;
    struct_off_ = off_struct;
    struct_size_ = size_struct;
    strings_off_ = off_strings;
    strings_size_ = size_strings;
    return true;
}

uint32_t Tree::be32(std::size_t off) const {
    return off + 4 <= struct_size_ ? load_be32(base_ + struct_off_ + off) : kEnd;
}

const char* Tree::string_at(uint32_t off) const {
    if (off >= strings_size_) return "";
    const char* s = reinterpret_cast<const char*>(base_ + strings_off_ + off);
    // Must be terminated inside the strings block.
    for (std::size_t i = off; i < strings_size_; ++i)
        if (base_[strings_off_ + i] == '\0') return s;
    return "";
}

Node Tree::root() const {
    if (!valid()) return {};
    std::size_t off = 0;
    while (be32(off) == kNop) off += 4;
    return be32(off) == kBeginNode ? Node{static_cast<int>(off), 2, 1} : Node{};
}

const char* Tree::name(Node n) const {
    if (!valid() || !n.valid()) return "";
    std::size_t start = static_cast<std::size_t>(n.offset) + 4;
    for (std::size_t i = start; i < struct_size_; ++i)
        if (base_[struct_off_ + i] == '\0')
            return reinterpret_cast<const char*>(base_ + struct_off_ + start);
    return "";
}

Node Tree::walk(Visitor visit, void* ctx) const {
    if (!valid()) return {};
    uint8_t addr[kMaxDepth], size[kMaxDepth];  // child cells of each open node
    unsigned depth = 0;
    std::size_t off = 0;
    while (off < struct_size_) {
        uint32_t token = be32(off);
        if (token == kBeginNode) {
            std::size_t node_off = off;
            std::size_t name_len = 0;
            while (off + 4 + name_len < struct_size_ && base_[struct_off_ + off + 4 + name_len])
                ++name_len;
            off = align4(off + 4 + name_len + 1);
            if (depth >= kMaxDepth) return {};
            Node n{static_cast<int>(node_off), depth ? addr[depth - 1] : uint8_t{2},
                   depth ? size[depth - 1] : uint8_t{1}};
            addr[depth] = 2;
            size[depth] = 1;
            ++depth;
            if (visit(ctx, n, depth - 1)) return n;
        } else if (token == kProp) {
            uint32_t len = be32(off + 4);
            const char* pname = string_at(be32(off + 8));
            if (off + 12 > struct_size_ || len > struct_size_ - off - 12) return {};
            if (depth && len == 4) {
                uint32_t v = be32(off + 12);
                if (str_eq(pname, "#address-cells") && v <= 4)
                    addr[depth - 1] = static_cast<uint8_t>(v);
                if (str_eq(pname, "#size-cells") && v <= 4)
                    size[depth - 1] = static_cast<uint8_t>(v);
            }
            off = align4(off + 12 + len);
        } else if (token == kEndNode) {
            if (depth == 0) return {};
            --depth;
            off += 4;
        } else if (token == kNop) {
            off += 4;
        } else {
            return {};  // kEnd or garbage
        }
    }
    return {};
}

const void* Tree::prop(Node n, const char* pname, std::size_t* len) const {
    if (!valid() || !n.valid()) return nullptr;
    std::size_t off = static_cast<std::size_t>(n.offset);
    const char* nm = name(n);
    std::size_t name_len = 0;
    while (nm[name_len]) ++name_len;
    off = align4(off + 4 + name_len + 1);
    for (;;) {
        uint32_t token = be32(off);
        if (token == kNop) {
            off += 4;
            continue;
        }
        if (token != kProp) return nullptr;  // properties precede subnodes
        uint32_t plen = be32(off + 4);
        if (off + 12 > struct_size_ || plen > struct_size_ - off - 12) return nullptr;
        if (str_eq(string_at(be32(off + 8)), pname)) {
            if (len) *len = plen;
            return base_ + struct_off_ + off + 12;
        }
        off = align4(off + 12 + plen);
    }
}

bool Tree::prop_u32(Node n, const char* pname, uint32_t& out) const {
    std::size_t len = 0;
    auto* p = static_cast<const uint8_t*>(prop(n, pname, &len));
    if (!p || len < 4) return false;
    out = load_be32(p);
    return true;
}

const char* Tree::prop_string(Node n, const char* pname) const {
    std::size_t len = 0;
    auto* p = static_cast<const char*>(prop(n, pname, &len));
    if (!p || len == 0 || p[len - 1] != '\0') return nullptr;
    return p;
}

bool Tree::is_compatible(Node n, const char* compat) const {
    std::size_t len = 0;
    auto* p = static_cast<const char*>(prop(n, "compatible", &len));
    if (!p || len == 0 || p[len - 1] != '\0') return false;
    for (std::size_t i = 0; i < len;) {
        if (str_eq(p + i, compat)) return true;
        while (i < len && p[i]) ++i;
        ++i;
    }
    return false;
}

Node Tree::find_compatible(const char* compat, Node after) const {
    struct Ctx {
        const Tree* tree;
        const char* compat;
        int after;
    } ctx{this, compat, after.offset};
    return walk(
        [](void* c, Node n, unsigned) {
            auto* x = static_cast<Ctx*>(c);
            return n.offset > x->after && x->tree->is_compatible(n, x->compat);
        },
        &ctx);
}

Node Tree::find_child_compatible(Node parent, const char* compat, Node after) const {
    if (!parent.valid()) return {};
    struct Ctx {
        const Tree* tree;
        const char* compat;
        int parent, after;
        unsigned depth;  // the parent's, once reached
        bool inside, found;
    } ctx{this, compat, parent.offset, after.offset, 0, false, false};
    // Document order: the parent's children are the nodes one level below it
    // up to the next node at or above its level.
    Node n = walk(
        [](void* c, Node node, unsigned depth) {
            auto* x = static_cast<Ctx*>(c);
            if (!x->inside) {
                x->inside = node.offset == x->parent;
                x->depth = depth;
                return false;
            }
            if (depth <= x->depth) return true;  // past the parent: stop, not found
            x->found = depth == x->depth + 1 && node.offset > x->after &&
                       x->tree->is_compatible(node, x->compat);
            return x->found;
        },
        &ctx);
    return ctx.found ? n : Node{};
}

Node Tree::find_phandle(uint32_t phandle) const {
    struct Ctx {
        const Tree* tree;
        uint32_t ph;
    } ctx{this, phandle};
    return walk(
        [](void* c, Node n, unsigned) {
            auto* x = static_cast<Ctx*>(c);
            uint32_t v;
            return (x->tree->prop_u32(n, "phandle", v) ||
                    x->tree->prop_u32(n, "linux,phandle", v)) &&
                   v == x->ph;
        },
        &ctx);
}

Node Tree::find_path(const char* path) const {
    if (!path || path[0] != '/') return {};
    // Walk in document order, keeping how deep the path is matched; a node at
    // depth d can only extend a match of d-1 components.
    const char* comp[kMaxDepth];
    std::size_t comp_len[kMaxDepth];
    unsigned ncomp = 0;
    for (const char* p = path; *p;) {
        while (*p == '/') ++p;
        if (!*p) break;
        if (ncomp == kMaxDepth) return {};
        comp[ncomp] = p;
        while (*p && *p != '/') ++p;
        comp_len[ncomp] = static_cast<std::size_t>(p - comp[ncomp]);
        ++ncomp;
    }
    if (ncomp == 0) return root();
    // In document order, a node at depth d can only extend a match of d-1
    // components; a node at or above the last matched depth means that
    // node's subtree is over without a hit.
    struct Ctx {
        const Tree* tree;
        const char* const* comp;
        const std::size_t* len;
        unsigned ncomp;
        unsigned matched;
        bool gave_up;
    } ctx{this, comp, comp_len, ncomp, 0, false};
    Node n = walk(
        [](void* c, Node node, unsigned depth) {
            auto* x = static_cast<Ctx*>(c);
            if (depth == 0) return false;
            if (x->matched && depth <= x->matched) {
                x->gave_up = true;
                return true;
            }
            if (depth == x->matched + 1 &&
                name_matches(x->tree->name(node), x->comp[x->matched], x->len[x->matched]))
                ++x->matched;
            return x->matched == x->ncomp;
        },
        &ctx);
    return ctx.gave_up ? Node{} : n;
}

bool Tree::reg(Node n, unsigned index, uint64_t& addr, uint64_t& size) const {
    std::size_t len = 0;
    auto* p = static_cast<const uint8_t*>(prop(n, "reg", &len));
    unsigned ac = n.addr_cells, sc = n.size_cells;
    std::size_t entry = 4 * (ac + sc);
    if (!p || entry == 0 || ac > 2 || sc > 2 || (index + 1) * entry > len) return false;
    p += index * entry;
    addr = 0;
    for (unsigned i = 0; i < ac; ++i, p += 4) addr = (addr << 32) | load_be32(p);
    size = 0;
    for (unsigned i = 0; i < sc; ++i, p += 4) size = (size << 32) | load_be32(p);
    return true;
}

unsigned Tree::interrupt_cells(Node n) const {
    uint32_t phandle = 0;
    Node parent{};
    if (prop_u32(n, "interrupt-parent", phandle) || prop_u32(root(), "interrupt-parent", phandle))
        parent = find_phandle(phandle);
    uint32_t cells = 1;
    if (parent.valid()) prop_u32(parent, "#interrupt-cells", cells);
    return cells;
}

bool Tree::interrupt(Node n, unsigned index, uint32_t& irq) const {
    std::size_t len = 0;
    auto* p = static_cast<const uint8_t*>(prop(n, "interrupts", &len));
    if (!p) return false;
    unsigned cells = interrupt_cells(n);
    if (cells == 0 || cells > 4 || (index + 1) * cells * 4 > len) return false;
    p += index * cells * 4;
    irq = decode_specifier(p, cells);
    return true;
}

bool Tree::map_interrupt(Node n, const uint32_t* unit, unsigned unit_cells, const uint32_t* spec,
                         unsigned spec_cells, uint32_t& irq) const {
    constexpr unsigned kMaxChild = 3 + 4;
    uint32_t ac = 2, ic = 1;
    prop_u32(n, "#address-cells", ac);
    if (!prop_u32(n, "#interrupt-cells", ic) || ac != unit_cells || ic != spec_cells || ac > 3 ||
        ic == 0 || ic > 4)
        return false;
    const unsigned child = ac + ic;
    uint32_t key[kMaxChild], mask[kMaxChild];
    std::size_t len = 0;
    auto* m = static_cast<const uint8_t*>(prop(n, "interrupt-map-mask", &len));
    if (m && len != child * 4) return false;
    for (unsigned i = 0; i < child; ++i) {
        mask[i] = m ? load_be32(m + 4 * i) : ~0u;
        key[i] = (i < ac ? unit[i] : spec[i - ac]) & mask[i];
    }
    auto* p = static_cast<const uint8_t*>(prop(n, "interrupt-map", &len));
    if (!p) return false;
    // Entries: child unit address + specifier, parent phandle, parent unit
    // address (#address-cells, 0 when absent) and specifier.
    for (std::size_t off = 0; off < len;) {
        if (len - off < (child + 1) * 4) return false;
        bool match = true;
        for (unsigned i = 0; i < child; ++i)
            match = match && (load_be32(p + off + 4 * i) & mask[i]) == key[i];
        Node parent = find_phandle(load_be32(p + off + 4 * child));
        uint32_t pac = 0, pic = 0;
        if (!parent.valid() || !prop_u32(parent, "#interrupt-cells", pic) || pic == 0 || pic > 4)
            return false;
        prop_u32(parent, "#address-cells", pac);
        if (pac > 3) return false;
        std::size_t entry = (child + 1 + pac + pic) * 4;
        if (len - off < entry) return false;
        if (match) {
            if (!prop(parent, "interrupt-controller")) return false;  // nested nexus: unsupported
            irq = decode_specifier(p + off + (child + 1 + pac) * 4, pic);
            return true;
        }
        off += entry;
    }
    return false;
}

}  // namespace fdt
