// The virtio-gpu driver behind the display framebuffer API on the host: what
// it asks of the device, that the host's copy of the screen equals what was
// drawn (only the damaged rectangle travels), and what it does with a device
// that answers short, with an error, with absurd sizes, a broken EDID or not
// at all. Plus the framebuffer API on its own (clipping, damage, text).
#include <gtest/gtest.h>

#include <cstring>
#include <iterator>
#include <string>

#include <rtos/clock.hpp>
#include <rtos/critical.hpp>

#include "drivers/display/framebuffer.hpp"
#include "drivers/virtio/config.hpp"
#include "drivers/virtio/gpu/virtio_gpu.hpp"
#include "driver_env.hpp"
#include "gpu_model.hpp"
#include "log_capture.hpp"
#include "rig.hpp"
#include "scenario.hpp"
#include "sim.hpp"

using namespace virtio::gpu;
using gpu_test::GpuModel;
using rtos::Status;
using rtos::display::Framebuffer;
using rtos::display::Rect;

namespace {

driver_test::DeviceSetup gpu_device(bool offer_edid, bool irq) {
    driver_test::DeviceSetup d;
    d.version = rig::scenario_version;
    d.device_id = virtio::VIRTIO_ID_GPU;
    d.config_size = 16;
    d.features = offer_edid ? virtio::feature_bit(F_EDID) : 0;
    d.irq = irq;
    return d;
}

/// The shared driver environment with the virtio-gpu model as the device.
struct Env : driver_test::DriverEnv {
    Env(bool offer_edid, bool irq) : DriverEnv(gpu_device(offer_edid, irq)) {
        fake.behaviour = [this](std::uint16_t q, fake::Chain& c) { return model.serve(q, c); };
    }
    GpuModel model;
};

/// The device with `setup` applied to its model, probed by the registered driver.
template <typename F>
Env& boot(F setup, bool offer_edid = true, bool irq = true) {
    Env* e = new Env(offer_edid, irq);  // lives until the scenario's process ends
    e->model.edid = GpuModel::make_edid(e->model.modes[0].width, e->model.modes[0].height);
    setup(e->model);
    e->model.write_config(e->fake);
    e->probe();
    return *e;
}

bool same(const GpuRect& g, const Rect& r) {
    return g.x == r.x && g.y == r.y && g.width == r.w && g.height == r.h;
}

void no_errors(Env& e) {
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
    std::string errs;
    for (auto& s : e.model.errors) errs += s + "\n";
    SIM_CHECK_EQ(errs, std::string());
}

// A failed probe leaves nothing behind and no screen.
void refused(Env& e) {
    SIM_CHECK(!e.probed);
    SIM_CHECK(rtos::display::primary() == nullptr);
    Info i;
    SIM_CHECK(!info(i));
    SIM_CHECK_EQ(Env::dma_live_allocations(), std::size_t{0});
}

void starts_and_flushes_damage_only() {
    host_log::LogCapture log;
    Env& e = boot([](GpuModel& m) {
        m.modes[0] = {64, 48, true};
        m.edid = GpuModel::make_edid(64, 48);
    });
    SIM_CHECK(e.probed);
    SIM_CHECK(log.contains(" scanout 0 64x48 edid yes features " +
                           rig::feature_words("edid", rig::scenario_layout) + "\n"));
    // Display info, EDID, create, attach, scanout, the cleared screen.
    const std::vector<std::uint32_t> expected = {
        CMD_GET_DISPLAY_INFO,        CMD_GET_EDID,    CMD_RESOURCE_CREATE_2D,
        CMD_RESOURCE_ATTACH_BACKING, CMD_SET_SCANOUT, CMD_TRANSFER_TO_HOST_2D,
        CMD_RESOURCE_FLUSH};
    SIM_CHECK(e.model.commands == expected);
    SIM_CHECK(e.model.resource.created);
    SIM_CHECK_EQ(e.model.resource.format, FORMAT_B8G8R8X8_UNORM);
    SIM_CHECK_EQ(e.model.resource.width, 64u);
    SIM_CHECK_EQ(e.model.resource.height, 48u);
    SIM_CHECK_EQ(e.model.resource.length, 64u * 48 * 4);
    SIM_CHECK_EQ(e.model.scanout_id, 0u);
    SIM_CHECK_EQ(e.model.scanout_resource, e.model.resource.id);
    SIM_CHECK(same(e.model.scanout_rect, {0, 0, 64, 48}));
    SIM_CHECK(same(e.model.transfers.back(), {0, 0, 64, 48}));
    for (auto p : e.model.resource.host) SIM_CHECK_EQ(p, 0u);  // black

    Framebuffer* fb = rtos::display::primary();
    SIM_CHECK(fb != nullptr);
    SIM_CHECK_EQ(fb->width(), 64u);
    SIM_CHECK_EQ(fb->height(), 48u);
    Info i;
    SIM_CHECK(info(i));
    SIM_CHECK(i.edid);
    SIM_CHECK_EQ(i.edid_width, 64u);
    SIM_CHECK_EQ(i.legacy, rig::scenario_version == rig::kLegacy);

    // Only the damaged rectangle goes to the host.
    fb->fill({10, 5, 7, 3}, 0x123456);
    SIM_CHECK_STATUS(fb->flush(), Status::ok);
    SIM_CHECK(same(e.model.transfers.back(), {10, 5, 7, 3}));
    SIM_CHECK(same(e.model.flushes.back(), {10, 5, 7, 3}));
    for (std::uint32_t y = 0; y < 48; ++y)
        for (std::uint32_t x = 0; x < 64; ++x) {
            const bool in = x >= 10 && x < 17 && y >= 5 && y < 8;
            SIM_CHECK_EQ(e.model.resource.host[y * 64 + x], in ? 0x123456u : 0u);
        }
    // Two drawings: one rectangle holding both; nothing to do afterwards.
    const std::size_t before = e.model.transfers.size();
    fb->fill({60, 40, 10, 10}, 0xff0000);  // clipped to 4 x 8
    fb->text(0, 0, "A", 0xffffff);
    SIM_CHECK(same(e.model.transfers.back(), {10, 5, 7, 3}));
    SIM_CHECK_STATUS(fb->flush(), Status::ok);
    SIM_CHECK(same(e.model.transfers.back(), {0, 0, 64, 48}));
    SIM_CHECK_STATUS(fb->flush(), Status::ok);
    SIM_CHECK_EQ(e.model.transfers.size(), before + 1);
    SIM_CHECK_EQ(e.model.resource.host[47 * 64 + 63], 0xff0000u);
    SIM_CHECK_EQ(e.model.resource.host[0 * 64 + 2], 0xffffffu);  // 'A' row 0 is 0x0C: columns 2, 3
    SIM_CHECK_EQ(e.model.resource.host[0 * 64 + 1], 0u);
    SIM_CHECK_EQ(i.flushes + 2, [] {
        Info j;
        info(j);
        return j.flushes;
    }());
    no_errors(e);
}

void mode_is_the_devices() {
    // The first enabled scanout, with the size the device reports (not the EDID's).
    Env& e = boot([](GpuModel& m) {
        m.num_scanouts = 2;
        m.modes[0] = {1280, 800, false};
        m.modes[1] = {40, 30, true};
        m.edid = GpuModel::make_edid(1024, 768);
    });
    SIM_CHECK(e.probed);
    Info i;
    SIM_CHECK(info(i));
    SIM_CHECK_EQ(i.scanout, 1u);
    SIM_CHECK_EQ(i.width, 40u);
    SIM_CHECK_EQ(i.height, 30u);
    SIM_CHECK_EQ(i.scanouts, 2u);
    SIM_CHECK(i.edid);
    SIM_CHECK_EQ(i.edid_width, 1024u);
    SIM_CHECK_EQ(i.edid_height, 768u);
    SIM_CHECK_EQ(e.model.scanout_id, 1u);
    SIM_CHECK_EQ(e.model.resource.width, 40u);
    no_errors(e);
}

void edid_mode_when_no_scanout_enabled() {
    Env& e = boot([](GpuModel& m) {
        m.modes[0] = {0, 0, false};
        m.edid = GpuModel::make_edid(32, 24);
    });
    SIM_CHECK(e.probed);
    SIM_CHECK_EQ(e.model.resource.width, 32u);
    SIM_CHECK_EQ(e.model.resource.height, 24u);
    no_errors(e);
}

void no_mode_at_all_is_refused() {
    host_log::LogCapture log;
    Env& e = boot([](GpuModel& m) { m.modes[0] = {0, 0, false}; }, /*offer_edid=*/false);
    refused(e);
    SIM_CHECK(!e.model.resource.created);
    SIM_CHECK(log.contains("no enabled scanout and no EDID mode"));
}

void without_edid_feature() {
    host_log::LogCapture log;
    Env& e = boot([](GpuModel& m) { m.modes[0] = {16, 16, true}; }, false);
    SIM_CHECK(e.probed);
    SIM_CHECK(
        log.contains(" edid no features " + rig::feature_words("", rig::scenario_layout) + "\n"));
    Info i;
    SIM_CHECK(info(i));
    SIM_CHECK(!i.edid);
    for (auto c : e.model.commands) SIM_CHECK(c != CMD_GET_EDID);
    no_errors(e);
}

// Scenarios with several cases run each case in its own process (the
// driver keeps one display); the case index is set before the fork.
int g_case = 0;

void broken_edid_is_ignored() {
    const int variant = g_case;
    Env& e = boot([variant](GpuModel& m) {
        m.modes[0] = {16, 16, true};
        if (variant == 0) m.edid_size_field = 5000;  // beyond the response
        if (variant == 1) m.edid[127] ^= 1;          // bad checksum
        if (variant == 2) m.edid.resize(64);         // shorter than a block
        if (variant == 3) {                          // EDID answer shorter than its type
            m.short_cmd = CMD_GET_EDID;
            m.short_len = 30;
        }
        if (variant == 4)
            m.edid = GpuModel::make_edid_displayid(40, 30, 200);  // section past its block
        if (variant == 5) {  // a DisplayID block with a bad checksum
            m.edid = GpuModel::make_edid_displayid(40, 30);
            m.edid[255] ^= 1;
        }
        if (variant == 6) {  // the extension announced but not delivered
            m.edid = GpuModel::make_edid_displayid(40, 30);
            m.edid.resize(128);
        }
    });
    SIM_CHECK(e.probed);
    Info i;
    SIM_CHECK(info(i));
    SIM_CHECK(!i.edid);
    SIM_CHECK_EQ(i.width, 16u);
}
constexpr int kBrokenEdidCases = 7;

void edid_mode_from_displayid() {
    // QEMU's EDID for a large mode (e.g. 3840x2160) has its timing in a DisplayID extension.
    Env& e = boot([](GpuModel& m) {
        m.modes[0] = {16, 16, true};
        m.edid = GpuModel::make_edid_displayid(3840, 2160);
    });
    SIM_CHECK(e.probed);
    Info i;
    SIM_CHECK(info(i));
    SIM_CHECK(i.edid);
    SIM_CHECK_EQ(i.edid_width, 3840u);
    SIM_CHECK_EQ(i.edid_height, 2160u);
    no_errors(e);
}

struct ShortCase {
    std::uint32_t cmd, len;
    const char* log;
};
constexpr ShortCase kShortCases[] = {
    // a header, but shorter than OK_DISPLAY_INFO
    {CMD_GET_DISPLAY_INFO, 100,
     "GET_DISPLAY_INFO: OK_DISPLAY_INFO of 100 bytes, shorter than its type (408)"},
    {CMD_GET_DISPLAY_INFO, 10, "GET_DISPLAY_INFO: response of 10 bytes, shorter than its header"},
    {CMD_RESOURCE_CREATE_2D, 23,
     "RESOURCE_CREATE_2D: response of 23 bytes, shorter than its header"},
    {CMD_SET_SCANOUT, 0, "SET_SCANOUT: response of 0 bytes, shorter than its header"},
};

void short_response_is_refused() {
    const ShortCase c = kShortCases[g_case];
    host_log::LogCapture log;
    Env& e = boot([c](GpuModel& m) {
        m.modes[0] = {16, 16, true};
        m.short_cmd = c.cmd;
        m.short_len = c.len;
    });
    refused(e);
    SIM_CHECK(log.contains(c.log));
}

constexpr std::uint32_t kErrorCases[] = {CMD_GET_DISPLAY_INFO, CMD_RESOURCE_CREATE_2D,
                                         CMD_RESOURCE_ATTACH_BACKING, CMD_SET_SCANOUT};

void error_response_at_start_is_refused() {
    const std::uint32_t cmd = kErrorCases[g_case];
    host_log::LogCapture log;
    Env& e = boot([cmd](GpuModel& m) {
        m.modes[0] = {16, 16, true};
        m.error_cmd = cmd;
        m.error_type = RESP_ERR_OUT_OF_MEMORY;
    });
    refused(e);
    SIM_CHECK(log.contains(": device answered ERR_OUT_OF_MEMORY"));
}

void error_response_to_a_flush() {
    // The flush fails and the damage stays for the next try.
    Env& e = boot([](GpuModel& m) { m.modes[0] = {16, 16, true}; });
    SIM_CHECK(e.probed);
    Framebuffer* fb = rtos::display::primary();
    e.model.error_cmd = CMD_TRANSFER_TO_HOST_2D;
    e.model.error_type = RESP_ERR_INVALID_PARAMETER;
    fb->fill({1, 2, 3, 4}, 0xabcdef);
    SIM_CHECK_STATUS(fb->flush(), Status::io_error);
    SIM_CHECK(!fb->damage().empty());
    e.model.error_cmd = 0;
    SIM_CHECK_STATUS(fb->flush(), Status::ok);
    SIM_CHECK_EQ(e.model.resource.host[2 * 16 + 1], 0xabcdefu);
    // An unknown response type is an error too.
    e.model.error_cmd = CMD_RESOURCE_FLUSH;
    e.model.error_type = 0x4242;
    fb->fill({0, 0, 1, 1}, 1);
    SIM_CHECK_STATUS(fb->flush(), Status::io_error);
}

struct AbsurdCase {
    std::uint32_t scanouts, w, h;
    const char* log;
};
constexpr AbsurdCase kAbsurdCases[] = {
    {1, 0xffffffffu, 0xffffffffu, "scanout 0 size 4294967295x4294967295 out of range (1..16384)"},
    {1, 100000, 10, "scanout 0 size 100000x10 out of range"},
    {1, 10, 16385, "scanout 0 size 10x16385 out of range"},
    {0, 16, 16, "num_scanouts 0 out of range (1..16)"},
    {1000, 16, 16, "num_scanouts 1000 out of range (1..16)"},  // the protocol has room for 16
    // within bounds, but 1 GiB: more memory than there is
    {1, 16384, 16384, "out of memory for a 16384x16384 framebuffer (1048576 KiB)"},
};

void absurd_display_info_is_refused() {
    const AbsurdCase c = kAbsurdCases[g_case];
    host_log::LogCapture log;
    Env& e = boot([c](GpuModel& m) {
        m.num_scanouts = c.scanouts;
        m.modes[0] = {c.w, c.h, true};
    });
    refused(e);
    SIM_CHECK(!e.model.resource.created);
    SIM_CHECK(log.contains(c.log));
}

void hung_device_times_out() {
    host_log::LogCapture log;
    Env& e = boot([](GpuModel& m) { m.modes[0] = {16, 16, true}; });
    SIM_CHECK(e.probed);
    Framebuffer* fb = rtos::display::primary();
    e.model.hold_cmd = CMD_RESOURCE_FLUSH;
    fb->fill({0, 0, 16, 16}, 0x00ff00);
    const rtos::Tick t0 = rtos::clock::ticks();
    SIM_CHECK_STATUS(fb->flush(), Status::timeout);
    const rtos::Tick waited = rtos::clock::ticks() - t0;
    SIM_CHECK(waited >= rtos::clock::ms_to_ticks(CONFIG_VIRTIO_GPU_TIMEOUT_MS));
    SIM_CHECK(waited < rtos::clock::ms_to_ticks(CONFIG_VIRTIO_GPU_TIMEOUT_MS) + 50);
    // The device was reset; later requests fail at once.
    Info i;
    SIM_CHECK(info(i));
    SIM_CHECK(i.broken);
    SIM_CHECK_EQ(e.fake.status(), 0u);
    e.model.hold_cmd = 0;
    SIM_CHECK_STATUS(fb->flush(), Status::io_error);
    SIM_CHECK(log.contains("RESOURCE_FLUSH: no response in time; device stopped"));
}

// Ctrl-C while a flush waits: the caller gets busy at once, the device is
// not reset, the damage stays; the next flush first waits for the request
// the device still holds (req_ and resp_ are not reused under it).
int g_stop_polls = 0;

void stop_gives_up_the_wait() {
    Env& e = boot([](GpuModel& m) { m.modes[0] = {16, 16, true}; });
    SIM_CHECK(e.probed);
    Framebuffer* fb = rtos::display::primary();
    e.model.hold_cmd = CMD_RESOURCE_FLUSH;
    fb->fill({0, 0, 16, 16}, 0x00ff00);
    const rtos::Tick t0 = rtos::clock::ticks();
    SIM_CHECK_STATUS(fb->flush([] { return ++g_stop_polls >= 3; }), Status::busy);
    SIM_CHECK(rtos::clock::ticks() - t0 < rtos::clock::ms_to_ticks(100));
    SIM_CHECK(!fb->damage().empty());
    Info i;
    SIM_CHECK(info(i));
    SIM_CHECK(!i.broken);
    // Still held: the next flush gives up too, without sending anything.
    const std::size_t sent = e.model.commands.size();
    g_stop_polls = 0;
    SIM_CHECK_STATUS(fb->flush([] { return ++g_stop_polls >= 3; }), Status::busy);
    SIM_CHECK_EQ(e.model.commands.size(), sent);
    // The device answers at last; the next flush waits for that, then goes on.
    e.model.hold_cmd = 0;
    e.process(0);
    SIM_CHECK_STATUS(fb->flush(), Status::ok);
    SIM_CHECK_EQ(e.model.resource.host[0], 0x00ff00u);
    SIM_CHECK(same(e.model.flushes.back(), {0, 0, 16, 16}));
    SIM_CHECK(info(i));
    SIM_CHECK(!i.broken);
    no_errors(e);
}

void polls_without_interrupt() {
    Env& e = boot([](GpuModel& m) { m.modes[0] = {16, 16, true}; }, true, /*irq=*/false);
    SIM_CHECK(e.probed);
    Framebuffer* fb = rtos::display::primary();
    fb->fill({2, 3, 4, 5}, 0x0000ff);
    SIM_CHECK_STATUS(fb->flush(), Status::ok);
    SIM_CHECK_EQ(e.model.resource.host[3 * 16 + 2], 0x0000ffu);
    SIM_CHECK(same(e.model.flushes.back(), {2, 3, 4, 5}));
    no_errors(e);
}

void hung_device_at_start() {
    Env& e = boot([](GpuModel& m) {
        m.modes[0] = {16, 16, true};
        m.hold_cmd = CMD_GET_DISPLAY_INFO;
    });
    refused(e);
}

void broken_ring_stops_the_device() {
    Env& e = boot([](GpuModel& m) { m.modes[0] = {16, 16, true}; });
    SIM_CHECK(e.probed);
    {
        rtos::IrqLock lock;
        e.fake.inject(fake::UsedFault::len_too_big);
    }
    Framebuffer* fb = rtos::display::primary();
    fb->fill({0, 0, 1, 1}, 1);
    SIM_CHECK_STATUS(fb->flush(), Status::io_error);
    Info i;
    SIM_CHECK(info(i));
    SIM_CHECK(i.broken);
}

class VirtioGpu : public rig::VersionScenarios {};

TEST_P(VirtioGpu, StartsAndFlushesTheDamagedRectangleOnly) {
    EXPECT_EQ(run(starts_and_flushes_damage_only), 0);
}
TEST_P(VirtioGpu, ModeIsTheDevicesFirstEnabledScanout) { EXPECT_EQ(run(mode_is_the_devices), 0); }
TEST_P(VirtioGpu, EdidModeWhenNoScanoutEnabled) {
    EXPECT_EQ(run(edid_mode_when_no_scanout_enabled), 0);
}
TEST_P(VirtioGpu, NoModeAtAllIsRefused) { EXPECT_EQ(run(no_mode_at_all_is_refused), 0); }
TEST_P(VirtioGpu, WithoutEdidFeature) { EXPECT_EQ(run(without_edid_feature), 0); }
TEST_P(VirtioGpu, BrokenEdidIsIgnored) {
    for (g_case = 0; g_case < kBrokenEdidCases; ++g_case)
        EXPECT_EQ(run(broken_edid_is_ignored), 0) << g_case;
}
TEST_P(VirtioGpu, EdidModeFromDisplayId) { EXPECT_EQ(run(edid_mode_from_displayid), 0); }
TEST_P(VirtioGpu, ShortResponsesAreRefused) {
    for (g_case = 0; g_case < int(std::size(kShortCases)); ++g_case)
        EXPECT_EQ(run(short_response_is_refused), 0) << g_case;
}
TEST_P(VirtioGpu, ErrorResponsesAtStartAreRefused) {
    for (g_case = 0; g_case < int(std::size(kErrorCases)); ++g_case)
        EXPECT_EQ(run(error_response_at_start_is_refused), 0) << g_case;
}
TEST_P(VirtioGpu, ErrorResponseToAFlush) { EXPECT_EQ(run(error_response_to_a_flush), 0); }
TEST_P(VirtioGpu, AbsurdDisplayInfoIsRefused) {
    for (g_case = 0; g_case < int(std::size(kAbsurdCases)); ++g_case)
        EXPECT_EQ(run(absurd_display_info_is_refused), 0) << g_case;
}
TEST_P(VirtioGpu, HungDeviceTimesOut) { EXPECT_EQ(run(hung_device_times_out), 0); }
TEST_P(VirtioGpu, StopGivesUpTheWait) { EXPECT_EQ(run(stop_gives_up_the_wait), 0); }
TEST_P(VirtioGpu, PollsWithoutInterrupt) { EXPECT_EQ(run(polls_without_interrupt), 0); }
TEST_P(VirtioGpu, HungDeviceAtStart) { EXPECT_EQ(run(hung_device_at_start), 0); }
TEST_P(VirtioGpu, BrokenRingStopsTheDevice) { EXPECT_EQ(run(broken_ring_stops_the_device), 0); }

INSTANTIATE_TEST_SUITE_P(Layouts, VirtioGpu, testing::ValuesIn(rig::enabled_layouts()),
                         rig::version_name);

// ---- the framebuffer API alone ----

struct Recorder {
    std::vector<Rect> flushed;
    Status answer = Status::ok;
    static Status flush(void* ctx, const Rect& r, Framebuffer::StopFn) {
        auto* self = static_cast<Recorder*>(ctx);
        self->flushed.push_back(r);
        return self->answer;
    }
};

TEST(Framebuffer, ClipsAndTracksDamage) {
    std::vector<std::uint32_t> px(20 * 10, 0);
    Recorder rec;
    Framebuffer fb(px.data(), 20, 10, 20, &Recorder::flush, &rec);
    EXPECT_EQ(fb.flush(), Status::ok);  // nothing damaged: nothing sent
    EXPECT_TRUE(rec.flushed.empty());
    fb.fill({18, 8, 100, 100}, 0xff112233);  // clipped; the X byte is dropped
    EXPECT_EQ(px[9 * 20 + 19], 0x112233u);
    EXPECT_EQ(px[7 * 20 + 19], 0u);
    fb.fill({25, 0, 1, 1}, 1);  // entirely off the screen
    fb.fill({0xffffffffu, 0xffffffffu, 2, 2}, 1);
    EXPECT_EQ(fb.damage().x, 18u);
    EXPECT_EQ(fb.damage().w, 2u);
    EXPECT_EQ(fb.damage().h, 2u);
    const std::uint32_t block[4] = {1, 2, 3, 4};
    fb.blit(19, 0, block, 2, 2, 2);  // half off the right edge
    EXPECT_EQ(px[19], 1u);
    EXPECT_EQ(px[20 + 19], 3u);
    rec.answer = Status::io_error;
    EXPECT_EQ(fb.flush(), Status::io_error);
    rec.answer = Status::ok;
    EXPECT_EQ(fb.flush(), Status::ok);
    ASSERT_EQ(rec.flushed.size(), 2u);
    const Rect r = rec.flushed[1];
    EXPECT_EQ(r.x, 18u);
    EXPECT_EQ(r.y, 0u);
    EXPECT_EQ(r.w, 2u);
    EXPECT_EQ(r.h, 10u);
    EXPECT_TRUE(fb.damage().empty());
}

TEST(Framebuffer, TextUsesTheBuiltInFont) {
    std::vector<std::uint32_t> px(64 * 16, 0);
    Framebuffer fb(px.data(), 64, 16, 64, nullptr, nullptr);
    EXPECT_EQ(fb.text(0, 0, "Hi", 0xffffff, 2), 2u * 8 * 2);
    // 'H' row 0 is 0x33: columns 0, 1, 4, 5, each 2x2 at scale 2.
    const std::uint8_t* h = rtos::display::glyph('H');
    for (std::uint32_t y = 0; y < 16; ++y)
        for (std::uint32_t x = 0; x < 16; ++x)
            EXPECT_EQ(px[y * 64 + x], (h[y / 2] >> (x / 2) & 1) ? 0xffffffu : 0u) << x << "," << y;
    EXPECT_EQ(rtos::display::glyph('\x01'), rtos::display::glyph('?'));
    EXPECT_EQ(fb.text(60, 0, "long text off the edge", 1, 1), 22u * 8);  // clipped, no overrun
    EXPECT_EQ(fb.text(0, 1000, "x", 1, 1), 8u);
    EXPECT_EQ(fb.text(0, 0, "x", 1, 0), 0u);
    EXPECT_EQ(fb.flush(), Status::unsupported);  // no device behind it
}

TEST(Framebuffer, Unite) {
    const Rect a{1, 2, 3, 4}, empty{};
    const Rect u = rtos::display::unite(a, {10, 0, 1, 1});
    EXPECT_EQ(u.x, 1u);
    EXPECT_EQ(u.y, 0u);
    EXPECT_EQ(u.w, 10u);
    EXPECT_EQ(u.h, 6u);
    EXPECT_EQ(rtos::display::unite(empty, a).w, 3u);
    EXPECT_EQ(rtos::display::unite(a, empty).h, 4u);
}

}  // namespace
