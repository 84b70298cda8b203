// Fuzz target: virtio-pci probe: capability walk, BAR checks, MSI-X table.
//
// Virtio over PCI, from the function the host bridge hands over
// to a running device core: the virtio-pci probe itself
// (components/drivers/virtio/pci_probe.cpp, included below so its file-local
// probe and slot table are reachable), the capability walk
// (drivers/pci/pci.cpp) and its checks (parse_pci_layout: loops, overlapping
// capabilities, regions outside their BAR), the legacy I/O BAR, the MSI-X
// capability and table checks (drivers/pci/msix.cpp) with a fake MSI
// controller, and the PciTransport registers under a core Device bring-up.
//
// The input fills the configuration space (fake_config of the PCI host
// tests: the capability pointer and the whole capability area), the BARs
// (kind and size; each is host memory of exactly its size, so a register
// access outside it is an AddressSanitizer report) and their contents: the
// common configuration, notify, ISR and device registers say whatever the
// input says.
#include <cstring>
#include <vector>

#include "driver_table.hpp"
#include "drivers/virtio/pci_probe.cpp"
#include "drivers/virtio/device.hpp"
#include "fake_config.hpp"
#include "harness.hpp"

namespace {

// The MSI controller the platform would have (GICv3 ITS, GICv2m).
struct FakeMsi final : rtos::irq::MsiController {
    unsigned left = 0;
    unsigned allocate(std::uint32_t, unsigned count, unsigned* irqs,
                      rtos::irq::MsiMessage* messages) override {
        const unsigned n = count < left ? count : left;
        for (unsigned i = 0; i < n; ++i) {
            irqs[i] = 100 + i;
            messages[i] = {0x8090040, 0x40 + i};
        }
        left -= n;
        return n;
    }
    const char* name() const override { return "fake-msi"; }
} msi;
bool have_msi = false;

FuzzedDataProvider* input = nullptr;

// The driver every virtio type binds to: brings the device up as a driver
// would, takes a few interrupts and refuses it (so the probe releases it).
bool fuzz_driver_probe(const virtio::Found& found) {
    FuzzedDataProvider& in = *input;
    virtio::Device dev(found.transport);
    const std::uint16_t size =
        static_cast<std::uint16_t>(1u << in.ConsumeIntegralInRange<unsigned>(0, 8));
    const virtio::Device::QueueSpec queues[] = {
        {size, nullptr, nullptr}, {size, nullptr, nullptr}, {size, nullptr, nullptr}};
    const unsigned nq = in.ConsumeIntegralInRange<unsigned>(0, 3);
    const virtio::Error e =
        dev.start({.features = in.ConsumeIntegral<std::uint64_t>(), .queues = {queues, nq}});
    if (e == virtio::Error::ok) {
        (void)dev.attach_interrupts();
        std::uint32_t sum = 0;
        (void)dev.read_config_consistent([&](virtio::Transport& t) {
            for (std::uint32_t off = 0; off < 8; ++off) sum += t.config_read8(off);
        });
        for (int i = 0; i < 3; ++i) {
            dev.handle_interrupt();
            dev.on_queue_interrupt(static_cast<std::uint16_t>(i));
            dev.on_config_interrupt();
        }
        if (nq > 0) dev.queue(0).kick();
    }
    dev.shutdown();
    return false;
}

const bool registered = [] {
    for (std::uint32_t id : {1u, 2u, 3u, 4u, 16u, 18u})
        host_drivers::register_driver({id, "fuzz", &fuzz_driver_probe});
    return true;
}();

}  // namespace

namespace rtos::irq {
MsiController* msi_controller() { return have_msi ? &msi : nullptr; }
}  // namespace rtos::irq

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::begin_input();
    virtio::used_slots = 0;
    FuzzedDataProvider in(data, size);
    input = &in;
    have_msi = in.ConsumeBool();
    msi.left = in.ConsumeIntegralInRange<unsigned>(0, 9);

    // Modern ids mostly; transitional ones (legacy BAR 0) and strangers too.
    static constexpr std::uint16_t kIds[] = {0x1041, 0x1042, 0x1043, 0x1044, 0x1050, 0x1052,
                                             0x1000, 0x1001, 0x1003, 0x1040, 0x107f, 0x1009};
    const std::uint16_t device_id = kIds[in.ConsumeIntegralInRange<std::size_t>(0, 11)];
    pci::test::FakeConfig config(0x1af4, device_id);
    config.poke16(pci::reg::status, in.ConsumeBool() ? pci::status_capabilities : 0);
    config.poke8(pci::reg::capabilities, in.ConsumeIntegral<std::uint8_t>());
    const std::vector<std::uint8_t> caps = in.ConsumeBytes<std::uint8_t>(0xc0);
    for (std::size_t i = 0; i < caps.size(); ++i)
        config.poke8(static_cast<std::uint16_t>(0x40 + i), caps[i]);

    pci::Function f;
    f.address = {0, 3, 0};
    f.vendor_id = 0x1af4;
    f.device_id = device_id;
    f.subsystem_id = in.ConsumeIntegralInRange<std::uint16_t>(0, 20);
    f.config = &config;
    f.has_irq = in.ConsumeBool();
    f.irq = 33;
    f.has_msi_id = in.ConsumeBool();
    f.msi_id = 0x18;
    std::vector<std::vector<std::uint8_t>> bars(pci::Function::kBars);
    for (unsigned i = 0; i < pci::Function::kBars; ++i) {
        const unsigned kind = in.ConsumeIntegralInRange<unsigned>(0, 3);
        if (kind == 0) continue;
        const std::size_t bytes = std::size_t{16} << in.ConsumeIntegralInRange<unsigned>(0, 10);
        bars[i].assign(bytes, 0);
        const std::vector<std::uint8_t> fill = in.ConsumeBytes<std::uint8_t>(
            in.ConsumeIntegralInRange<std::size_t>(0, bytes < 256 ? bytes : 256));
        if (!fill.empty()) std::memcpy(bars[i].data(), fill.data(), fill.size());
        f.bar[i].kind = kind == 1   ? pci::Bar::Kind::memory32
                        : kind == 2 ? pci::Bar::Kind::memory64
                                    : pci::Bar::Kind::io;
        f.bar[i].size = bytes;
        f.bar[i].bus_address = 0x40000000 + 0x100000 * i;
        f.bar[i].cpu_address = reinterpret_cast<std::uintptr_t>(bars[i].data());
    }
    (void)virtio::pci_driver_virtio.probe(f);
    FUZZ_CHECK(virtio::used_slots == 0);  // the fuzz driver refuses every device
    return 0;
}
