// Port 0 as the shell's input (CONFIG_VIRTIO_CONSOLE_SHELL): the host's
// bytes go through the driver's receive buffers into the kernel console's
// input ring (rtos/kernel/console.cpp, 1 KiB), read with console::getc()
// as the shell does. A reader slower than the host gets every byte in
// order: while the ring is full the driver keeps its filled buffers
// (partly taken ones included) and posts none, so the device has nowhere
// to write and keeps the rest. Multiport and single-port devices, every
// layout.
#include <gtest/gtest.h>

#include <string>

#include <rtos/clock.hpp>
#include <rtos/console.hpp>
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
namespace console = rtos::console;
namespace serial = rtos::serial;

namespace {

constexpr unsigned kBuffers = CONFIG_VIRTIO_CONSOLE_BUFFERS;
constexpr unsigned kBufSize = CONFIG_VIRTIO_CONSOLE_BUFFER_SIZE;
constexpr unsigned kRing = 1023;  // the console's input ring (one slot stays free)
static_assert(kRing % kBufSize != 0, "the ring fills in the middle of a buffer");
// Taken into the ring while the reader sleeps: the buffers the ring took
// whole, then the one it took part of and the rest of the buffers, all
// held by the driver.
constexpr unsigned kDelivered = (kRing / kBufSize + kBuffers) * kBufSize;

void check_clean(Env& e) {
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
    for (auto& s : e.console.errors) std::fprintf(stderr, "model: %s\n", s.c_str());
    SIM_CHECK(e.console.errors.empty());
}

// Printable (no Ctrl-C or Ctrl-D), no period shorter than the ring.
std::string text(std::size_t n) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(0x20 + (i * 7 + i / 95) % 95);
    return s;
}

void host_sends(Env& e, const std::string& bytes) {
    {
        rtos::IrqLock lock;
        e.console.ports[0].to_guest.insert(e.console.ports[0].to_guest.end(), bytes.begin(),
                                           bytes.end());
    }
    e.device_work();
}

std::uint64_t rx_bytes() {
    serial::PortInfo i{};
    SIM_CHECK(serial::port_info(0, i));
    return i.rx_bytes;
}

Env& boot_shell(bool multiport) {
    Setup s;
    s.version = rig::scenario_version;
    s.multiport = multiport;
    if (multiport) {  // QEMU's virtconsole: port 0, a console, host connected
        s.ports.resize(2);
        s.ports[0].plugged = true;
        s.ports[0].console = true;
        s.ports[0].host_connected = true;
    }
    Env& e = boot(s);
    SIM_CHECK(e.probed);
    SIM_CHECK(e.console.ports[0].guest_open);  // the shell opened it
    return e;
}

void slow_reader_gets_every_byte(bool multiport) {
    Env& e = boot_shell(multiport);
    const std::string in = text(20 * kRing + 11);
    host_sends(e, in);

    // The reader has not started: the ring and the driver's buffers are
    // full, none is on the device's ring, the device keeps the rest.
    auto& pending = e.console.ports[0].to_guest;
    SIM_CHECK_EQ(in.size() - pending.size(), static_cast<std::size_t>(kDelivered));
    SIM_CHECK_EQ(e.fake.buffers_on_ring(0), 0u);
    rtos::Thread::sleep(20);
    e.device_work();
    SIM_CHECK_EQ(in.size() - pending.size(), static_cast<std::size_t>(kDelivered));
    SIM_CHECK_EQ(rx_bytes(), static_cast<std::uint64_t>(kDelivered));

    // Port 0 is the console's to read.
    serial::Port* p = serial::open("0");
    SIM_CHECK(p != nullptr);
    char c;
    SIM_CHECK_EQ(serial::read(p, &c, 1, Timeout::ticks(5)), static_cast<long>(Status::busy));
    serial::close(p);
    SIM_CHECK(e.console.ports[0].guest_open);  // the shell still has it

    // A slow reader: a few bytes, a pause, the device working in between.
    std::string got;
    unsigned piece = 0;
    while (got.size() < in.size()) {
        const int ch = console::getc(Timeout::ticks(50));
        if (ch < 0) {
            sim::fail(__FILE__, __LINE__, "no byte after " + std::to_string(got.size()));
            break;
        }
        got += static_cast<char>(ch);
        if (++piece % 97 == 0) {
            rtos::Thread::sleep(1);
            e.device_work();
        }
    }
    SIM_CHECK(got == in);
    SIM_CHECK(pending.empty());
    SIM_CHECK_EQ(rx_bytes(), static_cast<std::uint64_t>(in.size()));
    SIM_CHECK_EQ(console::getc(Timeout::none()), -1);  // nothing twice
    // Drained: every buffer is the device's again.
    SIM_CHECK_EQ(e.fake.buffers_on_ring(0), kBuffers);
    check_clean(e);
}

void multiport_slow_reader() { slow_reader_gets_every_byte(true); }
void single_port_slow_reader() { slow_reader_gets_every_byte(false); }

// A used length past the receive buffer: nothing of it reaches the
// console, the device is stopped.
void length_past_the_buffer() {
    host_log::LogCapture log;
    Env& e = boot_shell(true);
    {
        rtos::IrqLock lock;
        e.fake.inject(fake::UsedFault::len_too_big);
    }
    host_sends(e, "poison");
    SIM_CHECK_EQ(console::getc(Timeout::ticks(5)), -1);
    SIM_CHECK(log.contains("device stopped"));
    SIM_CHECK_EQ(e.fake.status(), 0u);  // reset: no more DMA into our buffers
}

class VirtioConsoleShell : public rig::VersionScenarios {};

TEST_P(VirtioConsoleShell, SlowReaderGetsEveryByteMultiport) {
    EXPECT_EQ(run(multiport_slow_reader), 0);
}
TEST_P(VirtioConsoleShell, SlowReaderGetsEveryByteSinglePort) {
    EXPECT_EQ(run(single_port_slow_reader), 0);
}
TEST_P(VirtioConsoleShell, LengthPastTheBufferIsRefused) {
    EXPECT_EQ(run(length_past_the_buffer), 0);
}

INSTANTIATE_TEST_SUITE_P(Layouts, VirtioConsoleShell, testing::ValuesIn(rig::enabled_layouts()),
                         rig::version_name);

}  // namespace
