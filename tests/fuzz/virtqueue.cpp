// Fuzz target: split virtqueue used-ring processing against a device script.
//
// The split virtqueue's used-ring processing
// (components/drivers/virtio/virtqueue.cpp) against a device script.
//
// The first bytes pick the register layout (legacy / modern), EVENT_IDX,
// INDIRECT_DESC and the queue size; the rest is a script of driver and
// device actions, one opcode byte each: the driver adds requests (1..4
// readable and writable segments of fuzzed sizes), kicks, pops, switches
// interrupts and batching; the "device" writes used entries (a real head or
// any id, an honest, short or any length), moves used idx by any amount,
// asks for no notifications, or the device is reset and every request
// reclaimed. A shadow of the requests in flight checks what comes back:
// every completion is a request in flight with at most its writable bytes,
// a bad entry breaks the queue (and it stays broken), reset + reclaim gives
// back exactly the requests in flight, and the descriptors all come home.
#include <deque>
#include <map>

#include "ring_script.hpp"

using namespace virtio;

namespace {

struct Request {
    std::uint64_t writable = 0;
    std::uint16_t head = 0;
};

enum Op : std::uint8_t {
    add,
    kick,
    pop,
    used_entry,
    used_idx_jump,
    interrupts,
    no_notify,
    avail_event,
    batching,
    reset,
    kOps
};

struct Script {
    FuzzedDataProvider& in;
    Virtqueue& q;
    Device& device;
    VirtqUsed* used;
    VirtqUsedElem* ring;
    std::uint16_t size;
    std::uint16_t used_idx = 0;  // what the device has published
    std::map<void*, Request*> in_flight;
    std::deque<Request> all;
    bool broken = false;

    void add_request() {
        const fuzz::Segments seg(in);
        Request* r = &all.emplace_back();
        r->writable = seg.writable;
        const Result<std::uint16_t> res = q.add_buffer(seg.outs(), seg.ins(), r);
        if (broken) {
            FUZZ_CHECK(res.error == Error::broken);
            return;
        }
        if (res.error == Error::no_space) return;
        if (res.error == Error::invalid_argument) {
            FUZZ_CHECK(seg.total() > size);  // the only thing invalid about it
            return;
        }
        FUZZ_CHECK(res.ok());
        FUZZ_CHECK(res.value < size);
        r->head = res.value;
        in_flight[r] = r;
    }

    void pop_one() {
        const Result<Completion> c = q.pop_used();
        if (c.error == Error::empty) {
            FUZZ_CHECK(!broken);
            return;
        }
        if (broken) {
            FUZZ_CHECK(c.error == Error::broken);
            return;
        }
        if (c.error == Error::device_error) {
            broken = true;
            FUZZ_CHECK(q.broken());
            return;
        }
        FUZZ_CHECK(c.ok());
        auto it = in_flight.find(c.value.token);
        FUZZ_CHECK(it != in_flight.end());  // only requests in flight come back
        FUZZ_CHECK(c.value.len <= it->second->writable);
        in_flight.erase(it);
    }

    // The device writes one used entry and publishes it.
    void write_used() {
        std::uint32_t id;
        const unsigned how = in.ConsumeIntegralInRange<unsigned>(0, 3);
        Request* r = nullptr;
        if (how < 3 && !in_flight.empty()) {
            auto it = in_flight.begin();
            std::advance(it, in.ConsumeIntegralInRange<std::size_t>(0, in_flight.size() - 1));
            r = it->second;
            id = r->head;
        } else {
            id = in.ConsumeIntegral<std::uint32_t>();
        }
        std::uint32_t len;
        const unsigned lhow = in.ConsumeIntegralInRange<unsigned>(0, 3);
        if (r != nullptr && lhow == 0) len = static_cast<std::uint32_t>(r->writable);
        else if (r != nullptr && lhow == 1)
            len = in.ConsumeIntegralInRange<std::uint32_t>(0,
                                                           static_cast<std::uint32_t>(r->writable));
        else len = in.ConsumeIntegral<std::uint32_t>();
        VirtqUsedElem& e = ring[used_idx & (size - 1)];
        e.id = id;
        e.len = len;
        ++used_idx;
        used->idx = used_idx;
    }

    // Reset, then every request in flight comes back once, nothing else.
    void reset_and_reclaim() {
        device.reset();
        std::size_t n = 0;
        for (;;) {
            const Result<void*> t = q.reclaim();
            if (!t.ok()) break;
            FUZZ_CHECK(in_flight.erase(t.value) == 1);
            FUZZ_CHECK(++n <= size);
        }
        FUZZ_CHECK(in_flight.empty());
        FUZZ_CHECK(q.num_free() == size);
    }

    void run() {
        while (in.remaining_bytes() > 0) {
            switch (in.ConsumeIntegralInRange<std::uint8_t>(0, kOps - 1)) {
            case add: add_request(); break;
            case kick: q.kick(); break;
            case pop: pop_one(); break;
            case used_entry: write_used(); break;
            case used_idx_jump:
                used_idx =
                    static_cast<std::uint16_t>(used_idx + in.ConsumeIntegral<std::uint16_t>());
                used->idx = used_idx;
                break;
            case interrupts:
                if (in.ConsumeBool()) q.disable_interrupts();
                else (void)q.enable_interrupts();
                break;
            case no_notify: used->flags = in.ConsumeBool() ? VIRTQ_USED_F_NO_NOTIFY : 0; break;
            case avail_event:
                *reinterpret_cast<std::uint16_t*>(&ring[size]) =
                    in.ConsumeIntegral<std::uint16_t>();
                break;
            case batching: q.set_interrupt_batching(in.ConsumeBool()); break;
            case reset: return reset_and_reclaim();
            }
            if (!broken) FUZZ_CHECK(q.in_flight() == in_flight.size());
        }
        // Drain what the device published; then everything must be accounted for.
        for (unsigned i = 0; i <= size + 1u && !broken && q.has_used(); ++i) pop_one();
        if (!broken && in_flight.empty()) FUZZ_CHECK(q.num_free() == size);
        reset_and_reclaim();
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::begin_input();
    FuzzedDataProvider in(data, size);
    fake::FakeMmioDevice::Options o;
    o.version = in.ConsumeBool() ? mmio::VERSION_LEGACY : mmio::VERSION_MODERN;
    if (in.ConsumeBool()) o.features |= feature_bit(VIRTIO_RING_F_EVENT_IDX);
    if (in.ConsumeBool()) o.features |= feature_bit(VIRTIO_RING_F_INDIRECT_DESC);
    const auto qsize = static_cast<std::uint16_t>(1u << in.ConsumeIntegralInRange<unsigned>(0, 8));
    fuzz::RingUnderTest t(o, qsize);
    auto* used = t.area<VirtqUsed>(t.view.used);
    Script s{in,         t.q, t.device, used, reinterpret_cast<VirtqUsedElem*>(used + 1),
             t.q.size(), 0,   {},       {},   false};
    s.run();
    return 0;
}
