// Fuzz target: virtio-input's configuration answers and events.
//
// The virtio-input driver (components/drivers/virtio/input/virtio_input.cpp)
// and the input layer (components/drivers/input/input.cpp), both included
// below so their file-local registries start empty for every input. The
// input gives the device's answer to each (select, subsel) the driver asks
// for at probe time (a size byte that may exceed the 128-byte union, and the
// bytes: names, ids, property and event-type bitmaps, axis ranges), whether
// the configuration generation moves under the reads, then a script of
// events (any 8 bytes, any used length), injected ring faults and config
// changes, read by a subscriber. Checked: the strings the driver keeps are
// terminated and printable, an axis kept has min <= max, and events reach
// the subscriber in order, nothing but what the device sent.
#include <cstdio>  // before rtos/format.hpp: clang wants the C library's snprintf first
#include <map>

#include "driver_table.hpp"
#include "drivers/input/input.cpp"
#include "drivers/virtio/input/virtio_input.cpp"
#include "harness.hpp"
#include "scripted_device.hpp"

namespace {

namespace in = rtos::input;

void check_text(const char* s, std::size_t room) {
    const std::size_t n = strnlen(s, room);
    FUZZ_CHECK(n < room);
    for (std::size_t i = 0; i < n; ++i) FUZZ_CHECK(s[i] >= 0x20 && s[i] < 0x7f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::begin_driver_input();
    rtos::input::devices_added = 0;
    FuzzedDataProvider input(data, size);

    driver_test::DeviceSetup s;
    s.version = input.ConsumeBool() ? virtio::mmio::VERSION_LEGACY : virtio::mmio::VERSION_MODERN;
    s.device_id = virtio::VIRTIO_ID_INPUT;
    s.features = input.ConsumeIntegral<std::uint64_t>();
    s.config_size = 136;
    s.queue_num_max = input.ConsumeIntegralInRange<std::uint32_t>(0, 16);
    fuzz::ScriptedDevice dev(s, input);

    // The answers: (select, subsel) -> size byte and bytes.
    std::map<std::uint16_t, std::pair<std::uint8_t, std::vector<std::uint8_t>>> answers;
    const unsigned n = input.ConsumeIntegralInRange<unsigned>(0, 24);
    for (unsigned i = 0; i < n; ++i) {
        static constexpr std::uint8_t kSelects[] = {0x01, 0x02, 0x03, 0x10, 0x11, 0x12};
        const std::uint8_t sel = kSelects[input.ConsumeIntegralInRange<std::size_t>(0, 5)];
        const std::uint8_t sub = input.ConsumeIntegralInRange<std::uint8_t>(0, 0x3f);
        const std::uint8_t sz = input.ConsumeIntegral<std::uint8_t>();
        answers[static_cast<std::uint16_t>(sel << 8 | sub)] = {
            sz,
            input.ConsumeBytes<std::uint8_t>(input.ConsumeIntegralInRange<std::size_t>(0, 128))};
    }
    const bool unstable = input.ConsumeIntegralInRange<unsigned>(0, 15) == 0;
    dev.fake.on_config_write = [&](std::uint32_t offset) {
        if (offset > 1) return;
        std::span<std::uint8_t> cfg = dev.fake.config_space();
        std::memset(cfg.data() + 2, 0, cfg.size() - 2);
        auto it = answers.find(static_cast<std::uint16_t>(cfg[0] << 8 | cfg[1]));
        if (it == answers.end()) return;
        cfg[2] = it->second.first;
        if (!it->second.second.empty())
            std::memcpy(cfg.data() + 8, it->second.second.data(), it->second.second.size());
    };
    if (unstable) dev.fake.on_config_read = [&](std::uint32_t) { dev.fake.raise_config_change(); };

    in::Subscriber sub;
    const bool probed = dev.probe();
    dev.fake.on_config_read = nullptr;
    in::Device* d = in::device(0);
    if (!probed || d == nullptr) return 0;
    check_text(d->product_name(), 64);  // in::Device::product_
    check_text(d->serial(), 64);
    for (std::uint16_t axis = 0; axis < in::kAbsAxes; ++axis)
        if (const in::AbsInfo* a = d->abs(axis)) FUZZ_CHECK(a->min <= a->max);

    std::size_t reported = 0;  // used entries of at least one event
    std::size_t read = 0;
    bool lied = false;
    while (input.remaining_bytes() > 0) {
        switch (input.ConsumeIntegralInRange<unsigned>(0, 4)) {
        case 0:
        case 1: {
            fuzz::Delivery e = fuzz::ScriptedDevice::from_input(input, 12);
            reported += e.used_len.value_or(static_cast<std::uint32_t>(e.bytes.size())) >= 8;
            dev.deliver(0, std::move(e));
            break;
        }
        case 2:
            lied = true;  // stale used entries may be taken: no counting
            dev.fake.inject(static_cast<fake::UsedFault>(input.ConsumeIntegralInRange<int>(1, 4)),
                            input.ConsumeIntegral<std::uint16_t>());
            break;
        case 3:
            dev.fake.raise_config_change();
            dev.process(0);
            break;
        case 4: {
            in::Event e;
            while (sub.read(e, rtos::Timeout::none()) == rtos::Status::ok) {
                FUZZ_CHECK(e.device == 0);
                if (e.type == in::EV_SYN && e.code == in::SYN_DROPPED) continue;
                FUZZ_CHECK(lied || ++read <= reported);  // nothing the device did not send
            }
            break;
        }
        }
    }
    return 0;
}
