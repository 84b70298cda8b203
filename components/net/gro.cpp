// Receive coalescing rules (see gro.hpp). Offsets are those of an Ethernet
// II frame: the IPv4 header at 14, TCP after it.
#include "net/gro.hpp"

#include <cstring>

namespace rtos::net::gro {
namespace {

constexpr std::size_t kEth = 14;
constexpr std::uint16_t kTypeIpv4 = 0x0800;
constexpr std::uint8_t kProtoTcp = 6;

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t be32(const std::uint8_t* p) {
    return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
void put16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 8);
    p[1] = static_cast<std::uint8_t>(v);
}

std::uint16_t fold(std::uint64_t acc) {
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffu) + (acc >> 16);
    acc = (acc & 0xffffu) + (acc >> 16);
    acc = (acc & 0xffffu) + (acc >> 16);
    return static_cast<std::uint16_t>(acc);
}

std::uint16_t swap16(std::uint16_t v) { return static_cast<std::uint16_t>(v << 8 | v >> 8); }

// Two bytes as one 16-bit lane in memory order.
std::uint16_t lane(std::uint8_t first, std::uint8_t second) {
    const std::uint8_t b[2] = {first, second};
    std::uint16_t v;
    std::memcpy(&v, b, 2);
    return v;
}

// sum_native() from an even address.
std::uint16_t sum_even(const std::uint8_t* p, std::size_t n) {
    std::uint64_t acc = 0;
    while (n >= 2 && (reinterpret_cast<std::uintptr_t>(p) & 7) != 0) {
        std::uint16_t v;
        std::memcpy(&v, p, 2);
        acc += v;
        p += 2;
        n -= 2;
    }
    // 64-bit words with the end-around carry: 2^64 - 1 is a multiple of
    // 2^16 - 1, so this is the sum of their 16-bit lanes.
    const auto* w = static_cast<const std::uint64_t*>(__builtin_assume_aligned(p, 8));
    for (; n >= 8; n -= 8, p += 8) {
        const std::uint64_t v = *w++;
        acc += v;
        acc += acc < v;
    }
    acc = (acc & 0xffffffffu) + (acc >> 32);  // room for the tail's lanes
    for (; n >= 2; n -= 2, p += 2) {
        std::uint16_t v;
        std::memcpy(&v, p, 2);
        acc += v;
    }
    if (n) acc += lane(p[0], 0);
    return fold(acc);
}

// The big-endian (network order) value of the sum over [p, p + n).
std::uint16_t ones_sum(const std::uint8_t* p, std::size_t n) {
    const std::uint16_t one = lane(0, 1);  // 1 as a big-endian lane reads as 1 or 256
    const std::uint16_t s = sum_native(p, n);
    return one == 1 ? s : swap16(s);
}

}  // namespace

std::uint16_t sum_native(const void* data, std::size_t len) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    if (len == 0) return 0;
    if ((reinterpret_cast<std::uintptr_t>(p) & 1) == 0) return sum_even(p, len);
    // From an odd address: the lanes from p + 1 carry every byte in the other
    // half of its lane (a byte swap of their sum), plus p[0] in its own lane.
    const std::uint64_t acc = std::uint64_t{swap16(sum_even(p + 1, len - 1))} + lane(p[0], 0);
    return fold(acc);
}

Segment inspect(const std::uint8_t* f, std::size_t len, bool csum_ok) {
    Segment s;
    if (len < kEth + 20 || be16(f + 12) != kTypeIpv4) return s;
    const std::uint8_t* ip = f + kEth;
    if ((ip[0] >> 4) != 4 || ip[9] != kProtoTcp) return s;  // lwIP checks the others
    s.kind = Kind::bad;                                     // TCP: verified here or dropped
    const std::size_t ihl = std::size_t{ip[0] & 15u} * 4;
    const std::size_t total = be16(ip + 2);
    if (ihl < 20 || total < ihl + 20 || kEth + total > len) return s;
    if ((be16(ip + 6) & 0x3fff) != 0) return s;  // a fragment: its checksum cannot be checked
    if (ones_sum(ip, ihl) != 0xffff) return s;
    const std::uint8_t* tcp = ip + ihl;
    const std::size_t doff = (std::size_t{tcp[12]} >> 4) * 4;
    const std::size_t tcp_len = total - ihl;
    if (doff < 20 || doff > tcp_len) return s;
    if (!csum_ok) {
        // RFC 793 pseudo header: addresses, protocol, TCP length.
        const std::uint64_t acc =
            std::uint64_t{ones_sum(ip + 12, 8)} + kProtoTcp + tcp_len + ones_sum(tcp, tcp_len);
        if (fold(acc) != 0xffff) return s;
    }
    s.kind = Kind::tcp;
    s.flags = tcp[13];
    s.frame_len = static_cast<std::uint16_t>(kEth + total);
    s.hdr_len = static_cast<std::uint16_t>(kEth + ihl + doff);
    s.payload = static_cast<std::uint16_t>(tcp_len - doff);
    s.seq = be32(tcp + 4);
    s.mergeable = ihl == 20 && doff == 20 && (tcp[12] & 0x0f) == 0 && s.payload > 0 &&
                  (s.flags & kAck) != 0 && (s.flags & ~(kAck | kPsh)) == 0;
    return s;
}

std::size_t run_length(std::span<const View> frames) {
    if (frames.empty()) return 0;
    const View& head = frames[0];
    if (!head.seg.mergeable) return 1;
    const std::uint8_t* h = head.frame;
    const Segment* last = &head.seg;
    std::uint32_t merged = last->payload;
    std::size_t n = 1;
    for (; n < frames.size(); ++n) {
        const std::uint8_t* f = frames[n].frame;
        const Segment& s = frames[n].seg;
        if (!s.mergeable || (last->flags & kPsh) != 0 || merged + s.payload > kMaxMergedPayload)
            break;
        if (s.seq != last->seq + last->payload) break;  // out of order, a gap, a retransmission
        // Same flow: link header, TOS, TTL, addresses (IPv4 header bytes
        // 1, 8, 12..19), ports, and the same acknowledgement.
        if (std::memcmp(h, f, kEth) != 0 || h[kEth + 1] != f[kEth + 1] ||
            h[kEth + 8] != f[kEth + 8] || std::memcmp(h + kEth + 12, f + kEth + 12, 8) != 0 ||
            std::memcmp(h + kEth + 20, f + kEth + 20, 4) != 0 ||
            std::memcmp(h + kEth + 28, f + kEth + 28, 4) != 0)
            break;
        merged += s.payload;
        last = &s;
    }
    return n;
}

void merge_headers(std::uint8_t* head, const std::uint8_t* last, std::uint32_t payload) {
    std::uint8_t* ip = head + kEth;
    std::uint8_t* tcp = ip + 20;  // no options in a run
    const std::uint8_t* last_tcp = last + kEth + 20;
    put16(ip + 2, static_cast<std::uint16_t>(20 + 20 + payload));
    put16(ip + 10, 0);
    put16(ip + 10, static_cast<std::uint16_t>(~ones_sum(ip, 20)));
    tcp[13] = static_cast<std::uint8_t>(tcp[13] | (last_tcp[13] & kPsh));
    tcp[14] = last_tcp[14];  // the newest window
    tcp[15] = last_tcp[15];
}

bool is_pure_ack(const std::uint8_t* f, std::size_t len) {
    if (len < kEth + 40 || be16(f + 12) != kTypeIpv4) return false;
    const std::uint8_t* ip = f + kEth;
    if ((ip[0] >> 4) != 4 || ip[9] != kProtoTcp) return false;
    const std::size_t ihl = std::size_t{ip[0] & 15u} * 4;
    const std::size_t total = be16(ip + 2);
    if (ihl < 20 || kEth + ihl + 20 > len || total < ihl + 20) return false;
    const std::uint8_t* tcp = ip + ihl;
    const std::size_t doff = (std::size_t{tcp[12]} >> 4) * 4;
    const std::uint8_t flags = tcp[13];
    return total == ihl + doff && (flags & (kSyn | kFin | kRst)) == 0 && (flags & kAck) != 0;
}

}  // namespace rtos::net::gro
