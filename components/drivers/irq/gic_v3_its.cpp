// GICv3 ITS (IHI 0069 chapter 6) and the redistributor's LPIs (chapter 5):
// the MSI controller of aarch64 boards with a GICv3. See gic_v3_its.hpp for
// the two-step bring-up and the numbering.
//
// The ITS translates a write of EventID to GITS_TRANSLATER, tagged with the
// writer's DeviceID (PCI: its requester ID through the tree's msi-map), into
// an LPI through two tables in memory: the device table (DeviceID -> the
// device's interrupt translation table, ITT) and the ITT (EventID -> LPI
// and collection). Collection c (ICID c) targets CPU c's redistributor, one
// per CPU online when the ITS starts (they all start before it); every LPI
// starts on the boot CPU's and route() moves it (MOVI). Tables are flat; the device table holds
// kMaxDevices IDs (PCI buses 0-31), a larger DeviceID is refused. Each device's EventIDs are 0..n-1
// in allocation order; its ITT is sized at the first allocation (rounded up to a power of two, at
// least what 256 bytes hold) and carved from an arena allocated at start-up, so later allocations
// never touch the heap.
//
// Every table is inner-shareable write-back memory, like the kernel's own;
// an ITS that does not keep that (it would need cache maintenance, which
// this driver does not do) is refused. Commands are waited for with a
// bound: a stuck ITS is reported and then left alone, never waited on.
#include "drivers/irq/gic_v3_its.hpp"

#include <rtos/heap.hpp>
#include <rtos/init.hpp>
#include <rtos/irq.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>
#include <rtos/spinlock.hpp>

#include "arch/aarch64/sysreg.hpp"
#include "drivers/irq/gic_common.hpp"
#include "drivers/mmio.hpp"

namespace rtos::drivers::gic::its {
namespace {

// ITS registers (IHI 0069 12.19).
constexpr uintptr_t GITS_CTLR = 0x0000;
constexpr uintptr_t GITS_TYPER = 0x0008;
constexpr uintptr_t GITS_CBASER = 0x0080;
constexpr uintptr_t GITS_CWRITER = 0x0088;
constexpr uintptr_t GITS_CREADR = 0x0090;
constexpr uintptr_t GITS_BASER = 0x0100;  // 8 of them, 64-bit
constexpr uintptr_t GITS_TRANSLATER = 0x10040;
constexpr uintptr_t kItsFrames = 0x20000;  // control frame + translation frame
constexpr uint32_t kCtlrEnabled = 1u << 0, kCtlrQuiescent = 1u << 31;
constexpr uint64_t kTyperPhysical = 1u << 0, kTyperPta = 1u << 19;
constexpr uint64_t kCreadrStalled = 1u << 0;

// GITS_BASER<n> fields (12.19.1).
constexpr uint64_t kBaserValid = uint64_t{1} << 63;
constexpr unsigned kBaserTypeShift = 56, kBaserEntrySizeShift = 48, kBaserPageSizeShift = 8;
constexpr uint64_t kBaserTypeDevice = 1, kBaserTypeCollection = 4;
constexpr uint64_t kBaserRoFields =
    (uint64_t{7} << kBaserTypeShift) | (uint64_t{0x1f} << kBaserEntrySizeShift);
constexpr uint64_t kBaserAddrMask = 0x0000fffffffff000ull;

// Memory attributes, same encoding in every base register: InnerCache 0b111
// (write-back, read- and write-allocate), Shareability 0b01 (inner); the
// InnerCache field sits at bit 59 in GITS_BASER/CBASER, at bit 7 in
// GICR_PROPBASER/PENDBASER.
constexpr uint64_t kShareInner = uint64_t{1} << 10, kShareMask = uint64_t{3} << 10;
constexpr uint64_t kItsCacheWb = uint64_t{7} << 59, kRdCacheWb = uint64_t{7} << 7;

// Redistributor LPI registers (12.11) and the distributor's LPI support.
constexpr uintptr_t GICR_CTLR = 0x0000;
constexpr uintptr_t GICR_TYPER = 0x0008;
constexpr uintptr_t GICR_PROPBASER = 0x0070;
constexpr uintptr_t GICR_PENDBASER = 0x0078;
constexpr uint32_t kRCtlrEnableLpis = 1u << 0;
constexpr uint64_t kRTyperPlpis = 1u << 0;
constexpr uint64_t kPendbaserPtz = uint64_t{1} << 62;  // the table is zero
constexpr uint32_t kDTyperLpis = 1u << 17;

// LPI INTIDs below 2^14: every LPI the kernel can number (kLpiBase + at most
// irq::kMaxIrqs) fits, and it is the smallest ID width that has LPIs.
constexpr unsigned kIdBits = 14;
constexpr unsigned kConfigBytes = (1u << kIdBits) - kLpiBase;  // one byte per LPI
constexpr unsigned kPendingBytes = (1u << kIdBits) / 8;        // one bit per INTID
constexpr unsigned kPendingAlign = 0x10000;
// Configuration byte (5.1.1): priority in [7:2], bit 1 RES1, bit 0 enable.
constexpr uint8_t kLpiConfig = kNormalPriority | 0x2, kLpiEnable = 0x1;

constexpr unsigned kMaxDevices = 8192;  // DeviceIDs 0-8191: PCI buses 0-31
constexpr unsigned kQueueBytes = 4096;  // 128 commands
constexpr unsigned kCommandBytes = 32;
constexpr unsigned kIttAlign = 256;
constexpr unsigned kSpinLimit = 1000000;  // register polls before the ITS counts as stuck

// Commands (6.3): four doublewords, the command number in DW0[7:0].
enum : uint8_t {
    kMovi = 0x01,
    kSync = 0x05,
    kMapd = 0x08,
    kMapc = 0x09,
    kMapti = 0x0a,
    kInv = 0x0c
};
struct Command {
    uint64_t dw[4];
};

// Polls `done` at most kSpinLimit times.
template <typename F>
bool spin(F done) {
    for (unsigned i = 0; i < kSpinLimit; ++i)
        if (done()) return true;
    return false;
}

unsigned log2_ceil(unsigned v) {
    unsigned b = 0;
    while ((1u << b) < v) ++b;
    return b;
}

uintptr_t round_up(uintptr_t v, uintptr_t a) { return (v + a - 1) & ~(a - 1); }

// The devices with interrupts and what each LPI is, outside the Its object
// (which has a vtable, so it is initialised data) to stay in .bss.
struct MappedDevice {
    uint32_t id;
    uint32_t events;  ///< ITT capacity
    uint32_t next;    ///< next free EventID
};
struct Lpi {
    uint16_t device;  ///< index into devices
    uint16_t event;
    uint16_t cpu;  ///< its collection: the CPU it is delivered to
};
// Both under Its::lock_ once the ITS runs.
MappedDevice devices[CONFIG_GIC_V3_ITS_LPIS];  // a device holds at least one LPI
Lpi lpi_map[CONFIG_GIC_V3_ITS_LPIS];

class Its final : public irq::MsiController {
public:
    unsigned probe(const platform::Device& gic, uintptr_t rd, unsigned lines, bool two_states);
    void start();
    void set_enabled(unsigned k, bool on);
    bool route(unsigned k, unsigned cpu);
    void add_cpu(unsigned cpu, uintptr_t rd) {
        if (cpu < kMaxCpus) rds_[cpu] = rd;
    }
    unsigned allocate(uint32_t device_id, unsigned count, unsigned* irqs,
                      irq::MsiMessage* messages) override;
    const char* name() const override { return "gic-v3-its"; }

private:
    bool setup_tables();
    bool setup_baser(unsigned n, uint64_t baser);
    bool setup_redistributor(uintptr_t rd);
    MappedDevice* map_device(uint32_t id, unsigned count);
    bool submit(const Command* cmds, unsigned n);
    void report_stuck();
    // To CPU `cpu`'s redistributor (an LPI's recorded collection is always a CPU's).
    Command sync(unsigned cpu = 0) const {
        return {{kSync, 0, rdbase_[cpu < kMaxCpus ? cpu : 0], 0}};
    }
    uint64_t rdbase_of(uintptr_t rd) const;
    void* alloc(std::size_t size, std::size_t align, const char* what);

    uintptr_t base_ = 0, rd_ = 0;
    unsigned lines_ = 0, lpis_ = 0;
    bool pta_ = false;
    unsigned ite_bytes_ = 0, max_event_bits_ = 0, devices_max_ = 0;
    // Each CPU's redistributor (recorded as it starts, before start()) and
    // its collection's target as commands encode it (valid where `mapped_`
    // has the CPU's bit: processor number 0 encodes as 0).
    uintptr_t rds_[kMaxCpus] = {};
    uint64_t rdbase_[kMaxCpus] = {};
    CpuMask mapped_ = 0;
    uint8_t* config_ = nullptr;
    uint8_t* queue_ = nullptr;
    unsigned write_ = 0;  ///< next command slot
    uint8_t* itt_arena_ = nullptr;
    std::size_t itt_left_ = 0;
    // lock_: the command queue (write_), the ITT arena, the LPI
    // configuration bytes, devices[], lpi_map[] and the counts below;
    // allocations (probing drivers, any thread and CPU) and enable()/
    // disable() (handlers too) share them. Level 1 of docs/smp.md's lock
    // order (GIC ITS); nothing is taken or printed inside it.
    SpinLock lock_;
    bool ready_ = false, stuck_ = false;
    unsigned used_lpis_ = 0, used_devices_ = 0;
    // The first stuck command queue, for report_stuck() (lock_).
    bool report_ = false, report_stalled_ = false;
    uint64_t report_creadr_ = 0, report_cwriter_ = 0;
};

Its its;

unsigned Its::probe(const platform::Device& gic, uintptr_t rd, unsigned lines, bool two_states) {
    if (!gic.tree) {
        printk("gic-v3-its: no device tree: no MSIs (PCI devices use INTx)\n");
        return 0;
    }
    fdt::Node n = gic.tree->find_child_compatible(gic.node, "arm,gic-v3-its");
    uint64_t base = 0, size = 0;
    if (!n.valid()) {
        printk("gic-v3-its: none in the device tree: no MSIs (PCI devices use INTx)\n");
        return 0;
    }
    if (!gic.tree->reg(n, 0, base, size) || size < kItsFrames || !base) {
        printk("gic-v3-its: %s: no usable reg (need 0x%lx bytes): no MSIs\n", gic.tree->name(n),
               static_cast<unsigned long>(kItsFrames));
        return 0;
    }
    const auto b = static_cast<uintptr_t>(base);
    const char* why = nullptr;
    uint32_t dtyper = mmio::read32(static_cast<uintptr_t>(gic.reg[0].base) + GICD_TYPER);
    if (two_states) why = "the kernel runs in the secure state and LPIs are non-secure";
    else if (!(dtyper & kDTyperLpis) || ((dtyper >> 19) & 0x1f) + 1 < kIdBits)
        why = "the distributor has no LPIs";
    else if (!(read64(rd + GICR_TYPER) & kRTyperPlpis)) why = "the redistributor has no LPIs";
    else if (mmio::read32(rd + GICR_CTLR) & kRCtlrEnableLpis)
        why = "LPIs already enabled (their tables cannot be replaced)";
    else if (!(read64(b + GITS_TYPER) & kTyperPhysical)) why = "no physical LPIs";
    if (why) {
        printk("gic-v3-its: @0x%lx refused: %s: no MSIs\n", static_cast<unsigned long>(b), why);
        return 0;
    }
    unsigned lpis = CONFIG_GIC_V3_ITS_LPIS;
    if (lines + lpis > irq::kMaxIrqs) {
        lpis = irq::kMaxIrqs - lines;
        printk("gic-v3-its: %u LPIs (CONFIG_GIC_V3_ITS_LPIS %u is past the kernel's %u slots)\n",
               lpis, CONFIG_GIC_V3_ITS_LPIS, irq::kMaxIrqs);
    }
    base_ = b;
    rd_ = rd;
    lines_ = lines;
    lpis_ = lpis;
    return lpis;
}

void* Its::alloc(std::size_t size, std::size_t align, const char* what) {
    void* p = heap::alloc_aligned(size, align, true);
    if (!p) printk("gic-v3-its: no memory for the %s (%zu bytes): no MSIs\n", what, size);
    return p;
}

// One table per implemented GITS_BASER: the device table for kMaxDevices IDs
// (fewer if the ITS has fewer DeviceID bits), the collection table for ICID
// 0; others (vPE tables) stay invalid. The page size is the ITS's choice
// among those it implements: 4 KiB is asked for and the answer read back.
bool Its::setup_baser(unsigned n, uint64_t baser) {
    const uintptr_t reg = base_ + GITS_BASER + 8 * n;
    uint64_t type = (baser >> kBaserTypeShift) & 7;
    unsigned entry = static_cast<unsigned>((baser >> kBaserEntrySizeShift) & 0x1f) + 1;
    unsigned ids;
    if (type == kBaserTypeDevice) ids = devices_max_;
    else if (type == kBaserTypeCollection) ids = kMaxCpus;
    else return true;
    uint64_t attrs = kItsCacheWb | kShareInner;
    write64(reg, (baser & kBaserRoFields) | attrs);  // page size 0: 4 KiB
    static constexpr unsigned kPageSizes[] = {0x1000, 0x4000, 0x10000, 0x10000};
    uint64_t page_field = (read64(reg) >> kBaserPageSizeShift) & 3;
    std::size_t page = kPageSizes[page_field];
    std::size_t bytes = round_up(std::size_t{ids} * entry, page);
    if (bytes / page > 256) {  // Size is 8 bits of pages
        bytes = 256 * page;
        if (type == kBaserTypeDevice) devices_max_ = static_cast<unsigned>(bytes / entry);
    }
    void* table =
        alloc(bytes, page, type == kBaserTypeDevice ? "device table" : "collection table");
    if (!table) return false;
    uint64_t pa = reinterpret_cast<uintptr_t>(table);
    uint64_t want = kBaserValid | (baser & kBaserRoFields) | attrs | (pa & kBaserAddrMask) |
                    page_field << kBaserPageSizeShift | (bytes / page - 1);
    write64(reg, want);
    uint64_t got = read64(reg);
    if ((got & kShareMask) != kShareInner || !(got & kBaserValid) ||
        (got & kBaserAddrMask) != (pa & kBaserAddrMask)) {
        printk("gic-v3-its: GITS_BASER%u refused 0x%lx (read back 0x%lx): no MSIs\n", n,
               static_cast<unsigned long>(want), static_cast<unsigned long>(got));
        return false;
    }
    return true;
}

bool Its::setup_tables() {
    uint64_t typer = read64(base_ + GITS_TYPER);
    ite_bytes_ = static_cast<unsigned>((typer >> 4) & 0xf) + 1;
    max_event_bits_ = static_cast<unsigned>((typer >> 8) & 0x1f) + 1;
    unsigned dev_bits = static_cast<unsigned>((typer >> 13) & 0x1f) + 1;
    devices_max_ = dev_bits >= 13 ? kMaxDevices : 1u << dev_bits;
    pta_ = typer & kTyperPta;
    // The ITS must be off and quiescent while its tables change.
    mmio::write32(base_ + GITS_CTLR, mmio::read32(base_ + GITS_CTLR) & ~kCtlrEnabled);
    if (!spin([&] { return mmio::read32(base_ + GITS_CTLR) & kCtlrQuiescent; })) {
        printk("gic-v3-its: does not become quiescent: no MSIs\n");
        return false;
    }
    for (unsigned n = 0; n < 8; ++n)
        if (!setup_baser(n, read64(base_ + GITS_BASER + 8 * n))) return false;

    queue_ = static_cast<uint8_t*>(alloc(kQueueBytes, kQueueBytes, "command queue"));
    if (!queue_) return false;
    uint64_t cbaser = kBaserValid | kItsCacheWb | kShareInner |
                      (reinterpret_cast<uintptr_t>(queue_) & kBaserAddrMask) |
                      (kQueueBytes / 4096 - 1);
    write64(base_ + GITS_CBASER, cbaser);
    if ((read64(base_ + GITS_CBASER) & kShareMask) != kShareInner) {
        printk("gic-v3-its: command queue not inner-shareable: no MSIs\n");
        return false;
    }
    write64(base_ + GITS_CWRITER, 0);
    write_ = 0;

    // ITTs: every device's ITT takes at most 256 bytes of alignment slack
    // plus twice the entries of its events (a power of two).
    itt_left_ = std::size_t{lpis_} * (kIttAlign + 2 * ite_bytes_);
    itt_arena_ = static_cast<uint8_t*>(alloc(itt_left_, kIttAlign, "ITT arena"));
    return itt_arena_ != nullptr;
}

// A redistributor's LPI tables, then LPIs on: the configuration table is
// the one every redistributor shares (allocated for the first), the pending
// table its own. The pending table goes first: its 64 KiB alignment leaves
// a gap the heap can hand out again.
bool Its::setup_redistributor(uintptr_t rd) {
    void* pending = alloc(kPendingBytes, kPendingAlign, "LPI pending table");
    if (!config_) {
        config_ = static_cast<uint8_t*>(alloc(kConfigBytes, 4096, "LPI configuration table"));
        if (config_)
            for (unsigned k = 0; k < kConfigBytes; ++k) config_[k] = kLpiConfig;  // all disabled
    }
    if (!pending || !config_) return false;
    arch::aarch64::dsb_ish();  // tables written before the GIC reads them
    uint64_t prop = reinterpret_cast<uintptr_t>(config_) | kRdCacheWb | kShareInner | (kIdBits - 1);
    write64(rd + GICR_PROPBASER, prop);
    uint64_t pend = reinterpret_cast<uintptr_t>(pending) | kRdCacheWb | kShareInner | kPendbaserPtz;
    write64(rd + GICR_PENDBASER, pend);
    if ((read64(rd + GICR_PROPBASER) & kShareMask) != kShareInner ||
        (read64(rd + GICR_PENDBASER) & kShareMask) != kShareInner) {
        printk("gic-v3-its: LPI tables not inner-shareable: no MSIs\n");
        return false;
    }
    mmio::write32(rd + GICR_CTLR, mmio::read32(rd + GICR_CTLR) | kRCtlrEnableLpis);
    arch::aarch64::dsb_sy();
    return true;
}

// A collection's target (6.3.8, RDbase): by physical address or by
// processor number, as GITS_TYPER.PTA says.
uint64_t Its::rdbase_of(uintptr_t rd) const {
    return pta_ ? (rd & ~uintptr_t{0xffff}) : ((read64(rd + GICR_TYPER) >> 8) & 0xffff) << 16;
}

void Its::start() {
    if (!base_) return;  // probe() found none (or no GICv3 at all)
    rds_[0] = rd_;       // the boot CPU's (probe())
    if (!setup_tables() || !setup_redistributor(rd_)) return;
    mmio::write32(base_ + GITS_CTLR, kCtlrEnabled);
    // Collection c -> CPU c's redistributor. A CPU whose tables cannot be
    // had keeps LPIs off (route() refuses it).
    CpuMask usable = cpu_mask(0);
    for (unsigned c = 1; c < kMaxCpus; ++c)
        if (rds_[c] && setup_redistributor(rds_[c])) usable |= cpu_mask(c);
    bool mapped = true;
    unsigned cpus = 0;
    {
        SpinLockGuard guard(lock_);
        for (unsigned c = 0; c < kMaxCpus && mapped; ++c) {
            if (!(usable & cpu_mask(c))) continue;
            rdbase_[c] = rdbase_of(rds_[c]);
            const Command mapc[] = {{{kMapc, 0, uint64_t{1} << 63 | rdbase_[c] | c, 0}}, sync(c)};
            mapped = submit(mapc, 2);
            if (mapped) {
                mapped_ |= cpu_mask(c);
                ++cpus;
            }
        }
        ready_ = mapped;
    }
    if (!mapped) {
        report_stuck();
        return;
    }
    printk("gic-v3-its: @0x%lx lpis %u (intid %u-%u, irq %u-%u) devices %u cpus %u\n",
           static_cast<unsigned long>(base_), lpis_, kLpiBase, kLpiBase + lpis_ - 1, lines_,
           lines_ + lpis_ - 1, devices_max_, cpus);
    irq::set_msi_controller(this);
}

// Queues `cmds` and waits (bounded) until the ITS has read them all. The
// queue is empty between calls, so it never fills. lock_ held (interrupts
// masked: enable()/disable() come from handlers too).
bool Its::submit(const Command* cmds, unsigned n) {
    if (stuck_) return false;
    for (unsigned i = 0; i < n; ++i) {
        auto* slot = reinterpret_cast<volatile uint64_t*>(queue_ + write_ * kCommandBytes);
        for (unsigned d = 0; d < 4; ++d) slot[d] = cmds[i].dw[d];
        write_ = (write_ + 1) % (kQueueBytes / kCommandBytes);
    }
    arch::aarch64::dsb_ish();  // commands in memory before the ITS is told
    const uint64_t target = uint64_t{write_} * kCommandBytes;
    write64(base_ + GITS_CWRITER, target);
    uint64_t creadr = 0;
    bool done = spin([&] {
        creadr = read64(base_ + GITS_CREADR);
        return (creadr & ~uint64_t{0x1f}) == target || (creadr & kCreadrStalled);
    });
    if (done && !(creadr & kCreadrStalled)) return true;
    stuck_ = true;
    report_ = true;
    report_stalled_ = done;
    report_creadr_ = creadr;
    report_cwriter_ = target;
    return false;
}

// Says once, outside lock_, that the command queue stopped.
void Its::report_stuck() {
    bool stalled;
    uint64_t creadr, cwriter;
    {
        SpinLockGuard guard(lock_);
        if (!report_) return;
        report_ = false;
        stalled = report_stalled_;
        creadr = report_creadr_;
        cwriter = report_cwriter_;
    }
    printk("gic-v3-its: command queue %s (CREADR 0x%lx, CWRITER 0x%lx): MSIs stop here\n",
           stalled ? "stalled" : "stuck", static_cast<unsigned long>(creadr),
           static_cast<unsigned long>(cwriter));
}

// lock_ held.
MappedDevice* Its::map_device(uint32_t id, unsigned count) {
    for (unsigned i = 0; i < used_devices_; ++i)
        if (devices[i].id == id) return &devices[i];
    if (used_devices_ == lpis_) return nullptr;  // cannot happen: each holds an LPI
    // At least the events 256 bytes (the ITT alignment) hold, at most what
    // GITS_TYPER.ID_bits and the LPIs allow.
    unsigned bits = log2_ceil(count);
    while ((std::size_t{ite_bytes_} << (bits + 1)) <= kIttAlign) ++bits;
    if (bits < 1) bits = 1;  // MAPD's Size is bits - 1
    if (bits > max_event_bits_) bits = max_event_bits_;
    if (bits > 16) bits = 16;
    std::size_t bytes = round_up(std::size_t{ite_bytes_} << bits, kIttAlign);
    if (bytes > itt_left_) return nullptr;
    uint64_t itt = reinterpret_cast<uintptr_t>(itt_arena_);
    itt_arena_ += bytes;
    itt_left_ -= bytes;
    const Command mapd[] = {
        {{kMapd | uint64_t{id} << 32, bits - 1, uint64_t{1} << 63 | (itt & 0xffffffffff00ull), 0}}};
    if (!submit(mapd, 1)) return nullptr;
    MappedDevice& d = devices[used_devices_++];
    d = {id, 1u << bits, 0};
    return &d;
}

unsigned Its::allocate(uint32_t device_id, unsigned count, unsigned* irqs,
                       irq::MsiMessage* messages) {
    if (!count) return 0;
    if (device_id >= devices_max_) {
        printk("gic-v3-its: device id 0x%x beyond the device table (%u devices): no MSIs\n",
               device_id, devices_max_);
        return 0;
    }
    unsigned n = 0;
    {
        SpinLockGuard guard(lock_);
        unsigned free_lpis = lpis_ - used_lpis_;
        MappedDevice* d =
            free_lpis ? map_device(device_id, count < free_lpis ? count : free_lpis) : nullptr;
        if (d) {
            n = count;
            if (n > free_lpis) n = free_lpis;
            if (n > d->events - d->next) n = d->events - d->next;
            Command cmds[2];
            for (unsigned i = 0; i < n; ++i) {
                unsigned k = used_lpis_, event = d->next;
                cmds[0] = {{kMapti | uint64_t{device_id} << 32,
                            event | uint64_t{kLpiBase + k} << 32, 0 /* ICID */, 0}};
                cmds[1] = sync();
                if (!submit(cmds, 2)) {
                    n = i;
                    break;
                }
                lpi_map[k] = {static_cast<uint16_t>(d - devices), static_cast<uint16_t>(event), 0};
                ++used_lpis_;
                ++d->next;
                irqs[i] = lines_ + k;
                messages[i] = {base_ + GITS_TRANSLATER, event};
            }
        }
    }
    report_stuck();
    if (n < count)
        printk("gic-v3-its: device 0x%x got %u of %u interrupts (%u of %u LPIs left)\n", device_id,
               n, count, lpis_ - used_lpis_, lpis_);
    return n;
}

void Its::set_enabled(unsigned k, bool on) {
    {
        SpinLockGuard guard(lock_);
        if (!ready_ || k >= used_lpis_) return;
        config_[k] = kLpiConfig | (on ? kLpiEnable : 0);
        arch::aarch64::dsb_ish();  // the byte in memory before the INV reads it
        const Lpi& l = lpi_map[k];
        const Command inv[] = {{{kInv | uint64_t{devices[l.device].id} << 32, l.event, 0, 0}},
                               sync(l.cpu)};
        if (submit(inv, 2)) return;
    }
    report_stuck();
}

// 6.3.14 MOVI: the LPI's event to collection `cpu`; SYNC to the old target
// and the new, so neither holds it when this returns.
bool Its::route(unsigned k, unsigned cpu) {
    {
        SpinLockGuard guard(lock_);
        if (!ready_ || k >= used_lpis_ || cpu >= kMaxCpus || !(mapped_ & cpu_mask(cpu)))
            return false;
        Lpi& l = lpi_map[k];
        if (l.cpu == cpu) return true;
        const Command movi[] = {{{kMovi | uint64_t{devices[l.device].id} << 32, l.event, cpu, 0}},
                                sync(l.cpu),
                                sync(cpu)};
        if (submit(movi, 3)) {
            l.cpu = static_cast<uint16_t>(cpu);
            return true;
        }
    }
    report_stuck();
    return false;
}

void gic_v3_its_start() { its.start(); }

}  // namespace

unsigned probe(const platform::Device& gic, uintptr_t rd, unsigned lines, bool two_states) {
    return its.probe(gic, rd, lines, two_states);
}

void set_enabled(unsigned k, bool on) { its.set_enabled(k, on); }
bool route(unsigned k, unsigned cpu) { return its.route(k, cpu); }
void add_cpu(unsigned cpu, uintptr_t rd) { its.add_cpu(cpu, rd); }

// Before the drivers (level driver) that allocate MSIs.
RTOS_INIT(gic_v3_its_start, platform);

}  // namespace rtos::drivers::gic::its
