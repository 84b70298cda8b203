// The coalescing rules of components/net/gro.hpp on real frame bytes: what
// is verified, what joins a run (in-order data of one flow) and what never
// does (out of order, other flags, options, a gap, another flow, a
// retransmission), the merged headers, and the 64-bit checksum against a
// byte-wise reference at every alignment.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "net/gro.hpp"

namespace gro = rtos::net::gro;
using Bytes = std::vector<std::uint8_t>;

namespace {

// RFC 1071 one byte pair at a time, big-endian: the reference.
std::uint16_t reference_sum(const std::uint8_t* p, std::size_t n) {
    std::uint32_t acc = 0;
    for (std::size_t i = 0; i + 1 < n; i += 2) acc += std::uint32_t{p[i]} << 8 | p[i + 1];
    if (n & 1) acc += std::uint32_t{p[n - 1]} << 8;
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(acc);
}

std::uint16_t be_of_native(std::uint16_t native) {  // sum_native()'s lanes as a big-endian value
    std::uint8_t b[2];
    std::memcpy(b, &native, 2);
    return static_cast<std::uint16_t>(b[0] << 8 | b[1]);
}

void put16(std::uint8_t* p, unsigned v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

struct Spec {
    std::uint32_t seq = 1000;
    std::uint32_t ack = 7777;
    std::size_t payload = 1460;
    std::uint8_t flags = gro::kAck;
    std::uint16_t sport = 5000, dport = 9;
    std::uint8_t src_last = 2;   // 10.0.2.<src_last>
    std::uint8_t dst_last = 15;  // 10.0.2.<dst_last>
    std::uint8_t tos = 0;
    std::uint8_t mac_last = 0x56;
    std::uint16_t window = 8192;
    std::size_t tcp_options = 0;  // bytes, a multiple of 4
    std::size_t ip_options = 0;   // bytes, a multiple of 4
    std::uint16_t frag = 0x4000;  // DF
    std::uint8_t ttl = 64;
    std::uint8_t proto = 6;
    std::size_t padding = 0;  // link padding after the IP packet
};

// A TCP/IPv4 Ethernet frame with correct checksums; the payload bytes
// follow the sequence number, so merged data can be checked.
Bytes frame(const Spec& s) {
    const std::size_t ihl = 20 + s.ip_options, doff = 20 + s.tcp_options;
    const std::size_t total = ihl + doff + s.payload;
    Bytes f(14 + total + s.padding, 0);
    const std::uint8_t dst[6] = {0x52, 0x54, 0x00, 0x12, 0x34, s.mac_last};
    const std::uint8_t src[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
    std::memcpy(&f[0], dst, 6);
    std::memcpy(&f[6], src, 6);
    put16(&f[12], 0x0800);
    std::uint8_t* ip = &f[14];
    ip[0] = static_cast<std::uint8_t>(0x40 | ihl / 4);
    ip[1] = s.tos;
    put16(ip + 2, static_cast<unsigned>(total));
    put16(ip + 4, s.seq & 0xffff);  // some id
    put16(ip + 6, s.frag);
    ip[8] = s.ttl;
    ip[9] = s.proto;
    const std::uint8_t saddr[4] = {10, 0, 2, s.src_last}, daddr[4] = {10, 0, 2, s.dst_last};
    std::memcpy(ip + 12, saddr, 4);
    std::memcpy(ip + 16, daddr, 4);
    for (std::size_t k = 20; k < ihl; ++k) ip[k] = 1;  // NOP options
    put16(ip + 10, static_cast<std::uint16_t>(~reference_sum(ip, ihl)));
    std::uint8_t* tcp = ip + ihl;
    put16(tcp, s.sport);
    put16(tcp + 2, s.dport);
    put32(tcp + 4, s.seq);
    put32(tcp + 8, s.ack);
    tcp[12] = static_cast<std::uint8_t>(doff / 4 << 4);
    tcp[13] = s.flags;
    put16(tcp + 14, s.window);
    for (std::size_t k = 20; k < doff; ++k) tcp[k] = 1;  // NOP options
    for (std::size_t k = 0; k < s.payload; ++k)
        tcp[doff + k] = static_cast<std::uint8_t>((s.seq + k) * 7);
    if (s.proto == 6) {
        Bytes pseudo(ip + 12, ip + 20);
        pseudo.push_back(0);
        pseudo.push_back(6);
        pseudo.push_back(static_cast<std::uint8_t>((total - ihl) >> 8));
        pseudo.push_back(static_cast<std::uint8_t>(total - ihl));
        pseudo.insert(pseudo.end(), tcp, tcp + total - ihl);
        put16(tcp + 16, static_cast<std::uint16_t>(~reference_sum(pseudo.data(), pseudo.size())));
    }
    return f;
}

gro::View view(const Bytes& f, bool csum_ok = false) {
    return {f.data(), gro::inspect(f.data(), f.size(), csum_ok)};
}

// run_length() over the frames, as the netif calls it.
std::size_t run(const std::vector<Bytes>& frames) {
    std::vector<gro::View> v;
    for (const Bytes& f : frames) v.push_back(view(f));
    return gro::run_length(v);
}

Spec next(Spec s) {
    s.seq += static_cast<std::uint32_t>(s.payload);
    return s;
}

}  // namespace

TEST(GroChecksum, SumMatchesTheByteWiseReferenceAtEveryAlignment) {
    std::vector<std::uint8_t> buf(2000 + 16);
    for (std::size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<std::uint8_t>(i * 131 + 17);
    for (std::size_t off = 0; off < 16; ++off)
        for (std::size_t len :
             {0u, 1u, 2u, 3u, 7u, 8u, 9u, 15u, 20u, 63u, 64u, 1460u, 1461u, 2000u})
            EXPECT_EQ(be_of_native(gro::sum_native(&buf[off], len)), reference_sum(&buf[off], len))
                << "offset " << off << " length " << len;
    Bytes ones(1500, 0xff);  // carries all the way round
    EXPECT_EQ(be_of_native(gro::sum_native(ones.data(), ones.size())), 0xffff);
}

TEST(GroInspect, VerifiesTcpAndDropsWhatFails) {
    const Bytes good = frame({});
    gro::Segment s = gro::inspect(good.data(), good.size(), false);
    EXPECT_EQ(s.kind, gro::Kind::tcp);
    EXPECT_TRUE(s.mergeable);
    EXPECT_EQ(s.payload, 1460u);
    EXPECT_EQ(s.hdr_len, 54u);
    EXPECT_EQ(s.frame_len, 1514u);
    EXPECT_EQ(s.seq, 1000u);

    Bytes payload_flip = good;
    payload_flip[100] ^= 0x10;
    EXPECT_EQ(gro::inspect(payload_flip.data(), payload_flip.size(), false).kind, gro::Kind::bad);
    // The device vouched for it (DATA_VALID, or the driver completed it): not checked again.
    EXPECT_EQ(gro::inspect(payload_flip.data(), payload_flip.size(), true).kind, gro::Kind::tcp);
    Bytes header_flip = good;
    header_flip[14 + 8] ^= 1;  // TTL: the IP header checksum fails
    EXPECT_EQ(gro::inspect(header_flip.data(), header_flip.size(), true).kind, gro::Kind::bad);

    Spec frag;
    frag.frag = 0x2000;  // more fragments
    EXPECT_EQ(view(frame(frag)).seg.kind, gro::Kind::bad);
    frag.frag = 0x0010;  // an offset
    EXPECT_EQ(view(frame(frag)).seg.kind, gro::Kind::bad);
    const Bytes cut(good.begin(), good.end() - 1);  // IP says more than arrived
    EXPECT_EQ(gro::inspect(cut.data(), cut.size(), false).kind, gro::Kind::bad);
    Bytes bad_doff = good;
    bad_doff[14 + 20 + 12] = 0x40;  // 16-byte TCP header
    EXPECT_EQ(gro::inspect(bad_doff.data(), bad_doff.size(), true).kind, gro::Kind::bad);

    // Link padding is not part of the segment.
    Spec pad;
    pad.payload = 2;
    pad.padding = 4;
    const gro::View v = view(frame(pad));
    EXPECT_EQ(v.seg.kind, gro::Kind::tcp);
    EXPECT_EQ(v.seg.frame_len, 14u + 40u + 2u);

    // Not TCP over IPv4: lwIP's business.
    Spec udp;
    udp.proto = 17;
    EXPECT_EQ(view(frame(udp)).seg.kind, gro::Kind::other);
    Bytes arp = good;
    put16(&arp[12], 0x0806);
    EXPECT_EQ(gro::inspect(arp.data(), arp.size(), false).kind, gro::Kind::other);
    EXPECT_EQ(gro::inspect(good.data(), 20, false).kind, gro::Kind::other);
}

TEST(GroRun, InOrderSegmentsOfOneFlowMerge) {
    Spec a;
    const Spec b = next(a), c = next(b), d = next(c);
    EXPECT_EQ(run({frame(a), frame(b), frame(c), frame(d)}), 4u);
    EXPECT_EQ(run({frame(a)}), 1u);
    // The window may change along a run (the merged segment takes the last).
    Spec b2 = b;
    b2.window = 100;
    EXPECT_EQ(run({frame(a), frame(b2)}), 2u);
}

TEST(GroRun, OutOfOrderNeverMerges) {
    Spec a;
    const Spec b = next(a), c = next(b);
    EXPECT_EQ(run({frame(a), frame(c), frame(b)}), 1u);
    EXPECT_EQ(run({frame(b), frame(a)}), 1u);
}

TEST(GroRun, AGapNeverMerges) {
    Spec a;
    Spec b = next(a);
    b.seq += 1;
    EXPECT_EQ(run({frame(a), frame(b)}), 1u);
    // The run so far still merges; the gap ends it.
    Spec c = next(next(a));
    c.seq += 100;
    EXPECT_EQ(run({frame(a), frame(next(a)), frame(c)}), 2u);
}

TEST(GroRun, ARetransmissionNeverMerges) {
    Spec a;
    const Spec b = next(a);
    EXPECT_EQ(run({frame(a), frame(a)}), 1u);
    EXPECT_EQ(run({frame(a), frame(b), frame(b)}), 2u);
    EXPECT_EQ(run({frame(a), frame(b), frame(a)}), 2u);
}

TEST(GroRun, SequenceNumbersWrap) {
    Spec a;
    a.seq = 0xffffffffu - 1000;  // the next segment starts past 2^32
    const Spec b = next(a);
    EXPECT_LT(b.seq, a.seq);
    EXPECT_EQ(run({frame(a), frame(b), frame(next(b))}), 3u);
    // Across the wrap a retransmission and a gap still never merge.
    EXPECT_EQ(run({frame(b), frame(a)}), 1u);
    Spec gap = next(b);
    gap.seq += 1;
    EXPECT_EQ(run({frame(a), frame(b), frame(gap)}), 2u);
}

TEST(GroRun, AnotherFlowNeverMerges) {
    Spec a;
    Spec b = next(a);
    b.sport = 5001;
    EXPECT_EQ(run({frame(a), frame(b)}), 1u);
    b = next(a);
    b.dport = 7;
    EXPECT_EQ(run({frame(a), frame(b)}), 1u);
    b = next(a);
    b.src_last = 3;
    EXPECT_EQ(run({frame(a), frame(b)}), 1u);
    b = next(a);
    b.dst_last = 16;
    EXPECT_EQ(run({frame(a), frame(b)}), 1u);
    b = next(a);
    b.tos = 0x10;
    EXPECT_EQ(run({frame(a), frame(b)}), 1u);
    b = next(a);
    b.mac_last = 0x57;
    EXPECT_EQ(run({frame(a), frame(b)}), 1u);
    b = next(a);
    b.ttl = 63;
    EXPECT_EQ(run({frame(a), frame(b)}), 1u);
    b = next(a);
    b.ack = 9999;  // the same flow, but it acknowledges something new
    EXPECT_EQ(run({frame(a), frame(b)}), 1u);
}

TEST(GroRun, FlagsNeverMerge) {
    for (std::uint8_t extra : {gro::kSyn, gro::kFin, gro::kRst, gro::kUrg, gro::kEce, gro::kCwr}) {
        Spec a;
        Spec b = next(a);
        b.flags = static_cast<std::uint8_t>(gro::kAck | extra);
        EXPECT_EQ(run({frame(a), frame(b)}), 1u) << int{extra};
        Spec first = a;
        first.flags = b.flags;
        EXPECT_EQ(run({frame(first), frame(next(a))}), 1u) << int{extra};
        EXPECT_FALSE(view(frame(first)).seg.mergeable) << int{extra};
    }
    Spec no_ack;
    no_ack.flags = gro::kPsh;
    EXPECT_EQ(run({frame(no_ack), frame(next(no_ack))}), 1u);
    // PSH: the segment that has it ends the run (it is merged, as its last).
    Spec a;
    Spec b = next(a);
    b.flags = gro::kAck | gro::kPsh;
    EXPECT_EQ(run({frame(a), frame(b), frame(next(b))}), 2u);
}

TEST(GroRun, OptionsNeverMerge) {
    Spec a;
    Spec b = next(a);
    b.tcp_options = 12;  // e.g. timestamps
    EXPECT_EQ(view(frame(b)).seg.kind, gro::Kind::tcp);
    EXPECT_FALSE(view(frame(b)).seg.mergeable);
    EXPECT_EQ(run({frame(a), frame(b)}), 1u);
    b = next(a);
    b.ip_options = 4;
    EXPECT_EQ(view(frame(b)).seg.kind, gro::Kind::tcp);
    EXPECT_EQ(run({frame(a), frame(b)}), 1u);
    Spec opt_first = a;
    opt_first.tcp_options = 12;
    EXPECT_EQ(run({frame(opt_first), frame(next(a))}), 1u);
}

TEST(GroRun, NoDataAndBadSegmentsNeverMerge) {
    Spec a;
    Spec ack_only = next(a);
    ack_only.payload = 0;
    EXPECT_EQ(run({frame(a), frame(ack_only)}), 1u);
    Bytes corrupt = frame(next(a));
    corrupt[200] ^= 1;
    EXPECT_EQ(run({frame(a), corrupt}), 1u);
}

TEST(GroRun, TheMergedSegmentStaysWithin64KiB) {
    std::vector<Bytes> frames;
    Spec s;
    for (int i = 0; i < 50; ++i, s = next(s)) frames.push_back(frame(s));
    const std::size_t n = run(frames);
    EXPECT_EQ(n, gro::kMaxMergedPayload / 1460);
    EXPECT_LE(n * 1460 + 54, 0xffffu);
}

TEST(GroMerge, HeadersOfTheMergedSegment) {
    Spec a;
    Spec b = next(a);
    Spec c = next(b);
    c.window = 1234;
    c.flags = gro::kAck | gro::kPsh;
    Bytes fa = frame(a);
    const Bytes fb = frame(b), fc = frame(c);
    ASSERT_EQ(run({fa, fb, fc}), 3u);
    gro::merge_headers(fa.data(), fc.data(), 3 * 1460);
    const std::uint8_t* ip = &fa[14];
    EXPECT_EQ(ip[2] << 8 | ip[3], 40 + 3 * 1460);
    EXPECT_EQ(reference_sum(ip, 20), 0xffff);         // a valid IP header checksum
    EXPECT_EQ(ip[20 + 14] << 8 | ip[20 + 15], 1234);  // the last window
    EXPECT_EQ(ip[20 + 13], gro::kAck | gro::kPsh);
    // Everything else of the first header stays: addresses, ports, seq, ack.
    const Bytes orig = frame(a);
    EXPECT_EQ(0, std::memcmp(&fa[0], &orig[0], 16));
    EXPECT_EQ(0, std::memcmp(&fa[18], &orig[18], 6));
    EXPECT_EQ(0, std::memcmp(&fa[26], &orig[26], 20));
    // The merged bytes the netif chains: head whole, then the payloads, are
    // the stream from seq 1000 on.
    Bytes stream(fa.begin() + 54, fa.end());
    stream.insert(stream.end(), fb.begin() + 54, fb.end());
    stream.insert(stream.end(), fc.begin() + 54, fc.end());
    for (std::size_t k = 0; k < stream.size(); ++k)
        ASSERT_EQ(stream[k], static_cast<std::uint8_t>((1000 + k) * 7)) << k;
}

TEST(GroAckAtOnce, AMergedOrAFullSizedSegmentNotAShortOne) {
    const Spec full;  // 1460 bytes of data
    const gro::Segment f = view(frame(full)).seg;
    EXPECT_TRUE(gro::ack_at_once(f, 1, 1460));   // alone, full-sized
    EXPECT_TRUE(gro::ack_at_once(f, 3, 1460));   // a merged run
    EXPECT_FALSE(gro::ack_at_once(f, 1, 1461));  // below the stack's MSS
    Spec small = full;
    small.payload = 64;  // a request or a reply: the ACK may wait for the answer
    const gro::Segment sm = view(frame(small)).seg;
    EXPECT_FALSE(gro::ack_at_once(sm, 1, 1460));
    EXPECT_TRUE(gro::ack_at_once(sm, 2, 1460));
    Spec udp = full;
    udp.proto = 17;  // not TCP: lwIP decides alone
    EXPECT_FALSE(gro::ack_at_once(view(frame(udp)).seg, 1, 1460));
    Bytes bad = frame(full);
    bad[bad.size() - 1] ^= 1;  // fails its checksum: dropped, never acknowledged
    EXPECT_FALSE(gro::ack_at_once(view(bad).seg, 1, 1460));
}

TEST(GroPureAck, OnlyAnAcknowledgementWithoutData) {
    Spec ack;
    ack.payload = 0;
    const Bytes f = frame(ack);
    EXPECT_TRUE(gro::is_pure_ack(f.data(), f.size()));
    EXPECT_FALSE(gro::is_pure_ack(f.data(), 40));  // cut before the TCP header
    const Bytes data = frame({});
    EXPECT_FALSE(gro::is_pure_ack(data.data(), data.size()));
    for (std::uint8_t flag : {gro::kSyn, gro::kFin, gro::kRst}) {
        Spec s = ack;
        s.flags = static_cast<std::uint8_t>(gro::kAck | flag);
        const Bytes g = frame(s);
        EXPECT_FALSE(gro::is_pure_ack(g.data(), g.size()));
    }
    Spec ts = ack;
    ts.tcp_options = 12;
    const Bytes t = frame(ts);
    EXPECT_TRUE(gro::is_pure_ack(t.data(), t.size()));
    Spec udp = ack;
    udp.proto = 17;
    const Bytes u = frame(udp);
    EXPECT_FALSE(gro::is_pure_ack(u.data(), u.size()));
}
