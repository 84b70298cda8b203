// The virtio-input driver behind rtos::input on the host: the fake
// virtio-mmio device plays QEMU's virtio-input (5.8): configuration answers
// chosen by the driver's select/subsel writes, events written into the
// event queue's buffers. Checked: what the driver learns from the config
// (name, serial, ids, properties, types, codes, axes) and what it refuses
// (sizes above 128, short ids and abs info, min > max, unprintable names),
// events reaching every subscriber in order through more
// events than the ring holds, a slow subscriber's losses (counted, then
// SYN_DROPPED), used buffers shorter than an event (counted and dropped,
// never read) and a device that breaks the ring (stopped).
#include <gtest/gtest.h>

#include <cstring>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <rtos/critical.hpp>

#include "drivers/input/input.hpp"
#include "driver_env.hpp"
#include "log_capture.hpp"
#include "rig.hpp"
#include "scenario.hpp"
#include "sim.hpp"

namespace {

namespace in = rtos::input;
using host_log::LogCapture;
using rtos::Status;
using rtos::Timeout;

constexpr unsigned kQueue = CONFIG_VIRTIO_INPUT_QUEUE_SIZE;
constexpr unsigned kBuffer = CONFIG_INPUT_EVENT_BUFFER;

// 5.8.5, spelled out again on purpose (the driver's are file-local).
constexpr std::uint8_t ID_NAME = 0x01, ID_SERIAL = 0x02, ID_DEVIDS = 0x03, PROP_BITS = 0x10,
                       EV_BITS = 0x11, ABS_INFO = 0x12;
constexpr std::size_t kConfigSize = 136;  // sizeof(struct virtio_input_config)

void put16(std::vector<std::uint8_t>& v, std::uint16_t x) {
    v.push_back(static_cast<std::uint8_t>(x));
    v.push_back(static_cast<std::uint8_t>(x >> 8));
}
void put32(std::vector<std::uint8_t>& v, std::int32_t x) {
    for (int i = 0; i < 4; ++i)
        v.push_back(static_cast<std::uint8_t>(static_cast<std::uint32_t>(x) >> (8 * i)));
}

/// The device side of virtio-input.
struct InputModel {
    struct Answer {
        unsigned size;  // what the size field says (may be bogus)
        std::vector<std::uint8_t> bytes;
    };
    std::map<std::pair<std::uint8_t, std::uint8_t>, Answer> answers;
    std::deque<std::vector<std::uint8_t>> pending;  // event bytes, oldest first
    std::vector<std::string> errors;

    void answer(std::uint8_t select, std::uint8_t subsel, std::vector<std::uint8_t> bytes) {
        const unsigned size = static_cast<unsigned>(bytes.size());
        answers[{select, subsel}] = {size, std::move(bytes)};
    }
    void answer_string(std::uint8_t select, const std::string& s) {
        answer(select, 0, std::vector<std::uint8_t>(s.begin(), s.end()));
    }
    void answer_bits(std::uint16_t type, std::initializer_list<unsigned> codes) {
        std::vector<std::uint8_t> bitmap;
        for (unsigned c : codes) {
            if (bitmap.size() <= c / 8) bitmap.resize(c / 8 + 1);
            bitmap[c / 8] |= static_cast<std::uint8_t>(1u << (c % 8));
        }
        answer(EV_BITS, static_cast<std::uint8_t>(type), bitmap);
    }
    void answer_abs(std::uint8_t axis, std::int32_t min, std::int32_t max, std::int32_t fuzz = 0,
                    std::int32_t flat = 0, std::int32_t res = 0) {
        std::vector<std::uint8_t> v;
        for (std::int32_t x : {min, max, fuzz, flat, res}) put32(v, x);
        answer(ABS_INFO, axis, v);
    }
    void send(std::uint16_t type, std::uint16_t code, std::int32_t value) {
        std::vector<std::uint8_t> v;
        put16(v, type);
        put16(v, code);
        put32(v, value);
        pending.push_back(v);
    }

    // After a config write: select (0) and subsel (1) pick the answer, as
    // QEMU's virtio_input_cfg_select() does (no generation change).
    void on_config_write(fake::FakeMmioDevice& dev, std::uint32_t offset) {
        if (offset > 1) return;
        std::span<std::uint8_t> cfg = dev.config_space();
        std::memset(cfg.data() + 2, 0, cfg.size() - 2);
        auto it = answers.find({cfg[0], cfg[1]});
        if (it == answers.end()) return;
        cfg[2] = static_cast<std::uint8_t>(it->second.size);
        const std::size_t n = std::min(it->second.bytes.size(), cfg.size() - 8);
        std::memcpy(cfg.data() + 8, it->second.bytes.data(), n);
    }

    std::uint32_t serve(std::uint16_t queue, fake::Chain& chain) {
        if (queue != 0) {
            errors.push_back("buffer on queue " + std::to_string(queue));
            return 0;
        }
        if (!chain.readable.empty() || chain.writable_bytes() != 8)
            errors.push_back("event buffer not 8 device-writable bytes");
        if (pending.empty()) return fake::kNotYet;
        std::vector<std::uint8_t> e = std::move(pending.front());
        pending.pop_front();
        std::size_t done = 0;
        for (auto w : chain.writable) {
            const std::size_t k = std::min(w.size(), e.size() - done);
            if (k) std::memcpy(w.data(), e.data() + done, k);
            done += k;
        }
        return static_cast<std::uint32_t>(e.size());  // short answers report what they wrote
    }
};

driver_test::DeviceSetup input_device() {
    driver_test::DeviceSetup d;
    d.version = rig::scenario_version;
    d.device_id = virtio::VIRTIO_ID_INPUT;
    d.config_size = kConfigSize;
    return d;
}

/// The shared driver environment with InputModel as the device.
struct Env : driver_test::DriverEnv {
    InputModel model;

    Env() : DriverEnv(input_device()) {
        fake.behaviour = [this](std::uint16_t q, fake::Chain& c) { return model.serve(q, c); };
        fake.on_config_write = [this](std::uint32_t offset) {
            model.on_config_write(fake, offset);
        };
    }

    void boot() { probe(); }
    /// The device delivers what it has into the available buffers and raises the interrupt.
    void device_work() { process(0); }
    std::string problems() const {
        std::string s = fake.violations_text();
        for (const auto& e : model.errors) s += e + "\n";
        return s;
    }
};

// A tablet as QEMU describes one.
void describe_tablet(InputModel& m) {
    m.answer_string(ID_NAME, "Test Tablet");
    m.answer_string(ID_SERIAL, "SN42");
    std::vector<std::uint8_t> ids;
    for (std::uint16_t x : {0x06, 0x0627, 0x0003, 0x0002}) put16(ids, x);
    m.answer(ID_DEVIDS, 0, ids);
    m.answer(PROP_BITS, 0, {0x02});  // INPUT_PROP_DIRECT
    m.answer_bits(in::EV_KEY, {in::BTN_LEFT, in::BTN_RIGHT});
    m.answer_bits(in::EV_ABS, {in::ABS_X, in::ABS_Y});
    m.answer_abs(in::ABS_X, 0, 32767);
    m.answer_abs(in::ABS_Y, -100, 100, 1, 2, 5);
}

bool read_is(in::Subscriber& s, std::uint16_t type, std::uint16_t code, std::int32_t value) {
    in::Event e{};
    if (s.read(e, Timeout::ticks(10)) != Status::ok) {
        sim::fail(__FILE__, __LINE__, "no event");
        return false;
    }
    if (e.device == 0 && e.type == type && e.code == code && e.value == value) return true;
    sim::fail(__FILE__, __LINE__,
              "event " + std::to_string(e.type) + " " + std::to_string(e.code) + " " +
                  std::to_string(e.value) + ", expected " + std::to_string(type) + " " +
                  std::to_string(code) + " " + std::to_string(value));
    return false;
}

void identifies_tablet() {
    LogCapture log;
    Env& e = *new Env;
    describe_tablet(e.model);
    e.boot();
    SIM_CHECK(e.probed);
    SIM_CHECK_EQ(in::device_count(), 1u);
    const in::Device& d = *in::device(0);
    SIM_CHECK_EQ(std::string(d.name()), std::string("input0"));
    SIM_CHECK_EQ(std::string(d.product_name()), std::string("Test Tablet"));
    SIM_CHECK_EQ(std::string(d.serial()), std::string("SN42"));
    SIM_CHECK_EQ(std::string(d.location()), std::string("virtio-input@0x10008000"));
    SIM_CHECK_EQ(d.ids().bustype, 0x06);
    SIM_CHECK_EQ(d.ids().vendor, 0x0627);
    SIM_CHECK_EQ(d.ids().product, 0x0003);
    SIM_CHECK_EQ(d.ids().version, 0x0002);
    SIM_CHECK_EQ(d.types(), (1u << in::EV_KEY) | (1u << in::EV_ABS));
    SIM_CHECK_EQ(d.props(), 0x2u);
    SIM_CHECK(d.has_code(in::EV_KEY, in::BTN_LEFT) && d.has_code(in::EV_KEY, in::BTN_RIGHT));
    SIM_CHECK(!d.has_code(in::EV_KEY, in::BTN_MIDDLE) && !d.has_code(in::EV_KEY, in::KEY_A));
    SIM_CHECK(d.has_code(in::EV_ABS, in::ABS_X) && !d.has_code(in::EV_REL, in::REL_X));
    SIM_CHECK(d.abs(in::ABS_X) && d.abs(in::ABS_X)->min == 0 && d.abs(in::ABS_X)->max == 32767);
    const in::AbsInfo* y = d.abs(in::ABS_Y);
    SIM_CHECK(y && y->min == -100 && y->max == 100 && y->fuzz == 1 && y->flat == 2 && y->res == 5);
    SIM_CHECK(d.abs(2) == nullptr);
    const std::string mode = rig::scenario_version == rig::kLegacy ? "legacy" : "modern";
    // No feature bits of its own: the core's only.
    SIM_CHECK(log.contains("virtio-input: mmio " + mode + " @0x10008000 irq 8" +
                           rig::queue_words(8, rig::scenario_layout) +
                           " input0 name \"Test Tablet\" ev 0xa features " +
                           rig::feature_words("", rig::scenario_layout) + "\n"));
    // Every buffer is with the device, 8 device-writable bytes each.
    SIM_CHECK_EQ(e.fake.queue(0).num, kQueue);
    SIM_CHECK_EQ(e.problems(), std::string());
}

void events_in_order_past_the_ring() {
    Env& e = *new Env;
    describe_tablet(e.model);
    e.fake.process_on_notify = false;  // the device works when the test says so
    e.boot();
    SIM_CHECK(e.probed);
    in::Subscriber a, b;
    // Five rounds of a full ring: every buffer must come back each time.
    for (int round = 0; round < 5; ++round) {
        for (unsigned i = 0; i < kQueue; ++i) {
            const bool last = i == kQueue - 1;
            e.model.send(last ? in::EV_SYN : in::EV_ABS,
                         last ? in::SYN_REPORT : static_cast<std::uint16_t>(i % 2),
                         last ? 0 : round * 1000 - static_cast<std::int32_t>(i));
        }
        e.device_work();
        SIM_CHECK(e.model.pending.empty());
        for (in::Subscriber* s : {&a, &b})
            for (unsigned i = 0; i < kQueue; ++i) {
                const bool last = i == kQueue - 1;
                read_is(*s, last ? in::EV_SYN : in::EV_ABS,
                        last ? in::SYN_REPORT : static_cast<std::uint16_t>(i % 2),
                        last ? 0 : round * 1000 - static_cast<std::int32_t>(i));
            }
    }
    SIM_CHECK_EQ(e.fake.queue(0).chains, 5u * kQueue);
    SIM_CHECK_EQ(in::device(0)->events(), 5u * kQueue);
    SIM_CHECK_EQ(a.dropped(), 0u);
    SIM_CHECK_EQ(b.dropped(), 0u);
    in::Event ev;
    SIM_CHECK_STATUS(a.read(ev, Timeout::ticks(3)), Status::timeout);
    SIM_CHECK_EQ(e.problems(), std::string());
}

void slow_subscriber_loses_counted() {
    Env& e = *new Env;
    describe_tablet(e.model);
    e.fake.process_on_notify = false;
    e.boot();
    in::Subscriber s;
    const unsigned total = kBuffer + kQueue;  // kQueue more than the subscriber holds
    for (unsigned sent = 0; sent < total;) {
        for (unsigned i = 0; i < kQueue; ++i, ++sent)
            e.model.send(in::EV_REL, in::REL_X, static_cast<std::int32_t>(sent));
        e.device_work();
    }
    for (unsigned i = 0; i < kBuffer; ++i)
        read_is(s, in::EV_REL, in::REL_X, static_cast<std::int32_t>(i));
    in::Event ev;
    SIM_CHECK_STATUS(s.read(ev, Timeout::ticks(3)), Status::timeout);
    SIM_CHECK_EQ(s.dropped(), std::uint64_t{kQueue});
    // The next event comes after a SYN_DROPPED.
    e.model.send(in::EV_REL, in::REL_Y, -7);
    e.device_work();
    read_is(s, in::EV_SYN, in::SYN_DROPPED, 0);
    read_is(s, in::EV_REL, in::REL_Y, -7);
    SIM_CHECK_EQ(in::device(0)->errors(), 0u);
    SIM_CHECK_EQ(e.problems(), std::string());
}

void bogus_config_is_refused() {
    LogCapture log;
    Env& e = *new Env;
    InputModel& m = e.model;
    m.answers[{ID_NAME, 0}] = {200, std::vector<std::uint8_t>(128, 'X')};  // size past the union
    m.answer_string(ID_SERIAL, std::string("S\x07N\nZ", 5));               // unprintables
    m.answer(ID_DEVIDS, 0, {1, 2, 3, 4});                                  // shorter than devids
    m.answers[{PROP_BITS, 0}] = {255, std::vector<std::uint8_t>(128, 0xff)};
    m.answers[{EV_BITS, in::EV_KEY}] = {129, std::vector<std::uint8_t>(128, 0xff)};
    m.answer_bits(in::EV_ABS, {0, 1, 2});
    m.answer(ABS_INFO, 0, {0, 0, 0, 0, 0xff, 0x7f, 0, 0});  // 8 bytes, shorter than absinfo
    m.answer_abs(1, 10, 5);                                 // min > max
    m.answer_abs(2, -5, 10);
    e.boot();
    SIM_CHECK(e.probed);
    const in::Device& d = *in::device(0);
    SIM_CHECK_EQ(std::string(d.product_name()), std::string());
    SIM_CHECK_EQ(std::string(d.serial()), std::string("S?N?Z"));
    SIM_CHECK_EQ(d.ids().bustype, 0);
    SIM_CHECK_EQ(d.ids().vendor, 0);
    SIM_CHECK_EQ(d.props(), 0u);
    SIM_CHECK_EQ(d.types(), 1u << in::EV_ABS);  // EV_KEY's answer was refused
    SIM_CHECK(!d.has_code(in::EV_KEY, 1));
    SIM_CHECK(d.abs(0) == nullptr);
    SIM_CHECK(d.abs(1) == nullptr);
    SIM_CHECK(d.abs(2) && d.abs(2)->min == -5 && d.abs(2)->max == 10);
    SIM_CHECK(log.contains(
        "virtio-input@0x10008000: config select 0x1 subsel 0: size 200 > 128; ignored"));
    SIM_CHECK(log.contains(
        "virtio-input@0x10008000: config select 0x11 subsel 0x1: size 129 > 128; ignored"));
    SIM_CHECK(log.contains(
        "virtio-input@0x10008000: config select 0x10 subsel 0: size 255 > 128; ignored"));
    SIM_CHECK(log.contains("virtio-input@0x10008000: device ids of 4 bytes (< 8); ignored"));
    SIM_CHECK(log.contains("virtio-input@0x10008000: abs axis 0: info of 8 bytes (< 20); ignored"));
    SIM_CHECK(log.contains("virtio-input@0x10008000: abs axis 1: min 10 > max 5; ignored"));
    SIM_CHECK(log.contains(" input0 name \"\" ev 0x8 features "));
    // The device still works.
    in::Subscriber s;
    e.model.send(in::EV_ABS, 2, 9);
    e.device_work();
    read_is(s, in::EV_ABS, 2, 9);
    SIM_CHECK_EQ(e.problems(), std::string());  // no config read beyond the config space
}

void short_events_are_dropped() {
    LogCapture log;
    Env& e = *new Env;
    describe_tablet(e.model);
    e.fake.process_on_notify = false;
    e.boot();
    in::Subscriber s;
    // Two short used buffers (4 bytes, 0 bytes) around good events; the
    // driver gets the buffer back for every one of them.
    for (int round = 0; round < 3; ++round) {
        e.model.send(in::EV_ABS, in::ABS_X, 100 + round);
        e.model.pending.push_back({0x03, 0x00, 0x01, 0x00});
        e.model.pending.push_back({});
        e.model.send(in::EV_ABS, in::ABS_Y, 200 + round);
        e.model.send(in::EV_SYN, in::SYN_REPORT, 0);
        e.device_work();
        read_is(s, in::EV_ABS, in::ABS_X, 100 + round);
        read_is(s, in::EV_ABS, in::ABS_Y, 200 + round);
        read_is(s, in::EV_SYN, in::SYN_REPORT, 0);
    }
    in::Event ev;
    SIM_CHECK_STATUS(s.read(ev, Timeout::ticks(3)), Status::timeout);
    SIM_CHECK_EQ(in::device(0)->errors(), 6u);
    SIM_CHECK_EQ(in::device(0)->events(), 9u);
    SIM_CHECK_EQ(e.fake.queue(0).chains, 15u);  // 15 > kQueue: the short ones were recycled too
    const std::string text = log.text();
    SIM_CHECK(text.find("virtio-input@0x10008000: event of 4 bytes (< 8) dropped") !=
              std::string::npos);
    SIM_CHECK(text.find("dropped") == text.rfind("dropped"));  // logged once
    SIM_CHECK_EQ(e.problems(), std::string());
}

void broken_ring_stops_the_device() {
    LogCapture log;
    Env& e = *new Env;
    describe_tablet(e.model);
    e.boot();
    in::Subscriber s;
    {
        rtos::IrqLock lock;
        e.fake.inject(fake::UsedFault::id_out_of_range);
    }
    e.model.send(in::EV_ABS, in::ABS_X, 1);
    e.device_work();
    in::Event ev;
    SIM_CHECK_STATUS(s.read(ev, Timeout::ticks(5)), Status::timeout);
    SIM_CHECK(
        log.contains("virtio-input@0x10008000: the device broke the event ring; device stopped"));
    SIM_CHECK_EQ(e.fake.status(), 0u);  // reset
    // A later interrupt does nothing.
    e.model.send(in::EV_ABS, in::ABS_X, 2);
    e.device_work();
    SIM_CHECK_STATUS(s.read(ev, Timeout::ticks(5)), Status::timeout);
}

void length_past_the_buffer_stops_the_device() {
    LogCapture log;
    Env& e = *new Env;
    describe_tablet(e.model);
    e.boot();
    in::Subscriber s;
    e.model.pending.push_back(std::vector<std::uint8_t>(12, 0x01));  // used len 12 > 8
    e.device_work();
    in::Event ev;
    SIM_CHECK_STATUS(s.read(ev, Timeout::ticks(5)), Status::timeout);
    SIM_CHECK(log.contains("device stopped"));
}

class VirtioInput : public rig::VersionScenarios {};

TEST_P(VirtioInput, IdentifiesTablet) { EXPECT_EQ(run(identifies_tablet), 0); }
TEST_P(VirtioInput, EventsInOrderPastTheRing) { EXPECT_EQ(run(events_in_order_past_the_ring), 0); }
TEST_P(VirtioInput, SlowSubscriberLosesCounted) {
    EXPECT_EQ(run(slow_subscriber_loses_counted), 0);
}
TEST_P(VirtioInput, BogusConfigIsRefused) { EXPECT_EQ(run(bogus_config_is_refused), 0); }
TEST_P(VirtioInput, ShortEventsAreDropped) { EXPECT_EQ(run(short_events_are_dropped), 0); }
TEST_P(VirtioInput, BrokenRingStopsTheDevice) { EXPECT_EQ(run(broken_ring_stops_the_device), 0); }
TEST_P(VirtioInput, LengthPastTheBufferStopsTheDevice) {
    EXPECT_EQ(run(length_past_the_buffer_stops_the_device), 0);
}

INSTANTIATE_TEST_SUITE_P(Layouts, VirtioInput, testing::ValuesIn(rig::enabled_layouts()),
                         rig::version_name);

}  // namespace
