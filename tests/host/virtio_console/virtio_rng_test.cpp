// The virtio-rng driver behind entropy.hpp on the host: the bytes readers get
// are the device's stream in order, whatever the request sizes, short
// answers or timeouts; nothing is fetched ahead or lost.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <rtos/critical.hpp>

#include "drivers/entropy/entropy.hpp"
#include "irq_line.hpp"
#include "log_capture.hpp"
#include "env.hpp"
#include "rig.hpp"
#include "scenario.hpp"
#include "sim.hpp"

using namespace console_test;
namespace entropy = rtos::entropy;
using rtos::Status;
using rtos::Timeout;

namespace {

constexpr unsigned kQueue = CONFIG_VIRTIO_RNG_QUEUE_SIZE;

Env& boot_rng() {
    Setup s;
    s.version = rig::scenario_version;
    s.device_id = virtio::VIRTIO_ID_ENTROPY;
    return boot(s);
}

bool stream_matches(const std::vector<std::uint8_t>& got, std::uint64_t from) {
    for (std::size_t i = 0; i < got.size(); ++i)
        if (got[i] != RngModel::byte_at(from + i)) return false;
    return true;
}

void stream_in_order() {
    SIM_CHECK(!entropy::available());
    std::uint8_t one;
    SIM_CHECK_EQ(entropy::read(&one, 1, Timeout::none()), static_cast<long>(Status::unsupported));
    LogCapture log;
    Env& e = boot_rng();
    SIM_CHECK(e.probed);
    // No feature bits of its own: the core's only.
    SIM_CHECK(log.contains(rig::queue_words(kQueue, rig::scenario_layout) + " features " +
                           rig::feature_words("", rig::scenario_layout) + "\n"));
    SIM_CHECK(entropy::available());
    std::uint64_t pos = 0;
    // Sizes below, at and above what the queue holds at once (kQueue * 512).
    for (std::size_t n :
         {std::size_t{1}, std::size_t{511}, std::size_t{512}, std::size_t{kQueue * 512},
          std::size_t{kQueue * 512 + 1}, std::size_t{5 * kQueue * 512 + 77}}) {
        std::vector<std::uint8_t> buf(n);
        SIM_CHECK_EQ(entropy::read(buf.data(), n, Timeout::ticks(100)), static_cast<long>(n));
        SIM_CHECK(stream_matches(buf, pos));
        pos += n;
        SIM_CHECK_EQ(e.rng.produced, pos);  // nothing asked beyond what readers wanted
    }
    // Short answers: the device gives 100 bytes per buffer.
    e.rng.max_piece = 100;
    std::vector<std::uint8_t> buf(3000);
    SIM_CHECK_EQ(entropy::read(buf.data(), buf.size(), Timeout::ticks(100)), 3000L);
    SIM_CHECK(stream_matches(buf, pos));
    pos += buf.size();
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
}

void timeout_keeps_stream() {
    Env& e = boot_rng();
    e.rng.hold = true;  // the device answers nothing for now
    std::vector<std::uint8_t> buf(700);
    SIM_CHECK_EQ(entropy::read(buf.data(), buf.size(), Timeout::ticks(5)),
                 static_cast<long>(Status::timeout));
    // The requests stay with the device; when it answers they are the next bytes.
    e.rng.hold = false;
    e.device_work();
    std::vector<std::uint8_t> got(1000);
    SIM_CHECK_EQ(entropy::read(got.data(), got.size(), Timeout::ticks(100)), 1000L);
    SIM_CHECK(stream_matches(got, 0));
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
}

void broken_device() {
    LogCapture log;
    Env& e = boot_rng();
    {
        rtos::IrqLock lock;
        e.fake.inject(fake::UsedFault::id_out_of_range);
    }
    std::vector<std::uint8_t> buf(64);
    SIM_CHECK_EQ(entropy::read(buf.data(), buf.size(), Timeout::ticks(20)),
                 static_cast<long>(Status::io_error));
    SIM_CHECK(!entropy::available());
    SIM_CHECK(log.contains("device stopped"));
}

// DEVICE_NEEDS_RESET with requests outstanding: the device is reset and
// initialised again, the requests asked again; the stream goes on. Refused
// when initialised again: stopped, reads fail.
void needs_reset(bool refuse_again) {
    LogCapture log;
    Env& e = boot_rng();
    e.rng.hold = true;
    std::vector<std::uint8_t> buf(700);
    SIM_CHECK_EQ(entropy::read(buf.data(), buf.size(), Timeout::ticks(5)),
                 static_cast<long>(Status::timeout));
    {
        rtos::IrqLock lock;
        e.fake.refuse_features_ok = refuse_again;
        e.fake.set_needs_reset();
    }
    host_irq::raise();
    e.rng.hold = false;
    if (refuse_again) {
        SIM_CHECK_EQ(entropy::read(buf.data(), buf.size(), Timeout::ticks(20)),
                     static_cast<long>(Status::io_error));
        SIM_CHECK(log.contains("the device needs a reset (DEVICE_NEEDS_RESET); device stopped"));
        SIM_CHECK_EQ(e.fake.status(), 0u);
        return;
    }
    SIM_CHECK(log.contains("the device needs a reset (DEVICE_NEEDS_RESET); device reset, "));
    SIM_CHECK(log.contains("requests dropped, re-initialised"));
    std::vector<std::uint8_t> got(1000);
    SIM_CHECK_EQ(entropy::read(got.data(), got.size(), Timeout::ticks(100)), 1000L);
    SIM_CHECK(stream_matches(got, 0));
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
}

class VirtioRng : public rig::VersionScenarios {};

TEST_P(VirtioRng, NeedsResetReinitialises) {
    if (GetParam() == rig::kLegacy) GTEST_SKIP() << "legacy devices have no DEVICE_NEEDS_RESET";
    EXPECT_EQ(run([] { needs_reset(false); }), 0);
}
TEST_P(VirtioRng, NeedsResetThenFeaturesRefusedStops) {
    if (GetParam() == rig::kLegacy) GTEST_SKIP() << "legacy devices have no DEVICE_NEEDS_RESET";
    EXPECT_EQ(run([] { needs_reset(true); }), 0);
}
TEST_P(VirtioRng, StreamInOrderAnySize) { EXPECT_EQ(run(stream_in_order), 0); }
TEST_P(VirtioRng, TimeoutKeepsTheStream) { EXPECT_EQ(run(timeout_keeps_stream), 0); }
TEST_P(VirtioRng, BrokenDeviceFailsReads) { EXPECT_EQ(run(broken_device), 0); }

INSTANTIATE_TEST_SUITE_P(Layouts, VirtioRng, testing::ValuesIn(rig::enabled_layouts()),
                         rig::version_name);

}  // namespace
