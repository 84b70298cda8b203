// Fuzz target: packed virtqueue used-descriptor processing against a device script.
//
// The packed ring (components/drivers/virtio/virtqueue_packed.cpp, 2.8)
// against a device script; the split ring has its own target (virtqueue.cpp)
// because the device writes different structures there.
//
// The first bytes pick EVENT_IDX, INDIRECT_DESC and the queue size (1 to
// 256); the rest is a script, one opcode byte each: the driver adds requests
// (1..8 readable and writable segments of fuzzed sizes: chains, or indirect
// tables), kicks, pops, switches interrupts and batching; the "device"
// writes a used descriptor at its used position (a Buffer ID in flight or
// any, an honest, short or any length, AVAIL/USED marks of its wrap counter
// or any), moves its position on honestly or by any amount (skipped and
// repeated slots), writes its event suppression structure in any mode
// (ENABLE, DISABLE, DESC at any offset and wrap, reserved), or is reset and
// every request reclaimed. A shadow checks each step against the spec:
//   - pop_used() returns what the descriptor at the driver's used position
//     says (2.8.22): nothing while it is still available, the request of its
//     Buffer ID when that is in flight with at most its writable bytes,
//     device_error for anything else, and broken ever after; no request
//     comes back twice;
//   - in-flight requests and free descriptors are counted exactly;
//   - kick() notifies when the device's event word asks for it (ENABLE, or
//     DESC at a descriptor made available since the last kick) and never
//     when it says DISABLE or DESC elsewhere in the ring (2.8.21.3);
//   - the driver's event word (2.8.10) says DISABLE while interrupts are off,
//     ENABLE or (EVENT_IDX) DESC at a descriptor the device will still use;
//   - reset + reclaim gives back exactly the requests in flight.
#include <bitset>
#include <deque>
#include <map>
#include <string>

#include "ring_script.hpp"

using namespace virtio;

namespace {

constexpr std::uint16_t kMarks = VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED;

struct Request {
    std::uint64_t writable = 0;
    std::uint16_t count = 0;  // ring descriptors it takes
};

// A position in the ring with its lap's wrap counter (2.8.1).
struct Pos {
    std::uint16_t at = 0;
    bool wrap = true;
    void advance(std::uint32_t by, std::uint16_t size) {
        std::uint32_t p = at + by;
        while (p >= size) {
            p -= size;
            wrap = !wrap;
        }
        at = static_cast<std::uint16_t>(p);
    }
    unsigned index() const { return at * 2u + wrap; }  // one bit of Added each
};

enum Op : std::uint8_t { add, kick, pop, use, move, suppress, interrupts, batching, reset, kOps };

struct Script {
    FuzzedDataProvider& in;
    Virtqueue& q;
    Device& device;
    std::uint16_t size;
    bool event_idx;
    bool indirect;
    PvirtqDesc* ring = nullptr;
    const PvirtqEventSuppress* driver_event = nullptr;
    PvirtqEventSuppress* device_event = nullptr;

    Script(FuzzedDataProvider& in_, Virtqueue& q_, Device& device_, std::uint16_t size_,
           bool event_idx_, bool indirect_)
        : in(in_),
          q(q_),
          device(device_),
          size(size_),
          event_idx(event_idx_),
          indirect(indirect_) {}

    // Positions (each lap's) made available since the last kick.
    struct Added {
        std::bitset<2 * 256> at;
        unsigned count = 0;
        void insert(Pos p) {
            if (!at.test(p.index())) ++count;
            at.set(p.index());
        }
        bool contains(Pos p) const { return p.at < 256 && at.test(p.index()); }
        bool empty() const { return count == 0; }
        void clear() {
            at.reset();
            count = 0;
        }
    };

    std::map<std::uint16_t, Request*> in_flight;  // by Buffer ID
    std::deque<Request> all;
    Pos next_avail, next_used;  // the driver's, as the spec says they move
    Pos device_used;            // where the scripted device writes next
    Added added;
    std::uint16_t in_flight_descs = 0;
    bool interrupts_on = true;
    bool broken = false;

    std::uint32_t kicks() const { return q.stats().kicks + q.stats().suppressed; }

    void add_request() {
        const fuzz::Segments seg(in);
        Request* r = &all.emplace_back();
        r->writable = seg.writable;
        const unsigned total = seg.total();
        const std::uint32_t kicks_before = kicks();
        const Result<std::uint16_t> res = q.add_buffer(seg.outs(), seg.ins(), r);
        if (broken) {
            FUZZ_CHECK(res.error == Error::broken);
            return;
        }
        if (total > size) {
            FUZZ_CHECK(res.error == Error::invalid_argument);  // the only thing invalid about it
            return;
        }
        const bool as_table = indirect && total > 1 && total <= Virtqueue::kIndirectMax;
        r->count = static_cast<std::uint16_t>(as_table ? 1 : total);
        if (r->count > size - in_flight_descs) {
            FUZZ_CHECK(res.error == Error::no_space);
            return;
        }
        FUZZ_CHECK(res.ok());
        const std::uint16_t id = res.value;
        FUZZ_CHECK(id < size);
        FUZZ_CHECK(in_flight.count(id) == 0);  // a Buffer ID in flight is never reused
        // add_buffer() kicks first when the kick's range would pass a lap.
        if (kicks() != kicks_before) added.clear();
        // 2.8.6: the list where the driver's position was, each descriptor
        // available in its own lap, NEXT on all but the last, the Buffer ID
        // in the last; 2.8.7: an indirect table as one descriptor.
        for (std::uint16_t k = 0; k < r->count; ++k) {
            const PvirtqDesc& d = ring[next_avail.at];
            FUZZ_CHECK((d.flags & kMarks) ==
                       (next_avail.wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED));
            FUZZ_CHECK(((d.flags & VIRTQ_DESC_F_NEXT) != 0) == (k + 1 < r->count));
            FUZZ_CHECK(((d.flags & VIRTQ_DESC_F_INDIRECT) != 0) == as_table);
            if (as_table) FUZZ_CHECK(d.len == total * sizeof(PvirtqDesc));
            if (k + 1 == r->count) FUZZ_CHECK(d.id == id);
            added.insert(next_avail);
            next_avail.advance(1, size);
        }
        in_flight[id] = r;
        in_flight_descs = static_cast<std::uint16_t>(in_flight_descs + r->count);
    }

    // 2.8.21.3: whether this kick must, may or must not notify.
    void kick_once() {
        const PvirtqEventSuppress e = *device_event;
        const bool nothing = broken || added.empty();
        const Pos asked{static_cast<std::uint16_t>(e.desc & 0x7fff), (e.desc >> 15) != 0};
        const bool in_range = added.contains(asked);
        const bool notified = q.kick();
        added.clear();
        if (nothing) return FUZZ_CHECK(!notified);
        switch (e.flags) {
        case RING_EVENT_FLAGS_ENABLE: FUZZ_CHECK(notified); break;
        case RING_EVENT_FLAGS_DISABLE: FUZZ_CHECK(!notified); break;
        case RING_EVENT_FLAGS_DESC:
            // A notification for the descriptor asked about is never
            // missed; an offset inside the ring anywhere else gets none.
            if (in_range) FUZZ_CHECK(notified);
            else if (asked.at < size) FUZZ_CHECK(!notified);
            break;
        default: break;  // reserved: either is fine
        }
    }

    // 2.8.22: what the descriptor at the driver's used position says.
    void pop_one() {
        const Result<Completion> c = q.pop_used();
        if (broken) return FUZZ_CHECK(c.error == Error::broken);
        if (in_flight.empty()) return FUZZ_CHECK(c.error == Error::empty);
        const PvirtqDesc d = ring[next_used.at];
        const std::uint16_t marks = d.flags & kMarks;
        if (marks == (next_used.wrap ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED))
            return FUZZ_CHECK(c.error == Error::empty);  // not used yet
        const auto it = in_flight.find(d.id);
        if (marks != (next_used.wrap ? kMarks : 0) || it == in_flight.end() ||
            d.len > it->second->writable) {
            FUZZ_CHECK(c.error == Error::device_error);
            FUZZ_CHECK(q.broken() && q.has_used());
            FUZZ_CHECK(host_hal::log().find("broken: ") != std::string::npos);  // and said why
            broken = true;
            return;
        }
        FUZZ_CHECK(c.ok());
        FUZZ_CHECK(c.value.token == it->second);
        FUZZ_CHECK(c.value.len == d.len);
        next_used.advance(it->second->count, size);  // 2.8.6: the rest of the list skipped
        in_flight_descs = static_cast<std::uint16_t>(in_flight_descs - it->second->count);
        in_flight.erase(it);
    }

    // The device writes one used descriptor at its used position (2.8.6:
    // id and len, then the flags that publish it), then moves on.
    void write_used() {
        std::uint16_t id;
        Request* r = nullptr;
        if (in.ConsumeIntegralInRange<unsigned>(0, 3) < 3 && !in_flight.empty()) {
            auto it = in_flight.begin();
            std::advance(it, in.ConsumeIntegralInRange<std::size_t>(0, in_flight.size() - 1));
            r = it->second;
            id = it->first;
        } else {
            id = in.ConsumeIntegral<std::uint16_t>();
        }
        std::uint32_t len;
        const unsigned lhow = in.ConsumeIntegralInRange<unsigned>(0, 3);
        if (r != nullptr && lhow == 0) len = static_cast<std::uint32_t>(r->writable);
        else if (r != nullptr && lhow == 1)
            len = in.ConsumeIntegralInRange<std::uint32_t>(0,
                                                           static_cast<std::uint32_t>(r->writable));
        else len = in.ConsumeIntegral<std::uint32_t>();
        // The device's marks (AVAIL = USED = its wrap counter), or any pair,
        // with or without other flag bits.
        std::uint16_t flags = device_used.wrap ? kMarks : 0;
        if (in.ConsumeIntegralInRange<unsigned>(0, 3) == 0)
            flags = in.ConsumeIntegral<std::uint16_t>();
        PvirtqDesc& d = ring[device_used.at];
        d.id = id;
        d.len = len;
        d.flags = flags;
        device_used.advance(r != nullptr ? r->count : 1, size);
    }

    void run() {
        while (in.remaining_bytes() > 0) {
            switch (in.ConsumeIntegralInRange<std::uint8_t>(0, kOps - 1)) {
            case add: add_request(); break;
            case kick: kick_once(); break;
            case pop: pop_one(); break;
            case use: write_used(); break;
            case move:
                // Skipped or repeated slots: the device's position moves by
                // any amount, or back to the driver's.
                if (in.ConsumeBool()) device_used = next_used;
                else
                    device_used.advance(in.ConsumeIntegralInRange<std::uint32_t>(0, 2u * size),
                                        size);
                break;
            case suppress: {
                const std::uint16_t flags = in.ConsumeIntegralInRange<std::uint16_t>(0, 3);
                std::uint16_t desc;
                if (in.ConsumeBool()) {
                    // Near where the driver makes descriptors available, either lap.
                    Pos p = next_avail;
                    p.advance(in.ConsumeIntegralInRange<std::uint32_t>(0, 2u * size - 1), size);
                    desc = pvirtq_off_wrap(p.at, p.wrap);
                } else {
                    desc = in.ConsumeIntegral<std::uint16_t>();
                }
                device_event->desc = desc;
                device_event->flags = flags;
                break;
            }
            case interrupts:
                interrupts_on = in.ConsumeBool();
                if (interrupts_on) {
                    const bool quiet = q.enable_interrupts();
                    FUZZ_CHECK(quiet == !q.has_used());
                } else {
                    q.disable_interrupts();
                }
                break;
            case batching: q.set_interrupt_batching(in.ConsumeBool()); break;
            case reset: return reset_and_reclaim();
            }
            if (!broken) check_accounting();
        }
        // Drain what the device published; then everything must be accounted for.
        for (unsigned i = 0; i <= size + 1u && !broken && q.has_used(); ++i) pop_one();
        reset_and_reclaim();
    }

    void check_accounting() {
        FUZZ_CHECK(!q.broken());
        FUZZ_CHECK(q.in_flight() == in_flight.size());
        FUZZ_CHECK(q.num_free() == size - in_flight_descs);
        // 2.8.10: the driver's event word.
        const PvirtqEventSuppress e = *driver_event;
        if (!interrupts_on) return FUZZ_CHECK(e.flags == RING_EVENT_FLAGS_DISABLE);
        if (!event_idx) return FUZZ_CHECK(e.flags == RING_EVENT_FLAGS_ENABLE);
        FUZZ_CHECK(e.flags == RING_EVENT_FLAGS_DESC);
        // At a descriptor the device will still use: from the driver's used
        // position up to the last descriptor in flight (never past it, or
        // the interrupt would never come).
        const std::uint16_t off = e.desc & 0x7fff;
        FUZZ_CHECK(off < size);
        const int ahead = off - next_used.at + (((e.desc >> 15) != 0) == next_used.wrap ? 0 : size);
        FUZZ_CHECK(ahead >= 0);
        FUZZ_CHECK(ahead < (in_flight_descs == 0 ? 1 : in_flight_descs));
    }

    // Reset, then every request in flight comes back once, nothing else.
    void reset_and_reclaim() {
        device.reset();
        std::size_t n = 0;
        for (;;) {
            const Result<void*> t = q.reclaim();
            if (!t.ok()) break;
            bool found = false;
            for (auto it = in_flight.begin(); it != in_flight.end(); ++it) {
                if (it->second != t.value) continue;
                in_flight.erase(it);
                found = true;
                break;
            }
            FUZZ_CHECK(found);
            FUZZ_CHECK(++n <= size);
        }
        FUZZ_CHECK(in_flight.empty());
        FUZZ_CHECK(q.num_free() == size);
        FUZZ_CHECK(q.in_flight() == 0);
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::begin_input();
    FuzzedDataProvider in(data, size);
    fake::FakeMmioDevice::Options o;
    o.features = feature_bit(VIRTIO_F_RING_PACKED);
    const bool event_idx = in.ConsumeBool();
    const bool indirect = in.ConsumeBool();
    if (event_idx) o.features |= feature_bit(VIRTIO_RING_F_EVENT_IDX);
    if (indirect) o.features |= feature_bit(VIRTIO_RING_F_INDIRECT_DESC);
    const auto qsize = static_cast<std::uint16_t>(1u << in.ConsumeIntegralInRange<unsigned>(0, 8));
    fuzz::RingUnderTest t(o, qsize);
    FUZZ_CHECK(t.q.packed() && t.q.size() == qsize);
    Script s{in, t.q, t.device, qsize, event_idx, indirect && t.q.uses_indirect()};
    s.ring = t.area<PvirtqDesc>(t.view.desc);
    s.driver_event = t.area<const PvirtqEventSuppress>(t.view.avail);
    s.device_event = t.area<PvirtqEventSuppress>(t.view.used);
    s.run();
    return 0;
}
