// Fuzz target: the virtio-mmio transport and device bring-up, registers that lie.
//
// The virtio-mmio transport and the device core's bring-up
// (components/drivers/virtio/transport/mmio_transport.cpp, device.cpp) against
// a register file that lies. The fake virtio-mmio device of the host tests
// answers, but before every register read the script may replace its answer
// with any value: magic, version, device id, feature words, QueueNumMax,
// QueueReady / QueuePFN read-back, status after reset or FEATURES_OK,
// ConfigGeneration, InterruptStatus. The driver side probes, negotiates and
// sets up queues of fuzzed sizes, reads the configuration consistently and
// takes interrupts. Checked: a bring-up that succeeds has queues of a power
// of two no larger than asked for, and nothing hangs (every device loop is
// bounded) or touches memory it should not.
#include "drivers/virtio/device.hpp"
#include "drivers/virtio/transport/mmio_transport.hpp"
#include "fake_mmio_device.hpp"
#include "harness.hpp"

using namespace virtio;

namespace {

class LyingWindow final : public RegisterWindow {
public:
    LyingWindow(fake::FakeMmioDevice& d, FuzzedDataProvider& in) : d_(d), in_(in) {}
    std::uint8_t read8(std::uint32_t o) override {
        return lie() ? in_.ConsumeIntegral<std::uint8_t>() : d_.read8(o);
    }
    std::uint16_t read16(std::uint32_t o) override {
        return lie() ? in_.ConsumeIntegral<std::uint16_t>() : d_.read16(o);
    }
    std::uint32_t read32(std::uint32_t o) override { return lie() ? lie32() : d_.read32(o); }
    void write8(std::uint32_t o, std::uint8_t v) override { d_.write8(o, v); }
    void write16(std::uint32_t o, std::uint16_t v) override { d_.write16(o, v); }
    void write32(std::uint32_t o, std::uint32_t v) override { d_.write32(o, v); }
    std::uint64_t base() const override { return d_.base(); }

private:
    bool lie() { return in_.remaining_bytes() > 0 && in_.ConsumeIntegral<std::uint8_t>() < 64; }
    std::uint32_t lie32() {
        // Mostly values that matter: small, the magic, the two versions.
        switch (in_.ConsumeIntegralInRange<unsigned>(0, 3)) {
        case 0: return in_.ConsumeIntegralInRange<std::uint32_t>(0, 3);
        case 1: return mmio::MAGIC_VALUE;
        case 2: return in_.ConsumeIntegralInRange<std::uint32_t>(0, 2048);
        default: return in_.ConsumeIntegral<std::uint32_t>();
        }
    }
    fake::FakeMmioDevice& d_;
    FuzzedDataProvider& in_;
};

void on_used(void* ctx, Virtqueue& q) {
    for (int i = 0; i < 1024; ++i) {
        const Result<Completion> c = q.pop_used();
        if (!c.ok()) return;
    }
    (void)ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::begin_input();
    FuzzedDataProvider in(data, size);
    fake::FakeMmioDevice::Options o;
    o.version = in.ConsumeBool() ? mmio::VERSION_LEGACY : mmio::VERSION_MODERN;
    o.features = in.ConsumeIntegral<std::uint64_t>();
    o.offer_version_1 = in.ConsumeBool();
    o.num_queues = in.ConsumeIntegralInRange<std::uint16_t>(0, 3);
    o.queue_num_max = in.ConsumeIntegralInRange<std::uint32_t>(0, 2048);
    fake::FakeMmioDevice dev(o);
    dev.refuse_features_ok = in.ConsumeBool();
    LyingWindow window(dev, in);
    MmioTransport transport(window);
    if (transport.probe() != Error::ok) return 0;

    Device device(transport);
    const std::uint16_t wanted[2] = {
        static_cast<std::uint16_t>(1u << in.ConsumeIntegralInRange<unsigned>(0, 10)),
        static_cast<std::uint16_t>(1u << in.ConsumeIntegralInRange<unsigned>(0, 10))};
    const Device::QueueSpec queues[] = {{wanted[0], &on_used, nullptr},
                                        {wanted[1], &on_used, nullptr}};
    const unsigned nq = in.ConsumeIntegralInRange<unsigned>(0, 2);
    const std::uint64_t features = in.ConsumeIntegral<std::uint64_t>();
    const Error e = device.start({.features = features, .queues = {queues, nq}});
    if (e == Error::ok) {
        FUZZ_CHECK(device.queue_count() == nq);
        for (unsigned i = 0; i < nq; ++i) {
            const std::uint16_t s = device.queue(i).size();
            FUZZ_CHECK(s != 0 && (s & (s - 1)) == 0 && s <= wanted[i]);
        }
        // Configuration reads against a generation that may never settle.
        std::uint32_t sum = 0;
        (void)device.read_config_consistent([&](Transport& t) {
            for (std::uint32_t off = 0; off < 16; off += 4) sum += t.config_read32(off);
        });
        // Interrupts with whatever InterruptStatus says.
        for (int i = 0; i < 4 && in.remaining_bytes() > 0; ++i) (void)device.handle_interrupt();
    }
    device.shutdown();
    return 0;
}
