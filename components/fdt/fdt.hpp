// A read-only flattened device tree (DTB) reader: just what boot needs —
// find nodes by path or compatible string, read properties, decode `reg`
// with the parent's cell sizes and `interrupts` with the controller's cells.
// Every offset and length is bounds-checked against the blob: a corrupt
// tree yields "not found", never a wild read.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fdt {

constexpr uint32_t kMagic = 0xd00dfeed;

/// A node: its offset in the structure block plus the #address-cells and
/// #size-cells that apply to its `reg` (those of its parent).
struct Node {
    int offset = -1;
    uint8_t addr_cells = 2;
    uint8_t size_cells = 1;
    bool valid() const { return offset >= 0; }
};

class Tree {
public:
    /// Validates the header; false if `blob` is not a usable DTB.
    bool init(const void* blob, std::size_t max_size = 1u << 20);
    bool valid() const { return base_ != nullptr; }
    const void* blob() const { return base_; }
    std::size_t size() const { return total_; }

    Node root() const;
    /// Absolute path like "/chosen" or "/soc/serial@10000000"; a path without
    /// unit address matches the first node with that name ("/memory").
    Node find_path(const char* path) const;
    /// First node after `after` (invalid: from the start) whose "compatible"
    /// list contains `compat`.
    Node find_compatible(const char* compat, Node after = Node{}) const;
    /// First child of `parent` after `after` (invalid: from the first child)
    /// whose "compatible" list contains `compat` (a GIC's MSI frames).
    Node find_child_compatible(Node parent, const char* compat, Node after = Node{}) const;
    Node find_phandle(uint32_t phandle) const;

    /// Node name including unit address ("serial@10000000").
    const char* name(Node n) const;
    /// Raw property value, or nullptr.
    const void* prop(Node n, const char* name, std::size_t* len = nullptr) const;
    bool prop_u32(Node n, const char* name, uint32_t& out) const;
    /// String property (first string of a list), or nullptr.
    const char* prop_string(Node n, const char* name) const;
    bool is_compatible(Node n, const char* compat) const;

    /// Entry `index` of "reg".
    bool reg(Node n, unsigned index, uint64_t& addr, uint64_t& size) const;
    /// Entry `index` of "interrupts", as the controller numbers it: for a
    /// 3-cell ARM GIC specifier that is the INTID (SPI n -> 32+n, PPI n ->
    /// 16+n); for a 1-cell controller (PLIC) the cell itself.
    bool interrupt(Node n, unsigned index, uint32_t& irq) const;
    /// Translates a child's interrupt through nexus node `n`'s
    /// "interrupt-map" / "interrupt-map-mask" (devicetree spec 2.4.3): `unit`
    /// is the child's unit address (n's #address-cells, at most 3 cells),
    /// `spec` its specifier (n's #interrupt-cells, at most 4). On a match,
    /// `irq` is the parent's specifier as its controller numbers it (as
    /// interrupt()). False on no match, wrong cell counts, a parent that is no
    /// interrupt controller, or a map that ends inside an entry.
    bool map_interrupt(Node n, const uint32_t* unit, unsigned unit_cells, const uint32_t* spec,
                       unsigned spec_cells, uint32_t& irq) const;

    /// Calls f(Node) for every node, in document order.
    template <typename F>
    void for_each_node(F f) const {
        walk(
            [](void* ctx, Node n, unsigned) {
                (*static_cast<F*>(ctx))(n);
                return false;
            },
            &f);
    }

private:
    /// Called per node in document order with its depth (root 0); true stops.
    using Visitor = bool (*)(void* ctx, Node n, unsigned depth);
    Node walk(Visitor visit, void* ctx) const;
    uint32_t be32(std::size_t off) const;
    const char* string_at(uint32_t off) const;
    unsigned interrupt_cells(Node n) const;

    const uint8_t* base_ = nullptr;
    std::size_t total_ = 0;
    std::size_t struct_off_ = 0, struct_size_ = 0;
    std::size_t strings_off_ = 0, strings_size_ = 0;
};

}  // namespace fdt
