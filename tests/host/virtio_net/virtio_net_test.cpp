// The virtio-net driver's receive and transmit paths against the fake
// device: both header layouts (10 bytes: legacy without MRG_RXBUF; 12 bytes:
// modern, or legacy with it), frames past the ring size (buffers recycled,
// none lost), and a device that lies: short, runt and oversized lengths,
// bad ids, impossible header fields. Each scenario runs in a child process
// (sim.hpp) for every register layout this build drives.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include <rtos/clock.hpp>
#include <rtos/critical.hpp>
#include <rtos/thread.hpp>

#include "log_capture.hpp"
#include "net_env.hpp"
#include "rig.hpp"
#include "scenario.hpp"
#include "sim.hpp"

using namespace net_test;
namespace vn = virtio::net;

namespace {

fake::UsedFault g_fault = fake::UsedFault::none;

#if defined(CONFIG_VIRTIO_NET_MRG_RXBUF)
constexpr bool kMrg = true;
#else
constexpr bool kMrg = false;
#endif

std::vector<std::uint8_t> frame(std::size_t len, unsigned seed) {
    std::vector<std::uint8_t> f(len);
    for (std::size_t i = 0; i < len; ++i)
        f[i] = static_cast<std::uint8_t>(i * 31 + seed * 7 + (i >> 8));
    return f;
}

Env& start() {
    Setup s;
    s.version = rig::scenario_version;
    Env& e = boot(s);
    SIM_CHECK(e.probed);
    SIM_CHECK(e.dev != nullptr);
    return e;
}

std::uint32_t expected_hdr_len() {
    return (rig::scenario_version == rig::kModern || kMrg) ? vn::kHdrLenModern : vn::kHdrLenLegacy;
}

// ---- the two header layouts, and recycling past the ring size ----

void rx_layouts() {
    Env& e = start();
    if (!e.dev) return;
    SIM_CHECK_EQ(e.hdr_len(), expected_hdr_len());
    SIM_CHECK_EQ(e.mergeable(), kMrg);
    // The posted buffers: header in its own descriptor, exactly hdr_len bytes.
    std::vector<Arrival> in;
    const std::size_t lens[] = {14, 60, 64, 1000, 1514, 1518};
    for (unsigned i = 0; i < 100; ++i) in.push_back({frame(lens[i % 6], i)});
    e.arrive(in, in.size());
    SIM_CHECK_EQ(e.delivered.size(), in.size());
    for (std::size_t i = 0; i < in.size() && i < e.delivered.size(); ++i)
        SIM_CHECK(e.delivered[i] == in[i].frame);
    for (const fake::Chain& c : e.fake.recent_chains())
        if (!c.writable.empty()) SIM_CHECK_EQ(c.writable.front().size(), std::size_t{e.hdr_len()});
    const rtos::net::Counters c = e.dev->counters();
    SIM_CHECK_EQ(c.rx_packets, 100u);
    std::size_t bytes = 0;
    for (auto& a : in) bytes += a.frame.size();
    SIM_CHECK_EQ(c.rx_bytes, bytes);
    SIM_CHECK_EQ(c.rx_errors, 0u);
    // Every buffer is back on the ring: the device holds as many as at boot.
    const auto q = e.fake.queue(0);
    SIM_CHECK_EQ(static_cast<std::uint16_t>(q.last_avail_idx - q.used_idx), 0);
    SIM_CHECK_EQ(e.driver_ok_count(), 1u);
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
}

// ---- lengths and header fields the driver must not believe ----

void rx_bad_lengths() {
    Env& e = start();
    if (!e.dev) return;
    const std::uint32_t h = e.hdr_len();
    std::vector<Arrival> bad;
    bad.push_back({frame(100, 1), {.num_buffers = 1}, h - 1});          // shorter than the header
    bad.push_back({frame(100, 2), {.num_buffers = 1}, 0});              // nothing at all
    bad.push_back({frame(100, 3), {.num_buffers = 1}, h + 13});         // a runt frame
    bad.push_back({frame(100, 4), {.gso_type = 1, .num_buffers = 1}});  // GSO, never negotiated
    bad.push_back({frame(100, 5),
                   {.flags = vn::VIRTIO_NET_HDR_F_NEEDS_CSUM,
                    .csum_start = 99,
                    .csum_offset = 6,
                    .num_buffers = 1}});  // csum past the end
    unsigned expected_errors = 5;
    if (kMrg) {
        bad.push_back({frame(100, 6), {.num_buffers = 2}});
        bad.push_back({frame(100, 7), {.num_buffers = 0}});
        expected_errors += 2;
    }
    Arrival good{frame(200, 8)};
    bad.push_back(good);
    e.arrive(bad, 1);
    SIM_CHECK_EQ(e.delivered.size(), 1u);
    if (!e.delivered.empty()) SIM_CHECK(e.delivered[0] == good.frame);
    rtos::net::Counters c = e.dev->counters();
    SIM_CHECK_EQ(c.rx_errors, expected_errors);
    SIM_CHECK_EQ(c.rx_packets, 1u);
    SIM_CHECK_EQ(e.driver_ok_count(), 1u);  // no reset for a bad packet

    // A partial checksum is completed: UDP over IPv4, checksum field holding
    // the pseudo-header sum (here: a frame whose correct sum we know).
    std::vector<std::uint8_t> f(14 + 20 + 8 + 4, 0);
    f[14 + 20 + 8] = 0x12;
    f[14 + 20 + 9] = 0x34;  // payload
    Arrival csum{f,
                 {.flags = vn::VIRTIO_NET_HDR_F_NEEDS_CSUM,
                  .csum_start = 34,
                  .csum_offset = 6,
                  .num_buffers = 1}};
    e.arrive({csum}, 2);
    SIM_CHECK_EQ(e.delivered.size(), 2u);
    if (e.delivered.size() == 2) {
        // Sum over [34, 46): only 0x1234 is non-zero -> ~0x1234 = 0xedcb.
        SIM_CHECK_EQ(e.delivered[1][40], 0xed);
        SIM_CHECK_EQ(e.delivered[1][41], 0xcb);
    }
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
}

// ---- a frame spread over several buffers (MRG_RXBUF) ----

// Found by the hostile-traffic test (tests/system/test_hostile.py): a frame
// larger than a buffer comes in num_buffers buffers, and the later ones
// start with frame data where a header would be. The driver never posts
// buffers that small, so it drops the frame, every buffer of it: a later
// buffer that looks like a good header and frame must not be handed up.
void rx_merged_buffers_dropped_whole() {
    Env& e = start();
    if (!e.dev || !kMrg) return;
    Arrival first{frame(vn::kRxFrameRoom, 1), {.num_buffers = 3}};
    Arrival rest{frame(600, 2)};  // a valid-looking header of its own
    Arrival last{frame(300, 3)};
    Arrival good{frame(200, 4)};
    e.arrive({first, rest, last, good}, 1);
    SIM_CHECK_EQ(e.delivered.size(), 1u);
    if (!e.delivered.empty()) SIM_CHECK(e.delivered[0] == good.frame);
    SIM_CHECK_EQ(e.dev->counters().rx_errors, 3u);
    SIM_CHECK_EQ(e.dev->counters().rx_packets, 1u);
    SIM_CHECK_EQ(e.driver_ok_count(), 1u);
}

// ---- a used entry that breaks the ring protocol: reset, restart, go on ----

void rx_ring_violation() {
    Env& e = start();
    if (!e.dev) return;
    e.arrive({{frame(300, 1)}}, 1);
    SIM_CHECK_EQ(e.delivered.size(), 1u);
    e.fake.inject(g_fault);
    e.arrive({{frame(300, 2)}}, 1);        // the one the device lies about
    SIM_CHECK_EQ(e.delivered.size(), 1u);  // never handed up
    SIM_CHECK_EQ(e.dev->counters().rx_errors, 1u);
    SIM_CHECK_EQ(e.driver_ok_count(), 2u);  // the device was reset and started again
    // The restarted device works with the same buffers.
    std::vector<Arrival> after;
    for (unsigned i = 0; i < 40; ++i) after.push_back({frame(60 + i, 10 + i)});
    e.arrive(after, 41);
    SIM_CHECK_EQ(e.delivered.size(), 41u);
    for (std::size_t i = 1; i < e.delivered.size(); ++i)
        SIM_CHECK(e.delivered[i] == after[i - 1].frame);
}

// ---- DEVICE_NEEDS_RESET: restart with the same buffers, or interface down ----

void needs_reset(bool refuse_again) {
    host_log::LogCapture log;
    Env& e = start();
    if (!e.dev) return;
    e.arrive({{frame(300, 1)}}, 1);
    {
        rtos::IrqLock lock;
        e.fake.refuse_features_ok = refuse_again;
        e.fake.set_needs_reset();
    }
    host_irq::raise();
    rtos::Thread::sleep(5);  // the receive thread restarts the device
    SIM_CHECK(
        log.contains("eth0: the device needs a reset (DEVICE_NEEDS_RESET); resetting the device"));
    const auto a = frame(100, 2);
    const rtos::net::Fragment one[] = {{a.data(), a.size()}};
    int token = 0;  // the frame's cookie
    if (refuse_again) {
        SIM_CHECK(log.contains("eth0: restart failed; interface down"));
        SIM_CHECK_STATUS(e.dev->transmit(one, &token, rtos::Timeout::ticks(10)),
                         rtos::Status::io_error);
        SIM_CHECK_EQ(e.fake.violations_text(), std::string());
        return;
    }
    SIM_CHECK(log.contains("eth0: re-initialised"));
    SIM_CHECK_EQ(e.driver_ok_count(), 2u);
    std::vector<Arrival> after;
    for (unsigned i = 0; i < 10; ++i) after.push_back({frame(60 + i, 10 + i)});
    e.arrive(after, 11);
    SIM_CHECK_EQ(e.delivered.size(), 11u);
    SIM_CHECK_STATUS(e.dev->transmit(one, &token, rtos::Timeout::ticks(100)), rtos::Status::ok);
    e.dev->flush();
    SIM_CHECK(!e.sent.empty() && e.sent.back() == a);
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
}

// ---- transmit ----

void* cookie(int i) { return reinterpret_cast<void*>(static_cast<std::uintptr_t>(0x1000 + i)); }

void tx_frames() {
    Env& e = start();
    if (!e.dev) return;
    const auto a = frame(14, 1), b = frame(1000, 2);
    const rtos::net::Fragment two[] = {{a.data(), a.size()}, {b.data(), b.size()}};
    for (int i = 0; i < 100; ++i)  // more than the transmit slots: they are recycled
        SIM_CHECK_STATUS(e.dev->transmit(two, cookie(i), rtos::Timeout::ticks(100)),
                         rtos::Status::ok);
    e.dev->flush();
    SIM_CHECK_EQ(e.sent.size(), 100u);
    std::vector<std::uint8_t> whole = a;
    whole.insert(whole.end(), b.begin(), b.end());
    for (auto& s : e.sent) SIM_CHECK(s == whole);
    SIM_CHECK_EQ(e.bad_tx_headers, 0u);
    // No copy: one chain per frame, the header then each fragment.
    const fake::Chain& last = e.fake.recent_chains().back();
    SIM_CHECK_EQ(last.readable.size(), 3u);
    const auto big = frame(rtos::net::kMaxFrameLen + 1, 3);
    const rtos::net::Fragment one[] = {{big.data(), big.size()}};
    SIM_CHECK_STATUS(e.dev->transmit(one, cookie(-1), rtos::Timeout::none()),
                     rtos::Status::invalid);
    rtos::net::Fragment many[rtos::net::kMaxTxFragments + 1];
    for (auto& f : many) f = {a.data(), a.size()};
    SIM_CHECK_STATUS(e.dev->transmit(many, cookie(-2), rtos::Timeout::none()),
                     rtos::Status::invalid);
    SIM_CHECK_STATUS(e.dev->transmit({}, cookie(-3), rtos::Timeout::none()), rtos::Status::invalid);
    // Every frame comes back to its sender once, in order (the last ones
    // within the reclaim timer's 10 ms: nothing else is sent or received).
    e.idle(20);
    SIM_CHECK_EQ(e.tx_completed.size(), 100u);
    for (std::size_t i = 0; i < e.tx_completed.size(); ++i)
        SIM_CHECK(e.tx_completed[i] == cookie(static_cast<int>(i)));
    const rtos::net::Counters c = e.dev->counters();
    SIM_CHECK_EQ(c.tx_packets, 100u);
    SIM_CHECK_EQ(c.tx_bytes, 100u * whole.size());
    SIM_CHECK_EQ(c.tx_errors, 3u);
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
}

// Quiet transmit: one notification per burst (flush()), no completion
// interrupt, finished frames taken back when the next one goes out.
void tx_quiet_bursts() {
    Env& e = start();
    if (!e.dev) return;
    const auto f = frame(60, 4);
    const rtos::net::Fragment one[] = {{f.data(), f.size()}};
    auto burst = [&](int first, int n) {
        for (int i = first; i < first + n; ++i)
            SIM_CHECK_STATUS(e.dev->transmit(one, cookie(i), rtos::Timeout::none()),
                             rtos::Status::ok);
    };
    const std::uint32_t kicks0 = e.fake.notifications(1);
    burst(0, 5);
    SIM_CHECK_EQ(e.fake.notifications(1), kicks0);  // queued, not yet announced
    SIM_CHECK_EQ(e.sent.size(), 0u);
    e.dev->flush();
    SIM_CHECK_EQ(e.fake.notifications(1), kicks0 + 1);
    SIM_CHECK_EQ(e.sent.size(), 5u);
    e.dev->flush();  // nothing new: no notification
    SIM_CHECK_EQ(e.fake.notifications(1), kicks0 + 1);
    // A device signals its first used entry whatever used_event says
    // (QEMU); after that the transmit queue stays quiet.
    const std::uint32_t irqs = e.fake.interrupts_raised();
    burst(5, 5);
    SIM_CHECK_EQ(e.tx_completed.size(), 5u);  // the first burst, taken back by this one
    e.dev->flush();
    burst(10, 5);
    e.dev->flush();
    SIM_CHECK_EQ(e.fake.notifications(1), kicks0 + 3);
    SIM_CHECK_EQ(e.fake.interrupts_raised(), irqs);
    SIM_CHECK_EQ(e.tx_completed.size(), 10u);
    e.idle(20);  // the reclaim timer: nothing held for long
    SIM_CHECK_EQ(e.tx_completed.size(), 15u);
    SIM_CHECK_EQ(e.fake.interrupts_raised(), irqs);
    SIM_CHECK_EQ(e.sent.size(), 15u);
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
}

// ---- receive batches and buffers lent to the stack ----

void rx_batches_and_loans() {
    Env& e = start();
    if (!e.dev) return;
    const unsigned buffers = e.rx_on_ring();
    SIM_CHECK_EQ(buffers, e.dev->rx_buffers());
    const unsigned limit = buffers - (buffers / 4 ? buffers / 4 : 1);
    // Frames that are all there when the interrupt comes: one batch.
    std::vector<Arrival> in;
    for (unsigned i = 0; i < 6; ++i) in.push_back({frame(100 + i, i)});
    e.arrive(in, in.size());
    SIM_CHECK(e.batches == std::vector<std::size_t>{6});
    SIM_CHECK_EQ(e.loanable, 6u);
    SIM_CHECK_EQ(e.rx_on_ring(), buffers);  // none kept: all back on the ring

    // The stack keeps what it may: a quarter of the buffers stays on the ring.
    e.loanable = 0;
    e.keep = 1000;
    in.clear();
    for (unsigned i = 0; i < 2 * buffers; ++i) in.push_back({frame(200 + i, 50 + i)});
    e.arrive(in, 6 + in.size());
    SIM_CHECK_EQ(e.delivered.size(), 6 + in.size());
    for (std::size_t i = 0; i < in.size() && 6 + i < e.delivered.size(); ++i)
        SIM_CHECK(e.delivered[6 + i] == in[i].frame);
    SIM_CHECK_EQ(e.kept.size(), std::size_t{limit});
    SIM_CHECK_EQ(e.loanable, std::size_t{limit});
    SIM_CHECK_EQ(e.rx_on_ring(), buffers - limit);
    // Given back from any thread: on the ring again. Twice, or an id that
    // is not the driver's, changes nothing.
    for (std::uint32_t id : e.kept) e.dev->give_back(id);
    SIM_CHECK_EQ(e.rx_on_ring(), buffers);
    e.dev->give_back(e.kept.front());
    e.dev->give_back(buffers + 7);
    SIM_CHECK_EQ(e.rx_on_ring(), buffers);
    // Lending goes on once they are back.
    e.keep = 2;
    e.kept.clear();
    e.arrive({{frame(300, 99)}, {frame(301, 98)}, {frame(302, 97)}}, e.delivered.size() + 3);
    SIM_CHECK_EQ(e.kept.size(), 2u);
    SIM_CHECK_EQ(e.rx_on_ring(), buffers - 2);
    for (std::uint32_t id : e.kept) e.dev->give_back(id);
    SIM_CHECK_EQ(e.rx_on_ring(), buffers);
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
}

// A buffer the stack holds across a device reset goes back on the new ring
// when it is given back, never before.
void rx_loan_across_restart() {
    Env& e = start();
    if (!e.dev) return;
    const unsigned buffers = e.rx_on_ring();
    e.keep = 2;
    e.arrive({{frame(300, 1)}, {frame(301, 2)}}, 2);
    SIM_CHECK_EQ(e.kept.size(), 2u);
    e.fake.inject(fake::UsedFault::id_out_of_range);
    e.arrive({{frame(300, 3)}}, 2);
    SIM_CHECK_EQ(e.driver_ok_count(), 2u);
    SIM_CHECK_EQ(e.rx_on_ring(), buffers - 2);
    for (std::uint32_t id : e.kept) e.dev->give_back(id);
    SIM_CHECK_EQ(e.rx_on_ring(), buffers);
    e.arrive({{frame(400, 4)}}, 3);
    SIM_CHECK_EQ(e.delivered.size(), 3u);
}

// ---- link status and the MAC ----

void link_and_mac() {
    host_log::LogCapture log;
    Env& e = start();
    if (!e.dev) return;
    SIM_CHECK(log.contains(
        " link up features " +
        rig::feature_words(kMrg ? "guest_csum mac mrg_rxbuf status" : "guest_csum mac status",
                           rig::scenario_layout) +
        "\n"));
    const std::uint8_t want[] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
    SIM_CHECK(std::equal(want, want + 6, e.dev->mac()));
    SIM_CHECK(e.dev->link_up());
    const std::uint8_t down[] = {0, 0};
    e.fake.change_config(6, down);
    e.fake.raise_config_change();
    e.arrive({}, 0);
    SIM_CHECK(!e.dev->link_up());
    SIM_CHECK(e.link_events == std::vector<bool>{false});
}

void random_mac() {
    Setup s;
    s.version = rig::scenario_version;
    s.offer_mac = false;
    host_log::LogCapture log;
    Env& e = boot(s);
    SIM_CHECK(e.probed);
    SIM_CHECK(
        log.contains(" features guest_csum" + std::string(kMrg ? " mrg_rxbuf" : "") + " status "));
    if (!e.dev) return;
    const std::uint8_t m0 = e.dev->mac()[0];
    SIM_CHECK((m0 & 0x02) != 0);  // locally administered
    SIM_CHECK((m0 & 0x01) == 0);  // unicast
}

class VirtioNet : public rig::VersionScenarios {};

TEST_P(VirtioNet, ReceiveBothHeaderLayoutsAndRecycle) { EXPECT_EQ(run(rx_layouts), 0); }
TEST_P(VirtioNet, ReceiveBadLengthsAndHeaderFieldsDropped) { EXPECT_EQ(run(rx_bad_lengths), 0); }
TEST_P(VirtioNet, ReceiveFrameOverSeveralBuffersDroppedWhole) {
    EXPECT_EQ(run(rx_merged_buffers_dropped_whole), 0);
}
TEST_P(VirtioNet, ReceiveLengthPastTheBufferRestartsDevice) {
    g_fault = fake::UsedFault::len_too_big;
    EXPECT_EQ(run(rx_ring_violation), 0);
}
TEST_P(VirtioNet, ReceiveIdOutOfRangeRestartsDevice) {
    g_fault = fake::UsedFault::id_out_of_range;
    EXPECT_EQ(run(rx_ring_violation), 0);
}
TEST_P(VirtioNet, ReceiveIdNotInFlightRestartsDevice) {
    g_fault = fake::UsedFault::id_not_in_flight;
    EXPECT_EQ(run(rx_ring_violation), 0);
}
TEST_P(VirtioNet, NeedsResetRestartsTheDevice) {
    if (GetParam() == rig::kLegacy) GTEST_SKIP() << "legacy devices have no DEVICE_NEEDS_RESET";
    EXPECT_EQ(run([] { needs_reset(false); }), 0);
}
TEST_P(VirtioNet, NeedsResetThenFeaturesRefusedTakesTheInterfaceDown) {
    if (GetParam() == rig::kLegacy) GTEST_SKIP() << "legacy devices have no DEVICE_NEEDS_RESET";
    EXPECT_EQ(run([] { needs_reset(true); }), 0);
}
TEST_P(VirtioNet, TransmitFragmentsAndRecycle) { EXPECT_EQ(run(tx_frames), 0); }
TEST_P(VirtioNet, TransmitQuietOneNotificationPerBurst) { EXPECT_EQ(run(tx_quiet_bursts), 0); }
TEST_P(VirtioNet, ReceiveBatchesAndLoans) { EXPECT_EQ(run(rx_batches_and_loans), 0); }
TEST_P(VirtioNet, ReceiveLoanAcrossRestart) { EXPECT_EQ(run(rx_loan_across_restart), 0); }
TEST_P(VirtioNet, LinkStatusAndMac) { EXPECT_EQ(run(link_and_mac), 0); }
TEST_P(VirtioNet, RandomLocallyAdministeredMac) { EXPECT_EQ(run(random_mac), 0); }

INSTANTIATE_TEST_SUITE_P(Layouts, VirtioNet, testing::ValuesIn(rig::enabled_layouts()),
                         rig::version_name);

}  // namespace
