// Receive coalescing for the netif (the idea of Linux's GRO): in-order TCP
// segments of one connection that arrive in one receive batch are handed to
// lwIP as one segment, so it acknowledges the batch instead of every second
// segment. The rules, over the frames' bytes and free of lwIP so host tests
// drive them directly (tests/host/net_gro):
//
//   - every TCP/IPv4 segment is verified here, IP header and TCP checksum
//     (lwIP's own TCP check is off: a merged segment keeps its first
//     part's stale checksum); one that cannot be verified (an IP fragment,
//     impossible lengths) or fails is dropped;
//   - a segment joins the run before it only when it is the same flow
//     (link header, addresses, ports, TOS, TTL), carries data with nothing
//     but ACK (and PSH) set, has no IP or TCP options, acknowledges the
//     same byte and starts exactly where the run ends (so never out of
//     order, across a gap or as a retransmission), the run has no PSH yet
//     and the merged segment stays within 64 KiB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace rtos::net::gro {

/// What inspect() found in a frame.
enum class Kind : std::uint8_t {
    other,  ///< not TCP over IPv4: the stack checks it itself
    tcp,    ///< TCP over IPv4, IP header and TCP checksum verified
    bad,    ///< TCP over IPv4 that is malformed, a fragment or fails a checksum: drop it
};

struct Segment {
    Kind kind = Kind::other;
    bool mergeable = false;       ///< may start or continue a run (see above)
    std::uint8_t flags = 0;       ///< TCP flags
    std::uint16_t frame_len = 0;  ///< link header + IP total length (link padding excluded)
    std::uint16_t hdr_len = 0;    ///< link + IP + TCP headers
    std::uint16_t payload = 0;    ///< TCP payload bytes
    std::uint32_t seq = 0;
};

/// A frame with what inspect() found.
struct View {
    const std::uint8_t* frame;
    Segment seg;
};

constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20,
                       kEce = 0x40, kCwr = 0x80;
/// Largest merged payload: the merged IP packet and its link header stay
/// within lwIP's 16-bit packet length.
constexpr std::uint32_t kMaxMergedPayload = 0xffff - 14 - 20 - 20;

/// The one's complement sum of RFC 1071 over `len` bytes as the machine
/// loads them (16-bit lanes in memory order), folded, not inverted: what
/// lwIP's LWIP_CHKSUM returns. Any alignment.
std::uint16_t sum_native(const void* data, std::size_t len);

/// Examines one received frame of `len` bytes (Ethernet header first).
/// `csum_ok`: the device or driver already vouched for the TCP checksum.
Segment inspect(const std::uint8_t* frame, std::size_t len, bool csum_ok);

/// How many of `frames`, from the first, form one run (1 when the first
/// cannot start one). Every View must come from inspect().
std::size_t run_length(std::span<const View> frames);

/// Makes `head` (the first frame of a run of `run` frames, all from
/// run_length()) the header of the merged segment of `payload` bytes: IP
/// total length and header checksum, and the window and PSH of the last
/// frame. The TCP checksum field is left as it was.
void merge_headers(std::uint8_t* head, const std::uint8_t* last, std::uint32_t payload);

/// Should the stack acknowledge at once what `first` (a Kind::tcp segment
/// starting a run of `run` frames) brings? A merged segment stands for
/// several; a full-sized one (`mss` bytes of data or more) alone is likely
/// all the sender's congestion window allows (a new connection's first):
/// yes. A short one keeps the delayed ACK a reply can carry.
constexpr bool ack_at_once(const Segment& first, std::size_t run, std::uint16_t mss) {
    return first.kind == Kind::tcp && (run > 1 || first.payload >= mss);
}

/// A frame the stack sends (its first `len` bytes): a TCP segment that
/// carries nothing but an acknowledgement (no data, no SYN/FIN/RST)?
bool is_pure_ack(const std::uint8_t* frame, std::size_t len);

}  // namespace rtos::net::gro
