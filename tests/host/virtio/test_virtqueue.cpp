// The split virtqueue against the device model: real bytes through the ring
// both ways, chains, indirect tables, index wrap-around, notification and
// interrupt suppression counts.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "rig.hpp"

using namespace virtio;
using namespace rig;

namespace {

struct Request {
    std::vector<std::vector<std::uint8_t>> outs;
    std::vector<std::vector<std::uint8_t>> ins;
    std::vector<OutSegment> out_segs;
    std::vector<InSegment> in_segs;

    Result<std::uint16_t> submit(Virtqueue& q) {
        out_segs.clear();
        in_segs.clear();
        for (auto& o : outs) out_segs.push_back({o.data(), static_cast<std::uint32_t>(o.size())});
        for (auto& i : ins) in_segs.push_back({i.data(), static_cast<std::uint32_t>(i.size())});
        return q.add_buffer(out_segs, in_segs, this);
    }
    std::vector<std::uint8_t> out_bytes() const {
        std::vector<std::uint8_t> all;
        for (auto& o : outs) all.insert(all.end(), o.begin(), o.end());
        return all;
    }
    std::vector<std::uint8_t> in_bytes(std::size_t n) const {
        std::vector<std::uint8_t> all;
        for (auto& i : ins) all.insert(all.end(), i.begin(), i.end());
        all.resize(n);
        return all;
    }
};

// A request of `outs` device-readable and `ins` device-writable segments with
// random content; the writable part can hold all readable bytes.
Request random_request(std::mt19937& rng, int outs, int ins) {
    Request r;
    std::size_t total = 0;
    for (int k = 0; k < outs; ++k) {
        std::vector<std::uint8_t> seg(1 + rng() % 200);
        for (auto& b : seg) b = static_cast<std::uint8_t>(rng());
        total += seg.size();
        r.outs.push_back(std::move(seg));
    }
    for (int k = 0; k < ins; ++k) {
        const std::size_t share = total / ins + (k == 0 ? total % ins : 0) + rng() % 8;
        r.ins.emplace_back(std::max<std::size_t>(share, 1), 0xee);
    }
    return r;
}

}  // namespace

class VirtqueueTest : public testing::TestWithParam<std::uint32_t> {};
INSTANTIATE_TEST_SUITE_P(Versions, VirtqueueTest, testing::ValuesIn(enabled_layouts()),
                         version_name);

// With and without indirect tables: chains of real descriptors wrap around
// the end of the ring (packed: their marks change with the lap mid-chain).
void echo_many(std::uint32_t layout, std::uint64_t features) {
    Rig r(options(layout, features));
    ASSERT_EQ(r.start(16), Error::ok);
    r.fake.process_on_notify = false;  // let requests pile up to fill the ring
    std::mt19937 rng(1234);
    std::vector<Request> reqs(600);
    std::size_t next = 0, done = 0;
    while (done < reqs.size()) {
        while (next < reqs.size()) {
            reqs[next] = random_request(rng, 1 + rng() % 3, 1 + rng() % 3);
            const auto res = reqs[next].submit(r.q());
            if (res.error == Error::no_space) break;
            ASSERT_TRUE(res.ok()) << error_name(res.error);
            ++next;
        }
        r.q().kick();
        r.fake.process(0);
        r.service_irq();
        ASSERT_FALSE(r.completions.empty()) << "no progress after " << done << " requests";
        for (const Completion& c : r.completions) {
            auto* req = static_cast<Request*>(c.token);
            const auto expect = req->out_bytes();
            ASSERT_EQ(c.len, expect.size());
            EXPECT_EQ(req->in_bytes(c.len), expect);
            ++done;
        }
        r.completions.clear();
        ASSERT_TRUE(r.pop_errors.empty());
    }
    EXPECT_EQ(r.q().in_flight(), 0);
    EXPECT_EQ(r.q().num_free(), 16);
    EXPECT_EQ(r.fake.queue(0).chains, reqs.size());
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

TEST_P(VirtqueueTest, EchoesBytesBothWaysForManyRequests) {
    echo_many(GetParam(), core_ring_features());
    echo_many(GetParam(), feature_bit(VIRTIO_RING_F_EVENT_IDX));
}

// Packed: with nothing in flight the descriptor at the used position holds
// what the last lap left (a used descriptor, or a skipped one of a chain,
// still marked available in that lap); has_used() does not look at it, or an
// idle queue would report a used buffer or a broken ring. Chains of 2 and 3
// descriptors at depth 1, over several laps (the fuzz target `packed` checks
// the same at every step).
TEST_P(VirtqueueTest, IdleQueueHasNothingUsedWhateverTheLastLapLeft) {
    Rig r(options(GetParam()));
    ASSERT_EQ(r.start(8), Error::ok);  // no INDIRECT_DESC: chains in the ring
    std::mt19937 rng(7);
    for (int k = 0; k < 40; ++k) {
        Request req = random_request(rng, 1, 1 + k % 2);
        ASSERT_TRUE(req.submit(r.q()).ok()) << k;
        r.q().kick();
        r.service_irq();
        ASSERT_EQ(r.completions.size(), 1u) << k;
        r.completions.clear();
        EXPECT_FALSE(r.q().has_used()) << k;
        EXPECT_EQ(r.q().pop_used().error, Error::empty) << k;
        ASSERT_TRUE(r.pop_errors.empty()) << k;
    }
    EXPECT_EQ(r.q().num_free(), 8);
}

TEST_P(VirtqueueTest, ChainsAndIndirectTables) {
    Rig r(options(GetParam(), core_ring_features()));
    ASSERT_EQ(r.start(32), Error::ok);
    r.fake.process_on_notify = false;
    std::mt19937 rng(7);

    // 3 readable + 2 writable segments: one indirect descriptor when negotiated.
    Request small = random_request(rng, 3, 2);
    ASSERT_TRUE(small.submit(r.q()).ok());
    EXPECT_EQ(r.q().num_free(), r.q().uses_indirect() ? 31 : 27);
    // 17 segments is more than an indirect table holds: a direct chain.
    Request big = random_request(rng, 9, 8);
    ASSERT_TRUE(big.submit(r.q()).ok());
    EXPECT_EQ(r.q().num_free(), (r.q().uses_indirect() ? 31 : 27) - 17);
    r.q().kick();
    r.fake.process(0);
    r.service_irq();

    ASSERT_EQ(r.completions.size(), 2u);
    const auto& chains = r.fake.recent_chains();
    ASSERT_EQ(chains.size(), 2u);
    EXPECT_EQ(chains[0].indirect, config::indirect_desc);
    EXPECT_EQ(chains[0].readable.size(), 3u);
    EXPECT_EQ(chains[0].writable.size(), 2u);
    EXPECT_EQ(chains[0].descriptors, 5u);
    EXPECT_FALSE(chains[1].indirect);
    EXPECT_EQ(chains[1].descriptors, 17u);
    for (const Completion& c : r.completions) {
        auto* req = static_cast<Request*>(c.token);
        EXPECT_EQ(req->in_bytes(c.len), req->out_bytes());
    }
    EXPECT_EQ(r.q().num_free(), 32);
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

TEST_P(VirtqueueTest, NoSpaceChangesNothing) {
    Rig r(options(GetParam()));  // no INDIRECT offered: chains take real descriptors
    ASSERT_EQ(r.start(8), Error::ok);
    r.fake.process_on_notify = false;
    std::mt19937 rng(3);
    std::vector<Request> reqs;
    reqs.reserve(8);
    for (int k = 0; k < 3; ++k) {  // 3 chains of 2 descriptors: 2 left
        reqs.push_back(random_request(rng, 1, 1));
        ASSERT_TRUE(reqs.back().submit(r.q()).ok());
    }
    Request three = random_request(rng, 2, 1);
    EXPECT_EQ(three.submit(r.q()).error, Error::no_space);
    EXPECT_EQ(r.q().num_free(), 2);
    EXPECT_EQ(r.q().in_flight(), 3);
    r.q().kick();
    r.fake.process(0);
    EXPECT_EQ(r.fake.queue(0).chains, 3u);  // the refused request never reached the ring
    r.service_irq();
    EXPECT_EQ(r.completions.size(), 3u);
    EXPECT_TRUE(three.submit(r.q()).ok());
}

TEST_P(VirtqueueTest, IndexWrapsPast65535) {
    Rig r(options(GetParam(), core_ring_features()));
    ASSERT_EQ(r.start(16), Error::ok);  // batches of up to 8 two-descriptor requests
    r.fake.process_on_notify = false;
    constexpr std::uint32_t kTotal = 70000;
    std::uint32_t sent = 0, received = 0;
    std::uint32_t out[8], in[8];
    while (received < kTotal) {
        const std::uint32_t batch = std::min<std::uint32_t>(1 + sent % 8, kTotal - sent);
        for (std::uint32_t k = 0; k < batch; ++k) {
            out[k] = sent + k;
            in[k] = 0;
            const OutSegment o[] = {{&out[k], 4}};
            const InSegment i[] = {{&in[k], 4}};
            ASSERT_TRUE(r.q().add_buffer(o, i, &in[k]).ok());
        }
        r.q().kick();
        r.fake.complete_in_reverse = (sent / 8) % 2 == 1;  // shuffles the free list
        r.fake.process(0);
        r.service_irq();
        ASSERT_EQ(r.completions.size(), batch) << "at " << sent;
        std::set<std::uint32_t> seen;
        for (const Completion& c : r.completions) {
            const auto k = static_cast<std::uint32_t>(static_cast<std::uint32_t*>(c.token) - in);
            ASSERT_LT(k, batch);
            EXPECT_TRUE(seen.insert(k).second);
            EXPECT_EQ(c.len, 4u);
            ASSERT_EQ(in[k], sent + k) << "at " << sent;
        }
        r.completions.clear();
        sent += batch;
        received += batch;
    }
    ASSERT_TRUE(r.pop_errors.empty());
    const auto view = r.fake.queue(0);
    EXPECT_EQ(view.chains, kTotal);
    if (GetParam() == kPacked) {
        // Ring positions and wrap counters (2.8.1), one flip per lap of 16.
        const std::uint32_t descs = kTotal * (r.q().uses_indirect() ? 1 : 2);
        EXPECT_EQ(view.used_idx, descs % 16);
        EXPECT_EQ(view.last_avail_idx, descs % 16);
        EXPECT_EQ(view.used_wrap, (descs / 16) % 2 == 0);
        EXPECT_EQ(view.avail_wrap, (descs / 16) % 2 == 0);
    } else {
        EXPECT_EQ(view.used_idx, kTotal % 65536);
        EXPECT_EQ(view.last_avail_idx, kTotal % 65536);
    }
    EXPECT_EQ(r.q().num_free(), 16);
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

TEST_P(VirtqueueTest, InterruptBatchingWaitsForHalfInFlight) {
    if (!config::event_idx) GTEST_SKIP() << "CONFIG_VIRTIO_EVENT_IDX is off";
    Rig r(options(GetParam(), feature_bit(VIRTIO_RING_F_EVENT_IDX)));
    ASSERT_EQ(r.start(32), Error::ok);
    r.q().set_interrupt_batching(true);
    // The device's first used entry always interrupts (QEMU's
    // signalled_used_valid): one request to get past it.
    std::uint32_t out[11] = {}, in[11] = {};
    {
        const OutSegment o[] = {{&out[10], 4}};
        const InSegment i[] = {{&in[10], 4}};
        ASSERT_TRUE(r.q().add_buffer(o, i, &in[10]).ok());
        r.q().kick();
        r.service_irq();
        ASSERT_EQ(r.completions.size(), 1u);
        r.completions.clear();
    }
    const std::uint32_t base = r.fake.interrupts_raised();
    r.fake.process_on_notify = false;
    for (int k = 0; k < 10; ++k) {
        const OutSegment o[] = {{&out[k], 4}};
        const InSegment i[] = {{&in[k], 4}};
        ASSERT_TRUE(r.q().add_buffer(o, i, &in[k]).ok());
    }
    r.q().kick();
    // Ten in flight: the interrupt waits for the fifth used entry.
    int budget = 4;
    r.fake.has_work = [&](std::uint16_t) { return budget-- > 0; };
    r.fake.process(0);
    EXPECT_EQ(r.fake.interrupts_raised(), base + 0);
    budget = 1;
    r.fake.process(0);
    EXPECT_EQ(r.fake.interrupts_raised(), base + 1);
    r.service_irq();
    EXPECT_EQ(r.completions.size(), 5u);
    // Five left: the next one after two more; the last always interrupts.
    budget = 2;
    r.fake.process(0);
    EXPECT_EQ(r.fake.interrupts_raised(), base + 2);
    r.service_irq();
    budget = 3;
    r.fake.process(0);
    EXPECT_EQ(r.fake.interrupts_raised(), base + 3);
    r.service_irq();
    EXPECT_EQ(r.completions.size(), 10u);
    EXPECT_EQ(r.q().stats().irqs, 4u);
    EXPECT_EQ(r.q().stats().used, 11u);
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

TEST_P(VirtqueueTest, EventIdxSuppressesNotificationsAndInterrupts) {
    if (!config::event_idx) GTEST_SKIP() << "CONFIG_VIRTIO_EVENT_IDX is off";
    Rig r(options(GetParam(), feature_bit(VIRTIO_RING_F_EVENT_IDX)));
    ASSERT_EQ(r.start(32), Error::ok);  // 11 requests of 2 descriptors
    ASSERT_TRUE(r.q().uses_event_idx());
    EXPECT_EQ(r.q().packed(), GetParam() == kPacked);
    r.fake.process_on_notify = false;  // a busy device: it has not caught up yet
    std::uint32_t out[12] = {}, in[12] = {};
    auto add = [&](int k) {
        const OutSegment o[] = {{&out[k], 4}};
        const InSegment i[] = {{&in[k], 4}};
        ASSERT_TRUE(r.q().add_buffer(o, i, &in[k]).ok());
    };
    // One round trip first: the device has run and published where it waits
    // (split: avail_event; packed: the Device Event Suppression word, which
    // QEMU leaves as the driver zeroed it, ENABLE, until then).
    add(11);
    r.q().kick();
    r.fake.process(0);
    r.service_irq();
    ASSERT_EQ(r.completions.size(), 1u);
    r.completions.clear();
    const std::uint32_t notified = r.fake.notifications(0);
    const std::uint32_t raised = r.fake.interrupts_raised();
    r.q().reset_stats();

    int kicked = 0;
    for (int k = 0; k < 10; ++k) {
        add(k);
        kicked += r.q().kick() ? 1 : 0;
    }
    // The device waits at the next request until it runs: only the first
    // kick notifies.
    EXPECT_EQ(kicked, 1);
    EXPECT_EQ(r.fake.notifications(0), notified + 1);
    EXPECT_EQ(r.q().stats().kicks, 1u);
    EXPECT_EQ(r.q().stats().suppressed, 9u);
    EXPECT_EQ(r.q().stats().inflight_max, 10u);

    r.fake.process(0);  // ten completions, one interrupt (at the next used entry)
    EXPECT_EQ(r.fake.interrupts_raised(), raised + 1);
    r.service_irq();
    EXPECT_EQ(r.completions.size(), 10u);
    EXPECT_EQ(r.q().stats().used, 10u);
    EXPECT_EQ(r.q().stats().irqs, 1u);

    // The device caught up and we popped: the next request notifies and
    // interrupts again.
    add(10);
    EXPECT_TRUE(r.q().kick());
    EXPECT_EQ(r.fake.notifications(0), notified + 2);
    r.fake.process(0);
    EXPECT_EQ(r.fake.interrupts_raised(), raised + 2);
    r.service_irq();
    EXPECT_EQ(r.completions.size(), 11u);
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

TEST_P(VirtqueueTest, EventIdxDisabledInterruptsStayQuiet) {
    if (!config::event_idx) GTEST_SKIP() << "CONFIG_VIRTIO_EVENT_IDX is off";
    Rig r(options(GetParam(), feature_bit(VIRTIO_RING_F_EVENT_IDX)));
    ASSERT_EQ(r.start(8), Error::ok);
    std::uint32_t out[4] = {}, in[4] = {};
    auto roundtrip = [&](int k) {
        const OutSegment o[] = {{&out[k], 4}};
        const InSegment i[] = {{&in[k], 4}};
        ASSERT_TRUE(r.q().add_buffer(o, i, &in[k]).ok());
        r.q().kick();
    };
    r.q().disable_interrupts();
    // The device's first used entry always interrupts with used_event (QEMU);
    // packed, the DISABLE flags hold for it too.
    const std::uint32_t first = GetParam() == kPacked ? 0 : 1;
    roundtrip(0);
    EXPECT_EQ(r.fake.interrupts_raised(), first);
    ASSERT_TRUE(r.q().pop_used().ok());  // used_event not advanced: interrupts off
    roundtrip(1);
    EXPECT_EQ(r.fake.interrupts_raised(), first);
    EXPECT_FALSE(r.q().enable_interrupts());  // one is waiting: poll before sleeping
    ASSERT_TRUE(r.q().pop_used().ok());
    EXPECT_TRUE(r.q().enable_interrupts());
    roundtrip(2);
    EXPECT_EQ(r.fake.interrupts_raised(), first + 1);
}

// Polling with interrupts off (CONFIG_BLK_POLL): has_used() / pop_used()
// see every completion while the device is told not to interrupt, over
// several laps of the ring (split with EVENT_IDX: used_event kept half the
// index space ahead; packed: the DISABLE flags, which popping must not
// undo), with and without EVENT_IDX; on again, the next completion interrupts.
void polled_with_interrupts_off(std::uint32_t layout, std::uint64_t features) {
    Rig r(options(layout, features));
    ASSERT_EQ(r.start(8), Error::ok);
    std::uint32_t out = 0, in = 0;
    auto roundtrip = [&] {
        const OutSegment o[] = {{&out, 4}};
        const InSegment i[] = {{&in, 4}};
        ASSERT_TRUE(r.q().add_buffer(o, i, &in).ok());
        r.q().kick();  // processed on notify
    };
    EXPECT_TRUE(r.q().interrupts_enabled());
    r.q().disable_interrupts();
    EXPECT_FALSE(r.q().interrupts_enabled());
    // QEMU signals the first used entry whatever used_event says (split).
    const bool split_event_idx = layout != kPacked && r.q().uses_event_idx();
    const std::uint32_t first = split_event_idx ? 1 : 0;
    for (int k = 0; k < 3 * 8 + 3; ++k) {
        roundtrip();
        ASSERT_TRUE(r.q().has_used()) << k;
        ASSERT_TRUE(r.q().pop_used().ok()) << k;
        ASSERT_FALSE(r.q().has_used()) << k;
        ASSERT_EQ(r.fake.interrupts_raised(), first) << k;
    }
    EXPECT_TRUE(r.q().enable_interrupts());
    EXPECT_TRUE(r.q().interrupts_enabled());
    roundtrip();
    EXPECT_EQ(r.fake.interrupts_raised(), first + 1);
    r.service_irq();
    EXPECT_EQ(r.completions.size(), 1u);
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

TEST_P(VirtqueueTest, PolledWithInterruptsOffAcrossLaps) {
    polled_with_interrupts_off(GetParam(), 0);
    if (config::event_idx)
        polled_with_interrupts_off(GetParam(), feature_bit(VIRTIO_RING_F_EVENT_IDX));
}

TEST_P(VirtqueueTest, WithoutEventIdxFlagsDecide) {
    Rig r(options(GetParam()));         // no EVENT_IDX offered
    ASSERT_EQ(r.start(64), Error::ok);  // 20 requests of 2 descriptors
    ASSERT_FALSE(r.q().uses_event_idx());
    r.fake.process_on_notify = false;
    std::uint32_t out[20] = {}, in[20] = {};
    int kicked = 0;
    auto add_and_kick = [&](int k) {
        const OutSegment o[] = {{&out[k], 4}};
        const InSegment i[] = {{&in[k], 4}};
        ASSERT_TRUE(r.q().add_buffer(o, i, &in[k]).ok());
        kicked += r.q().kick() ? 1 : 0;
    };
    for (int k = 0; k < 10; ++k) add_and_kick(k);
    EXPECT_EQ(kicked, 10);  // used.flags 0: every kick notifies
    r.fake.set_no_notify(0, true);
    for (int k = 10; k < 20; ++k) add_and_kick(k);
    EXPECT_EQ(kicked, 10);  // VIRTQ_USED_F_NO_NOTIFY honoured
    EXPECT_EQ(r.fake.notifications(0), 10u);

    r.q().disable_interrupts();  // VIRTQ_AVAIL_F_NO_INTERRUPT
    r.fake.process(0);
    EXPECT_EQ(r.fake.interrupts_raised(), 0u);
    EXPECT_FALSE(r.q().enable_interrupts());  // work is waiting
    Rig::collect(&r, r.q());
    EXPECT_EQ(r.completions.size(), 20u);
    EXPECT_TRUE(r.q().enable_interrupts());
    EXPECT_TRUE(r.fake.violations().empty()) << r.fake.violations_text();
}

TEST_P(VirtqueueTest, LengthsAndOneSidedRequests) {
    Rig r(options(GetParam(), core_ring_features()));
    ASSERT_EQ(r.start(8), Error::ok);
    // The device reports what it wrote: less than the room, or nothing.
    r.fake.behaviour = [](std::uint16_t, fake::Chain& c) -> std::uint32_t {
        if (c.writable.empty()) return 0;
        std::memset(c.writable[0].data(), 0x5a, 3);
        return 3;
    };
    const char cmd[] = "flush";
    const OutSegment o[] = {{cmd, sizeof(cmd)}};
    ASSERT_TRUE(r.q().add_buffer(o, {}, nullptr).ok());
    std::uint8_t buf[10] = {};
    const InSegment i[] = {{buf, sizeof(buf)}};
    ASSERT_TRUE(r.q().add_buffer({}, i, buf).ok());
    r.q().kick();
    r.service_irq();
    ASSERT_EQ(r.completions.size(), 2u);
    EXPECT_EQ(r.completions[0].token, nullptr);
    EXPECT_EQ(r.completions[0].len, 0u);
    EXPECT_EQ(r.completions[1].token, buf);
    EXPECT_EQ(r.completions[1].len, 3u);
    EXPECT_EQ(buf[2], 0x5a);
    EXPECT_EQ(buf[3], 0);
}

TEST_P(VirtqueueTest, InvalidRequestsAreRefusedUntouched) {
    Rig r(options(GetParam(), core_ring_features()));
    ASSERT_EQ(r.start(8), Error::ok);
    char b[4] = {};
    const OutSegment zero_len[] = {{b, 0}};
    const OutSegment null_data[] = {{nullptr, 4}};
    std::vector<OutSegment> nine(9, OutSegment{b, 4});
    // Never dereferenced: refused on the lengths alone.
    const OutSegment huge[] = {{b, 0x80000000u}, {b, 0x80000000u}};
    EXPECT_EQ(r.q().add_buffer({}, {}, b).error, Error::invalid_argument);
    EXPECT_EQ(r.q().add_buffer(zero_len, {}, b).error, Error::invalid_argument);
    EXPECT_EQ(r.q().add_buffer(null_data, {}, b).error, Error::invalid_argument);
    EXPECT_EQ(r.q().add_buffer(nine, {}, b).error, Error::invalid_argument);
    EXPECT_EQ(r.q().add_buffer(huge, {}, b).error, Error::invalid_argument);
    EXPECT_EQ(r.q().num_free(), 8);
    EXPECT_EQ(r.q().in_flight(), 0);
    EXPECT_FALSE(r.q().kick());  // nothing was added
    EXPECT_EQ(r.fake.notifications(0), 0u);
}

TEST_P(VirtqueueTest, ReclaimAfterResetReturnsEveryToken) {
    Rig r(options(GetParam(), core_ring_features()));
    ASSERT_EQ(r.start(8), Error::ok);
    r.fake.process_on_notify = false;
    std::uint32_t data[3] = {};
    for (auto& d : data) {
        const OutSegment o[] = {{&d, 4}};
        const InSegment i[] = {{&d, 4}};
        ASSERT_TRUE(r.q().add_buffer(o, i, &d).ok());
    }
    r.q().kick();
    r.device.reset();
    std::set<void*> tokens;
    for (int n = 0; n < 16; ++n) {
        auto t = r.q().reclaim();
        if (t.error == Error::empty) break;
        ASSERT_TRUE(t.ok());
        tokens.insert(t.value);
    }
    EXPECT_EQ(tokens, (std::set<void*>{&data[0], &data[1], &data[2]}));
    EXPECT_EQ(r.q().num_free(), 8);
    EXPECT_EQ(r.q().in_flight(), 0);
}
