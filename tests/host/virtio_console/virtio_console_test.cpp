// The virtio-console driver end to end on the host: port API -> driver ->
// virtqueues -> virtio-mmio registers -> fake device -> console model, and
// back through the interrupt path, on the real kernel (sim.hpp). The control
// protocol is checked message by message, including a device that announces
// port ids out of range, names without terminator and short messages. Every
// scenario runs for each register layout this build drives, in a child
// process.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include <rtos/clock.hpp>
#include <rtos/critical.hpp>
#include <rtos/thread.hpp>

#include "drivers/serial/console_port.hpp"
#include "env.hpp"
#include "rig.hpp"
#include "scenario.hpp"
#include "sim.hpp"

using namespace console_test;
using rtos::Status;
using rtos::Timeout;
namespace serial = rtos::serial;

namespace {

constexpr unsigned kBuffers = CONFIG_VIRTIO_CONSOLE_BUFFERS;
constexpr unsigned kBufSize = CONFIG_VIRTIO_CONSOLE_BUFFER_SIZE;
constexpr unsigned kManaged = CONFIG_VIRTIO_CONSOLE_MAX_PORTS;
constexpr unsigned kWindow = kBuffers * kBufSize;  // bytes the device may deliver unread

void check_clean(Env& e) {
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
    for (auto& s : e.console.errors) std::fprintf(stderr, "model: %s\n", s.c_str());
    SIM_CHECK(e.console.errors.empty());
}

unsigned count_sent(Env& e, std::uint32_t id, std::uint16_t event, std::uint16_t value) {
    unsigned n = 0;
    for (const ControlMsg& c : e.console.from_driver)
        if (c.id == id && c.event == event && c.value == value) ++n;
    return n;
}

serial::PortInfo info_of(unsigned index) {
    serial::PortInfo i{};
    SIM_CHECK(serial::port_info(index, i));
    return i;
}

std::string pattern(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 13 + seed * 7 + (i >> 8));
    return s;
}

void host_sends(Env& e, unsigned port, const std::string& bytes) {
    {
        rtos::IrqLock lock;
        e.console.ports[port].to_guest.insert(e.console.ports[port].to_guest.end(), bytes.begin(),
                                              bytes.end());
    }
    e.device_work();
}

void host_control(Env& e, std::uint32_t id, std::uint16_t event, std::uint16_t value,
                  const std::string& tail = "") {
    {
        rtos::IrqLock lock;
        e.console.send_control(id, event, value, tail);
    }
    e.device_work();
}

// Ports 0 (console), 1 "org.test.echo" (host connected), 2 "org.test.other".
Setup three_ports() {
    Setup s;
    s.version = rig::scenario_version;
    s.ports.resize(3);
    s.ports[0].plugged = true;
    s.ports[0].console = true;
    s.ports[1].plugged = true;
    s.ports[1].name = "org.test.echo";
    s.ports[1].host_connected = true;
    s.ports[2].plugged = true;
    s.ports[2].name = "org.test.other";
    return s;
}

// Reads until `n` bytes came or a read fails; the device works in between.
std::string read_all(Env& e, serial::Port* p, std::size_t n, std::size_t piece) {
    std::string got;
    std::vector<char> buf(piece);
    while (got.size() < n) {
        const long r = serial::read(p, buf.data(), piece, Timeout::ticks(50));
        if (r <= 0) {
            sim::fail(__FILE__, __LINE__, "read failed: " + std::to_string(r));
            break;
        }
        got.append(buf.data(), static_cast<std::size_t>(r));
        e.device_work();
    }
    return got;
}

// ---- bring-up: the control protocol message by message ----

void bring_up() {
    Env& e = boot(three_ports());
    SIM_CHECK(e.probed);
    SIM_CHECK(e.console.ready_seen);
    SIM_CHECK_EQ(serial::device_count(), 1u);
    // DEVICE_READY first, then PORT_READY 1 for each added port, nothing else.
    SIM_CHECK(!e.console.from_driver.empty() && e.console.from_driver[0].event == DEVICE_READY);
    for (unsigned id = 0; id < 3; ++id) SIM_CHECK_EQ(count_sent(e, id, PORT_READY, 1), 1u);
    SIM_CHECK_EQ(e.console.from_driver.size(), 4u);

    serial::PortInfo p0 = info_of(0), p1 = info_of(1), p2 = info_of(2), p3 = info_of(3);
    SIM_CHECK(p0.present && p0.console && std::string(p0.name).empty());
    SIM_CHECK(p1.present && !p1.console && std::string(p1.name) == "org.test.echo" && p1.host_open);
    SIM_CHECK(p2.present && std::string(p2.name) == "org.test.other" && !p2.host_open);
    SIM_CHECK(!p3.present);
    SIM_CHECK(!p0.guest_open && !p1.guest_open && !p2.guest_open);
    serial::PortInfo none;
    SIM_CHECK(!serial::port_info(kManaged, none));

    // Open by name / id sends PORT_OPEN once per first user.
    SIM_CHECK(serial::open("org.test.nothing") == nullptr);
    serial::Port* a = serial::open("org.test.echo");
    SIM_CHECK(a != nullptr);
    SIM_CHECK(e.console.ports[1].guest_open);
    serial::Port* b = serial::open("1");
    SIM_CHECK(a == b);
    SIM_CHECK_EQ(count_sent(e, 1, PORT_OPEN, 1), 1u);
    serial::close(b);
    SIM_CHECK(e.console.ports[1].guest_open);
    serial::close(a);
    SIM_CHECK(!e.console.ports[1].guest_open);
    SIM_CHECK_EQ(count_sent(e, 1, PORT_OPEN, 0), 1u);
    SIM_CHECK(serial::open("3") == nullptr);  // never added

    // An opener waits, bounded, for a port to appear.
    const rtos::Tick before = rtos::clock::ticks();
    SIM_CHECK(serial::open("org.test.late", Timeout::ticks(25)) == nullptr);
    SIM_CHECK(rtos::clock::ticks() - before >= 25);
    struct Job {
        serial::Port* p = nullptr;
    } job;
    rtos::Thread* t = rtos::Thread::create(
        {.name = "opener", .priority = 5},
        [](void* arg) {
            static_cast<Job*>(arg)->p = serial::open("org.test.late", Timeout::forever());
        },
        &job, 8192);
    rtos::Thread::sleep(30);
    SIM_CHECK(job.p == nullptr);
    e.console.ports[3].plugged = true;
    e.console.ports[3].name = "org.test.late";
    host_control(e, 3, PORT_ADD, 0);  // hot-plugged: PORT_READY brings the name
    t->join();
    SIM_CHECK(job.p != nullptr);
    SIM_CHECK(e.console.ports[3].guest_open);
    SIM_CHECK_EQ(e.console.ports[3].ready, 1);
    check_clean(e);
}

// ---- data, and flow control: a slow reader loses nothing ----

void data_and_flow_control() {
    Env& e = boot(three_ports());
    serial::Port* p = serial::open("org.test.echo");
    SIM_CHECK(p != nullptr);
    if (!p) return;

    // Nothing there yet: a bounded read times out.
    char c;
    SIM_CHECK_EQ(serial::read(p, &c, 1, Timeout::ticks(5)), static_cast<long>(Status::timeout));

    // Ten windows' worth: the device fills the posted buffers and keeps the rest.
    const std::string in = pattern(10 * kWindow + 7, 1);
    host_sends(e, 1, in);
    SIM_CHECK_EQ(e.console.ports[1].to_guest.size(), in.size() - kWindow);
    rtos::Thread::sleep(20);  // the reader is slow: still nothing more taken
    e.device_work();
    SIM_CHECK_EQ(e.console.ports[1].to_guest.size(), in.size() - kWindow);
    SIM_CHECK_EQ(info_of(1).rx_bytes, static_cast<std::uint64_t>(kWindow));

    // Odd-sized reads, across buffer boundaries: every byte, in order.
    const std::string got = read_all(e, p, in.size(), 37);
    SIM_CHECK(got == in);
    SIM_CHECK(e.console.ports[1].to_guest.empty());
    SIM_CHECK_EQ(info_of(1).rx_bytes, static_cast<std::uint64_t>(in.size()));

    // A port the guest has not opened gets nothing delivered.
    host_sends(e, 2, "for later");
    SIM_CHECK_EQ(e.console.ports[2].to_guest.size(), 9u);

    // Writes larger than all transmit buffers together.
    const std::string out = pattern(3 * kWindow + 5, 2);
    SIM_CHECK_EQ(serial::write(p, out.data(), out.size(), Timeout::ticks(100)),
                 static_cast<long>(out.size()));
    SIM_CHECK(e.console.ports[1].from_guest == out);
    SIM_CHECK_EQ(info_of(1).tx_bytes, static_cast<std::uint64_t>(out.size()));

    // A reader blocked without timeout wakes when bytes arrive.
    struct Job {
        serial::Port* p;
        char buf[16];
        long r = 0;
    } job{p, {}, 0};
    rtos::Thread* t = rtos::Thread::create(
        {.name = "reader", .priority = 5},
        [](void* arg) {
            auto* j = static_cast<Job*>(arg);
            j->r = serial::read(j->p, j->buf, sizeof(j->buf));
        },
        &job, 8192);
    rtos::Thread::sleep(5);
    SIM_CHECK_EQ(job.r, 0L);
    host_sends(e, 1, "wake");
    t->join();
    SIM_CHECK_EQ(job.r, 4L);
    SIM_CHECK(std::string(job.buf, 4) == "wake");
    check_clean(e);
}

// ---- a caller behind another one waits no longer than its timeout ----

struct Caller {
    serial::Port* p;
    std::string data;
    long r = 0;
};

rtos::Thread* start(const char* name, void (*fn)(void*), Caller& c) {
    return rtos::Thread::create({.name = name, .priority = 5}, fn, &c, 8192);
}

void waits_behind_another_caller() {
    Env& e = boot(three_ports());
    serial::Port* p = serial::open("org.test.echo");
    SIM_CHECK(p != nullptr);
    if (!p) return;
    // A writer without timeout that waits for transmit buffers (the host
    // reads nothing) holds the port; another writer's timeout still ends
    // its wait (`vcon write` behind a service).
    e.console.ports[1].stalled = true;
    Caller w{p, pattern(kWindow + 5, 3), 0};
    rtos::Thread* tw = start(
        "writer",
        [](void* a) {
            auto* c = static_cast<Caller*>(a);
            c->r = serial::write(c->p, c->data.data(), c->data.size());
        },
        w);
    rtos::Thread::sleep(5);
    SIM_CHECK_EQ(w.r, 0L);
    SIM_CHECK_EQ(serial::write(p, "x", 1, Timeout::ticks(5)), static_cast<long>(Status::timeout));
    // Likewise a reader without timeout and a second reader.
    Caller r{p, std::string(16, '\0'), 0};
    rtos::Thread* tr = start(
        "reader",
        [](void* a) {
            auto* c = static_cast<Caller*>(a);
            c->r = serial::read(c->p, c->data.data(), c->data.size());
        },
        r);
    rtos::Thread::sleep(5);
    char c;
    SIM_CHECK_EQ(serial::read(p, &c, 1, Timeout::ticks(5)), static_cast<long>(Status::timeout));
    // The first callers finish, with nothing of the others in between.
    e.console.ports[1].stalled = false;
    e.device_work();
    tw->join();
    SIM_CHECK_EQ(w.r, static_cast<long>(w.data.size()));
    SIM_CHECK(e.console.ports[1].from_guest == w.data);
    host_sends(e, 1, "wake");
    tr->join();
    SIM_CHECK_EQ(r.r, 4L);
    SIM_CHECK(r.data.substr(0, 4) == "wake");
    check_clean(e);
}

// ---- the host end closes and comes back ----

void host_close_reopen() {
    Env& e = boot(three_ports());
    serial::Port* p = serial::open("org.test.echo");
    SIM_CHECK(p != nullptr);
    if (!p) return;
    host_control(e, 1, PORT_OPEN, 0);
    e.console.ports[1].host_connected = false;
    SIM_CHECK(!info_of(1).host_open);
    SIM_CHECK_EQ(serial::write(p, "lost", 4, Timeout::ticks(5)), static_cast<long>(Status::busy));
    e.console.ports[1].host_connected = true;
    host_control(e, 1, PORT_OPEN, 1);
    SIM_CHECK(info_of(1).host_open);
    host_sends(e, 1, "again");
    SIM_CHECK(read_all(e, p, 5, 16) == "again");
    SIM_CHECK_EQ(serial::write(p, "back", 4, Timeout::ticks(5)), 4L);
    SIM_CHECK(e.console.ports[1].from_guest == "back");
    check_clean(e);
}

// ---- ids out of range, unknown events, short messages ----

void ids_out_of_range() {
    Setup s = three_ports();
    s.max_ports = 10;  // the device has 10 slots, the driver manages kManaged
    s.ports.resize(10);
    s.ports[6].plugged = true;
    s.ports[6].name = "org.test.far";
    LogCapture log;
    Env& e = boot(s);
    SIM_CHECK(e.probed);
    // A port the device has but we do not manage is refused, not ignored.
    SIM_CHECK_EQ(count_sent(e, 6, PORT_READY, 0), 1u);
    SIM_CHECK_EQ(e.console.ports[6].ready, 0);
    // Beyond the device's own max: no answer (there is no such port).
    host_control(e, 50, PORT_ADD, 0);
    SIM_CHECK_EQ(count_sent(e, 50, PORT_READY, 0), 0u);
    host_control(e, 0xffffffffu, PORT_NAME, 0, std::string("evil") + '\0');
    host_control(e, 3, PORT_OPEN, 1);  // never added
    host_control(e, 1, 42, 0);         // unknown event
    host_control(e, 1, PORT_ADD, 0);   // added twice
    {
        rtos::IrqLock lock;
        e.console.send_raw({1, 0, 0, 0});  // 4 bytes: no header
        e.console.send_raw({});            // nothing at all
    }
    e.device_work();
    const std::string text = log.text();
    SIM_CHECK(text.find("device has 10 port slots") != std::string::npos);
    SIM_CHECK(text.find("for port 6 ignored") != std::string::npos);
    SIM_CHECK(text.find("for port 50 ignored") != std::string::npos);
    SIM_CHECK(text.find("for port 4294967295 ignored") != std::string::npos);
    SIM_CHECK(text.find("port 3, which was never added") != std::string::npos);
    SIM_CHECK(text.find("unknown control event 42") != std::string::npos);
    SIM_CHECK(text.find("port 1 added twice") != std::string::npos);
    SIM_CHECK(text.find("control message of 4 bytes ignored") != std::string::npos);
    SIM_CHECK(text.find("control message of 0 bytes ignored") != std::string::npos);
    SIM_CHECK_EQ(count_sent(e, 1, PORT_READY, 1), 1u);  // the duplicate add got no second answer
    for (unsigned i = 0; i < kManaged; ++i) {
        serial::PortInfo in = info_of(i);
        SIM_CHECK(std::string(in.name).find("evil") == std::string::npos);
        SIM_CHECK(std::string(in.name).find("far") == std::string::npos);
    }
    SIM_CHECK(!info_of(3).present);
    // The managed ports still work.
    serial::Port* p = serial::open("org.test.echo");
    SIM_CHECK(p != nullptr);
    if (p) {
        host_sends(e, 1, "fine");
        SIM_CHECK(read_all(e, p, 4, 8) == "fine");
    }
    check_clean(e);
}

// ---- names: no terminator, too long, unprintable; resize messages ----

void names_and_sizes() {
    LogCapture log;
    Env& e = boot(three_ports());
    // Fills the 128-byte control buffer exactly: 120 name bytes, no NUL.
    host_control(e, 2, PORT_NAME, 0, std::string(120, 'n'));
    SIM_CHECK_EQ(std::string(info_of(2).name), std::string(63, 'n'));
    // Longer than the buffer: the device truncates, the driver still bounds it.
    host_control(e, 2, PORT_NAME, 0, std::string(300, 'm'));
    SIM_CHECK_EQ(std::string(info_of(2).name), std::string(63, 'm'));
    host_control(e, 2, PORT_NAME, 0,
                 std::string("a\x01"
                             "b c\x7f") +
                     '\0' + "hidden");
    SIM_CHECK_EQ(std::string(info_of(2).name), std::string("a?b?c?"));
    host_control(e, 2, PORT_NAME, 0, "");  // header only
    SIM_CHECK_EQ(std::string(info_of(2).name), std::string());
    SIM_CHECK(serial::open("org.test.other") == nullptr);  // renamed away

    host_control(e, 0, RESIZE, 0, "\x01");  // too short for cols and rows
    SIM_CHECK_EQ(info_of(0).cols, 0u);
    host_control(e, 0, RESIZE, 0, std::string("\x84\x00\x2b\x00", 4));  // cols 132, rows 43
    SIM_CHECK_EQ(info_of(0).cols, 132u);
    SIM_CHECK_EQ(info_of(0).rows, 43u);
    const std::string text = log.text();
    SIM_CHECK(text.find(" ports 3 features " +
                        rig::feature_words("multiport", rig::scenario_layout) + "\n") !=
              std::string::npos);
    SIM_CHECK(text.find("port 2 name without terminator (120 bytes)") != std::string::npos);
    SIM_CHECK(text.find("name of 120 bytes cut to 63") != std::string::npos);
    SIM_CHECK(text.find("short resize message for port 0") != std::string::npos);
    check_clean(e);
}

// ---- a port removed under a reader, and added again ----

void remove_and_readd() {
    Env& e = boot(three_ports());
    serial::Port* p = serial::open("org.test.echo");
    SIM_CHECK(p != nullptr);
    if (!p) return;
    host_sends(e, 1, "last words");
    host_control(e, 1, PORT_REMOVE, 0);
    SIM_CHECK(!info_of(1).present);
    char buf[32];
    SIM_CHECK_EQ(serial::read(p, buf, sizeof(buf), Timeout::ticks(5)), 10L);  // what came before
    SIM_CHECK(std::string(buf, 10) == "last words");
    SIM_CHECK_EQ(serial::read(p, buf, sizeof(buf), Timeout::ticks(5)),
                 static_cast<long>(Status::deleted));
    SIM_CHECK_EQ(serial::write(p, "x", 1, Timeout::ticks(5)), static_cast<long>(Status::busy));
    // Back again with a name: answered, and re-opened since it still has a user.
    host_control(e, 1, PORT_ADD, 0);
    SIM_CHECK_EQ(count_sent(e, 1, PORT_READY, 1), 2u);
    SIM_CHECK_EQ(count_sent(e, 1, PORT_OPEN, 1), 2u);
    SIM_CHECK(info_of(1).present);
    SIM_CHECK(serial::open("org.test.echo") == p);  // PORT_READY brought the name back
    serial::close(p);
    host_sends(e, 1, "new life");
    SIM_CHECK(read_all(e, p, 8, 16) == "new life");
    check_clean(e);
}

// ---- a device without MULTIPORT: port 0 only, with F_SIZE ----

void single_port() {
    Setup s;
    s.version = rig::scenario_version;
    s.multiport = false;
    s.size = true;
    s.cols = 80;
    s.rows = 25;
    LogCapture log;
    Env& e = boot(s);
    SIM_CHECK(e.probed);
    SIM_CHECK(log.contains(" ports 1 features " + rig::feature_words("size", rig::scenario_layout) +
                           "\n"));
    serial::PortInfo p0 = info_of(0);
    SIM_CHECK(p0.present && p0.host_open);
    SIM_CHECK_EQ(p0.cols, 80u);
    SIM_CHECK_EQ(p0.rows, 25u);
    serial::PortInfo none;
    SIM_CHECK(!serial::port_info(1, none));
    serial::Port* p = serial::open("0");
    SIM_CHECK(p != nullptr);
    if (!p) return;
    const std::string in = pattern(3 * kWindow, 3);
    host_sends(e, 0, in);
    SIM_CHECK(read_all(e, p, in.size(), 100) == in);
    SIM_CHECK_EQ(serial::write(p, "hi", 2, Timeout::ticks(5)), 2L);
    SIM_CHECK(e.console.ports[0].from_guest == "hi");
    // A configuration change notification brings the new size.
    const std::uint8_t cfg[4] = {100, 0, 30, 0};
    {
        rtos::IrqLock lock;
        e.fake.change_config(0, cfg);
        e.fake.raise_config_change();
    }
    e.device_work();
    SIM_CHECK_EQ(info_of(0).cols, 100u);
    SIM_CHECK_EQ(info_of(0).rows, 30u);
    SIM_CHECK(e.console.from_driver.empty());  // no control queue to talk to
    check_clean(e);
}

// ---- a device that breaks the receive ring ----

void broken_ring() {
    LogCapture log;
    Env& e = boot(three_ports());
    serial::Port* p = serial::open("org.test.echo");
    SIM_CHECK(p != nullptr);
    if (!p) return;
    {
        rtos::IrqLock lock;
        e.fake.inject(fake::UsedFault::len_too_big);
    }
    host_sends(e, 1, "poison");
    char buf[8];
    SIM_CHECK_EQ(serial::read(p, buf, sizeof(buf), Timeout::ticks(5)),
                 static_cast<long>(Status::io_error));
    SIM_CHECK_EQ(serial::write(p, "x", 1, Timeout::ticks(5)), static_cast<long>(Status::io_error));
    SIM_CHECK(log.contains("device stopped"));
    SIM_CHECK_EQ(e.fake.status(), 0u);  // reset: no more DMA into our buffers
}

// ---- a device that needs a reset: stopped, readers and writers get io_error ----

void needs_reset() {
    LogCapture log;
    Env& e = boot(three_ports());
    serial::Port* p = serial::open("org.test.echo");
    SIM_CHECK(p != nullptr);
    if (!p) return;
    {
        rtos::IrqLock lock;
        e.fake.set_needs_reset();
    }
    host_irq::raise();
    char buf[8];
    SIM_CHECK_EQ(serial::read(p, buf, sizeof(buf), Timeout::ticks(5)),
                 static_cast<long>(Status::io_error));
    SIM_CHECK_EQ(serial::write(p, "x", 1, Timeout::ticks(5)), static_cast<long>(Status::io_error));
    SIM_CHECK(log.contains("the device needs a reset (DEVICE_NEEDS_RESET); device stopped"));
    SIM_CHECK_EQ(e.fake.status(), 0u);
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
}

class VirtioConsole : public rig::VersionScenarios {};

TEST_P(VirtioConsole, NeedsResetStopsTheDevice) {
    if (GetParam() == rig::kLegacy) GTEST_SKIP() << "legacy devices have no DEVICE_NEEDS_RESET";
    EXPECT_EQ(run(needs_reset), 0);
}
TEST_P(VirtioConsole, BringUpControlProtocol) { EXPECT_EQ(run(bring_up), 0); }
TEST_P(VirtioConsole, DataAndFlowControl) { EXPECT_EQ(run(data_and_flow_control), 0); }
TEST_P(VirtioConsole, CallerBehindAnotherWaitsItsTimeout) {
    EXPECT_EQ(run(waits_behind_another_caller), 0);
}
TEST_P(VirtioConsole, HostClosesAndReopens) { EXPECT_EQ(run(host_close_reopen), 0); }
TEST_P(VirtioConsole, PortIdsOutOfRangeAndBadMessages) { EXPECT_EQ(run(ids_out_of_range), 0); }
TEST_P(VirtioConsole, NamesWithoutTerminatorAndResize) { EXPECT_EQ(run(names_and_sizes), 0); }
TEST_P(VirtioConsole, PortRemovedAndAddedAgain) { EXPECT_EQ(run(remove_and_readd), 0); }
TEST_P(VirtioConsole, SinglePortWithSize) { EXPECT_EQ(run(single_port), 0); }
TEST_P(VirtioConsole, BrokenReceiveRing) { EXPECT_EQ(run(broken_ring), 0); }

INSTANTIATE_TEST_SUITE_P(Layouts, VirtioConsole, testing::ValuesIn(rig::enabled_layouts()),
                         rig::version_name);

}  // namespace
