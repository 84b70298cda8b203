// Fuzz target: virtio-gpu's control-queue responses.
//
// The virtio-gpu driver (components/drivers/virtio/gpu/virtio_gpu.cpp,
// included below so its one-display slot starts empty for every input) and
// the display framebuffer (components/drivers/display). Every control
// request takes the input's next response: OK_NODATA, OK_DISPLAY_INFO with
// any scanouts and sizes, OK_EDID with any EDID (often with valid header and
// block checksums, so the descriptor and DisplayID parsers are reached),
// error types or any type, any used length, or no answer at all (the
// request times out). num_scanouts is the input's too. After start the
// screen is drawn and flushed with more responses, and display events come
// in. Checked: a started display has a mode inside the driver's bounds;
// nothing is touched outside the buffers (responses and framebuffer).
#include <cstdio>  // before rtos/format.hpp: clang wants the C library's snprintf first
#include <vector>

#include "driver_table.hpp"
#include "drivers/virtio/gpu/virtio_gpu.cpp"
#include "drivers/display/framebuffer.hpp"
#include "harness.hpp"
#include "scripted_device.hpp"

namespace {

namespace g = virtio::gpu;

template <typename T>
void put(std::vector<std::uint8_t>& v, T x) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&x);
    v.insert(v.end(), p, p + sizeof(T));
}

// An EDID: random blocks, mostly with the fixed header and right checksums.
std::vector<std::uint8_t> edid(FuzzedDataProvider& in) {
    const std::size_t blocks = in.ConsumeIntegralInRange<std::size_t>(0, 8);
    std::vector<std::uint8_t> e = in.ConsumeBytes<std::uint8_t>(128 * blocks);
    e.resize(128 * blocks);
    const bool fix = in.ConsumeIntegralInRange<unsigned>(0, 7) != 0;
    for (std::size_t b = 0; fix && b < blocks; ++b) {
        std::uint8_t* blk = e.data() + 128 * b;
        if (b == 0) {
            static constexpr std::uint8_t kHeader[8] = {0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0};
            std::memcpy(blk, kHeader, 8);
            blk[126] = static_cast<std::uint8_t>(blocks - 1);
        } else if (in.ConsumeBool()) {
            blk[0] = 0x70;  // DisplayID
        }
        std::uint8_t sum = 0;
        for (int i = 0; i < 127; ++i) sum = static_cast<std::uint8_t>(sum + blk[i]);
        blk[127] = static_cast<std::uint8_t>(-sum);
    }
    return e;
}

fuzz::Delivery response(FuzzedDataProvider& in) {
    fuzz::Delivery d;
    static constexpr std::uint32_t kTypes[] = {
        g::RESP_OK_NODATA, g::RESP_OK_NODATA,  g::RESP_OK_DISPLAY_INFO,
        g::RESP_OK_EDID,   g::RESP_ERR_UNSPEC, g::RESP_ERR_INVALID_PARAMETER};
    const std::uint32_t type = in.ConsumeIntegralInRange<unsigned>(0, 6) < 6
                                   ? kTypes[in.ConsumeIntegralInRange<std::size_t>(0, 5)]
                                   : in.ConsumeIntegral<std::uint32_t>();
    put(d.bytes, g::CtrlHdr{type, 0, 0, 0, 0, {}});
    if (type == g::RESP_OK_DISPLAY_INFO) {
        const unsigned n = in.ConsumeIntegralInRange<unsigned>(0, g::MAX_SCANOUTS);
        for (unsigned i = 0; i < n; ++i) {
            const bool small = in.ConsumeIntegralInRange<unsigned>(0, 7) != 0;
            put(d.bytes, in.ConsumeIntegral<std::uint32_t>());  // x
            put(d.bytes, in.ConsumeIntegral<std::uint32_t>());  // y
            put(d.bytes, small ? in.ConsumeIntegralInRange<std::uint32_t>(0, 64)
                               : in.ConsumeIntegral<std::uint32_t>());
            put(d.bytes, small ? in.ConsumeIntegralInRange<std::uint32_t>(0, 64)
                               : in.ConsumeIntegral<std::uint32_t>());
            put(d.bytes, static_cast<std::uint32_t>(in.ConsumeBool()));  // enabled
            put(d.bytes, std::uint32_t{0});
        }
    } else if (type == g::RESP_OK_EDID) {
        const std::vector<std::uint8_t> e = edid(in);
        put(d.bytes, in.ConsumeBool() ? static_cast<std::uint32_t>(e.size())
                                      : in.ConsumeIntegral<std::uint32_t>());
        put(d.bytes, std::uint32_t{0});
        d.bytes.insert(d.bytes.end(), e.begin(), e.end());
    }
    if (in.ConsumeIntegralInRange<unsigned>(0, 5) == 0)
        d.used_len = in.ConsumeIntegralInRange<std::uint32_t>(0, 1200);
    return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::begin_driver_input();
    virtio::the_gpu = nullptr;
    rtos::display::set_primary(nullptr);
    FuzzedDataProvider in(data, size);

    driver_test::DeviceSetup s;
    s.version = in.ConsumeBool() ? virtio::mmio::VERSION_LEGACY : virtio::mmio::VERSION_MODERN;
    s.device_id = virtio::VIRTIO_ID_GPU;
    s.features = in.ConsumeBool() ? virtio::feature_bit(g::F_EDID) : 0;
    s.config_size = 16;
    fuzz::ScriptedDevice dev(s, in);
    const std::uint32_t scanouts = in.ConsumeIntegralInRange<std::uint32_t>(0, 17);
    dev.fake.change_config(g::CFG_NUM_SCANOUTS,
                           {reinterpret_cast<const std::uint8_t*>(&scanouts), 4});
    // The responses to the start-up requests (more come later).
    const unsigned first = in.ConsumeIntegralInRange<unsigned>(0, 8);
    for (unsigned i = 0; i < first; ++i) dev.deliver(0, response(in));

    if (!dev.probe()) return 0;
    g::Info info;
    FUZZ_CHECK(g::info(info));
    FUZZ_CHECK(info.width >= 1 && info.width <= 16384 && info.height >= 1 && info.height <= 16384);
    rtos::display::Framebuffer* fb = rtos::display::primary();
    FUZZ_CHECK(fb != nullptr);

    while (in.remaining_bytes() > 0) {
        switch (in.ConsumeIntegralInRange<unsigned>(0, 3)) {
        case 0: dev.deliver(0, response(in)); break;
        case 1: {
            const rtos::display::Rect r{in.ConsumeIntegral<std::uint32_t>() % (info.width + 8),
                                        in.ConsumeIntegral<std::uint32_t>() % (info.height + 8),
                                        in.ConsumeIntegralInRange<std::uint32_t>(0, 80),
                                        in.ConsumeIntegralInRange<std::uint32_t>(0, 80)};
            fb->fill(r, in.ConsumeIntegral<std::uint32_t>());
            (void)fb->flush();
            break;
        }
        case 2: {
            const std::uint32_t events = in.ConsumeIntegral<std::uint32_t>();
            dev.fake.change_config(g::CFG_EVENTS_READ,
                                   {reinterpret_cast<const std::uint8_t*>(&events), 4});
            dev.fake.raise_config_change();
            dev.process(0);
            break;
        }
        case 3:
            dev.fake.inject(static_cast<fake::UsedFault>(in.ConsumeIntegralInRange<int>(1, 4)),
                            in.ConsumeIntegral<std::uint16_t>());
            break;
        }
    }
    return 0;
}
