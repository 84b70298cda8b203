// Fuzz target: virtio-console's control queue and port data.
//
// The virtio-console driver (components/drivers/virtio/console/
// virtio_console.cpp, included below so its file-local device table starts
// empty for every input) with MULTIPORT and SIZE as the input offers them
// and any max_nr_ports. The input is a script: control messages on the
// control receive queue (PORT_ADD, PORT_NAME with any name bytes, OPEN,
// RESIZE, REMOVE, CONSOLE_PORT, unknown events, any port id, short
// messages, lying used lengths), data on any port's receive queue, ring
// faults, config changes, and the thread side opening ports by number and
// by name, reading, writing and closing them. Checked: reads return at most
// what was asked and only bytes the device sent, port names stay short,
// terminated and printable, and nothing is touched outside its buffer.
#include <cstdio>  // before rtos/format.hpp: clang wants the C library's snprintf first
#include <string>

#include "driver_table.hpp"
#include "drivers/virtio/console/virtio_console.cpp"
#include "harness.hpp"
#include "scripted_device.hpp"

// The kernel console's input (only with CONFIG_VIRTIO_CONSOLE_SHELL, off here).
std::size_t rtos::console::rx_push_from_isr(const char*, std::size_t n) { return n; }

namespace {

namespace ser = rtos::serial;

std::vector<std::uint8_t> control(std::uint32_t id, std::uint16_t event, std::uint16_t value) {
    std::vector<std::uint8_t> m(8);
    std::memcpy(&m[0], &id, 4);
    std::memcpy(&m[4], &event, 2);
    std::memcpy(&m[6], &value, 2);
    return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::begin_driver_input();
    ser::devices_found = 0;
    for (auto& d : ser::devices) d = nullptr;
    FuzzedDataProvider in(data, size);

    driver_test::DeviceSetup s;
    s.version = in.ConsumeBool() ? virtio::mmio::VERSION_LEGACY : virtio::mmio::VERSION_MODERN;
    s.device_id = virtio::VIRTIO_ID_CONSOLE;
    s.features = in.ConsumeIntegralInRange<std::uint64_t>(0, 3);  // SIZE, MULTIPORT
    s.num_queues = 2 + 2 * 5;
    s.config_size = 12;
    fuzz::ScriptedDevice dev(s, in);
    std::uint8_t cfg[8];
    const std::uint16_t cols = in.ConsumeIntegral<std::uint16_t>(), rows = 24;
    std::memcpy(cfg, &cols, 2);
    std::memcpy(cfg + 2, &rows, 2);
    const std::uint32_t max_ports = in.ConsumeBool()
                                        ? in.ConsumeIntegral<std::uint32_t>()
                                        : in.ConsumeIntegralInRange<std::uint32_t>(0, 6);
    std::memcpy(cfg + 4, &max_ports, 4);
    dev.fake.change_config(0, cfg);

    if (!dev.probe()) return 0;
    FUZZ_CHECK(ser::device_count() == 1);

    std::size_t sent_bytes = 0, read_bytes = 0;  // port data in and out of the driver
    bool lied = false;
    ser::Port* open_ports[4] = {};
    std::uint8_t buf[200];
    while (in.remaining_bytes() > 0) {
        switch (in.ConsumeIntegralInRange<unsigned>(0, 9)) {
        case 0:
        case 1: {  // a control message
            static constexpr std::uint16_t kEvents[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 0xffff};
            const std::uint32_t id = in.ConsumeBool()
                                         ? in.ConsumeIntegralInRange<std::uint32_t>(0, 5)
                                         : in.ConsumeIntegral<std::uint32_t>();
            fuzz::Delivery d;
            d.bytes = control(id, kEvents[in.ConsumeIntegralInRange<std::size_t>(0, 9)],
                              in.ConsumeIntegral<std::uint16_t>());
            const std::vector<std::uint8_t> tail =
                in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(0, 140));
            d.bytes.insert(d.bytes.end(), tail.begin(), tail.end());
            if (in.ConsumeIntegralInRange<unsigned>(0, 3) == 0)
                d.used_len = in.ConsumeIntegralInRange<std::uint32_t>(0, 200);
            dev.deliver(2, std::move(d));
            break;
        }
        case 2: {  // data for a port
            const unsigned port = in.ConsumeIntegralInRange<unsigned>(0, 4);
            fuzz::Delivery d = fuzz::ScriptedDevice::from_input(in, 100);
            if (!d.used_len) sent_bytes += std::min<std::size_t>(d.bytes.size(), 64);
            else sent_bytes += std::min<std::uint32_t>(*d.used_len, 64);
            dev.deliver(static_cast<std::uint16_t>(port == 0 ? 0 : 2 + 2 * port), std::move(d));
            break;
        }
        case 3:
            lied = true;  // stale used entries may be taken: no counting
            dev.fake.inject(static_cast<fake::UsedFault>(in.ConsumeIntegralInRange<int>(1, 4)),
                            in.ConsumeIntegral<std::uint16_t>());
            break;
        case 4: {  // open by number or by name
            const unsigned slot = in.ConsumeIntegralInRange<unsigned>(0, 3);
            if (open_ports[slot]) break;
            const std::string name = in.ConsumeBool()
                                         ? std::to_string(in.ConsumeIntegralInRange<unsigned>(0, 5))
                                         : in.ConsumeRandomLengthString(12);
            open_ports[slot] = ser::open(name.c_str(), rtos::Timeout::none());
            break;
        }
        case 5: {
            ser::Port* p = open_ports[in.ConsumeIntegralInRange<unsigned>(0, 3)];
            if (!p) break;
            const std::size_t n = in.ConsumeIntegralInRange<std::size_t>(1, sizeof(buf));
            const long r = ser::read(
                p, buf, n, rtos::Timeout::ticks(in.ConsumeIntegralInRange<unsigned>(0, 2)));
            FUZZ_CHECK(r <= static_cast<long>(n));
            if (r > 0) read_bytes += static_cast<std::size_t>(r);
            FUZZ_CHECK(lied || read_bytes <= sent_bytes);
            break;
        }
        case 6: {
            ser::Port* p = open_ports[in.ConsumeIntegralInRange<unsigned>(0, 3)];
            if (!p) break;
            const std::vector<std::uint8_t> bytes =
                in.ConsumeBytes<std::uint8_t>(in.ConsumeIntegralInRange<std::size_t>(1, 150));
            if (bytes.empty()) break;
            const long r = ser::write(p, bytes.data(), bytes.size(), rtos::Timeout::ticks(1));
            FUZZ_CHECK(r <= static_cast<long>(bytes.size()));
            break;
        }
        case 7: {
            const unsigned slot = in.ConsumeIntegralInRange<unsigned>(0, 3);
            ser::close(open_ports[slot]);
            open_ports[slot] = nullptr;
            break;
        }
        case 8: {
            const std::uint16_t c = in.ConsumeIntegral<std::uint16_t>();
            dev.fake.change_config(0, {reinterpret_cast<const std::uint8_t*>(&c), 2});
            dev.fake.raise_config_change();
            dev.process(0);
            break;
        }
        case 9:
            for (unsigned i = 0;; ++i) {
                ser::PortInfo info;
                if (!ser::port_info(i, info)) break;
                FUZZ_CHECK(i < 4);
                const std::size_t len = strnlen(info.name, 64);
                FUZZ_CHECK(len < 64);
                for (std::size_t k = 0; k < len; ++k)
                    FUZZ_CHECK(info.name[k] > 0x20 && info.name[k] < 0x7f);
            }
            break;
        }
    }
    return 0;
}
