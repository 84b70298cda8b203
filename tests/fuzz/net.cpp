// Fuzz target: virtio-net's receive path (headers, merged buffers) and transmit.
//
// The virtio-net driver (components/drivers/virtio/net/virtio_net.cpp) with
// its receive thread (a coroutine of the kernel stand-in) and the link-layer
// interface (components/drivers/net/netdev.cpp), in both header layouts
// (10 bytes: legacy without MRG_RXBUF; 12 bytes), as the input offers the
// features. The input is a script: received frames, each a virtio_net_hdr
// (flags, gso_type, csum_start / csum_offset, num_buffers: honest or any)
// and any frame bytes, reported with an honest or any used length; ring
// faults, link status changes, transmitted frames of any length (queued
// without a copy, then flushed). The "stack" keeps loaned receive buffers
// now and then and gives them back at a later step. The receive thread and
// due timers run after each step, on interrupts or polling. Checked: every
// frame handed up is between an Ethernet header and the buffer's room long,
// no more frames come up than the device delivered (unless it lied about
// used idx), TxDone names a frame sent and comes no more often than frames
// were queued, and nothing is touched outside its buffer; a ring violation
// resets the device and the driver goes on.
#include <cstdio>  // before rtos/format.hpp: clang wants the C library's snprintf first
#include <new>
#include <vector>

#include "driver_table.hpp"
#include "drivers/net/netdev.cpp"
#include "drivers/virtio/net/virtio_net.cpp"
#include "harness.hpp"
#include "scripted_device.hpp"

namespace {

namespace vn = virtio::net;

struct Seen {
    FuzzedDataProvider* in = nullptr;
    std::size_t frames = 0;
    std::size_t max_len = 0, min_len = ~std::size_t{0};
    std::vector<std::uint32_t> kept;   // loaned buffers the "stack" holds
    std::size_t queued = 0, done = 0;  // transmitted frames, TxDone calls
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // The network registry holds the devices of the input before: a new list.
    new (&rtos::net::registry) decltype(rtos::net::registry)();
    fuzz::begin_driver_input();
    FuzzedDataProvider in(data, size);

    driver_test::DeviceSetup s;
    const bool legacy = in.ConsumeBool();
    s.version = legacy ? virtio::mmio::VERSION_LEGACY : virtio::mmio::VERSION_MODERN;
    s.device_id = virtio::VIRTIO_ID_NET;
    s.features = in.ConsumeIntegral<std::uint64_t>();
    s.queue_num_max = in.ConsumeBool() ? 1024 : in.ConsumeIntegralInRange<std::uint32_t>(0, 8);
    fuzz::ScriptedDevice dev(s, in);
    const std::uint8_t config[8] = {
        0x52, 0x54, 0, 0x12, 0x34, 0x56, in.ConsumeIntegral<std::uint8_t>(), 0};
    dev.fake.change_config(0, config);

    if (!dev.probe()) return 0;
    rtos::net::NetDevice* nd = rtos::net::NetDevice::first();
    FUZZ_CHECK(nd != nullptr);
    Seen seen;
    seen.in = &in;
    static std::uint8_t frame[1600];  // transmitted: unchanged until TxDone
    nd->attach(
        [](void* ctx, std::span<rtos::net::RxFrame> batch) {
            auto* s = static_cast<Seen*>(ctx);
            for (rtos::net::RxFrame& f : batch) {
                ++s->frames;
                if (f.len > s->max_len) s->max_len = f.len;
                if (f.len < s->min_len) s->min_len = f.len;
                // The stack keeps a loaned buffer now and then (zero-copy
                // receive) and gives it back at a later step.
                if (f.loanable && s->in->ConsumeBool()) {
                    f.kept = true;
                    s->kept.push_back(f.id);
                }
            }
        },
        [](void* ctx, void* cookie) {
            auto* s = static_cast<Seen*>(ctx);
            FUZZ_CHECK(cookie == frame);
            ++s->done;
        },
        nullptr, &seen);
    const bool mrg =
        (dev.fake.driver_features() & virtio::feature_bit(vn::VIRTIO_NET_F_MRG_RXBUF)) != 0;
    const std::uint32_t hdr_len = vn::layout(legacy, mrg).hdr_len;

    std::size_t delivered = 0;
    bool lied = false;
    while (in.remaining_bytes() > 0) {
        switch (in.ConsumeIntegralInRange<unsigned>(0, 5)) {
        case 0:
        case 1: {  // a frame arrives
            vn::NetHdr h;
            if (in.ConsumeBool()) {
                h.flags = in.ConsumeIntegral<std::uint8_t>();
                h.gso_type = in.ConsumeIntegralInRange<std::uint8_t>(0, 1)
                                 ? in.ConsumeIntegral<std::uint8_t>()
                                 : 0;
                h.csum_start = in.ConsumeIntegral<std::uint16_t>() % 1600;
                h.csum_offset = in.ConsumeIntegral<std::uint16_t>() % 64;
                h.num_buffers = in.ConsumeIntegralInRange<std::uint16_t>(0, 3);
            } else {
                h.num_buffers = 1;
            }
            fuzz::Delivery d;
            d.bytes.assign(reinterpret_cast<const std::uint8_t*>(&h),
                           reinterpret_cast<const std::uint8_t*>(&h) + hdr_len);
            const std::vector<std::uint8_t> f = in.ConsumeBytes<std::uint8_t>(
                in.ConsumeBool() ? in.ConsumeIntegralInRange<std::size_t>(0, 1600)
                                 : in.ConsumeIntegralInRange<std::size_t>(0, 80));
            d.bytes.insert(d.bytes.end(), f.begin(), f.end());
            if (in.ConsumeIntegralInRange<unsigned>(0, 4) == 0)
                d.used_len = in.ConsumeIntegralInRange<std::uint32_t>(0, 1700);
            ++delivered;
            dev.deliver(0, std::move(d));
            break;
        }
        case 2:
            lied = true;
            dev.fake.inject(static_cast<fake::UsedFault>(in.ConsumeIntegralInRange<int>(1, 4)),
                            in.ConsumeIntegral<std::uint16_t>());
            break;
        case 3: {  // link status
            const std::uint8_t status[2] = {in.ConsumeIntegral<std::uint8_t>(), 0};
            dev.fake.change_config(6, status);
            dev.fake.raise_config_change();
            dev.process(0);
            break;
        }
        case 4: {  // a frame to send, in one or two fragments
            const std::size_t n = in.ConsumeIntegralInRange<std::size_t>(0, sizeof(frame));
            const std::size_t cut = in.ConsumeIntegralInRange<std::size_t>(0, n);
            const rtos::net::Fragment fr[] = {{frame, cut}, {frame + cut, n - cut}};
            if (nd->transmit(fr, frame,
                             rtos::Timeout::ticks(in.ConsumeIntegralInRange<unsigned>(0, 2))) ==
                rtos::Status::ok)
                ++seen.queued;
            nd->flush();
            dev.process(1);
            break;
        }
        case 5:  // the stack gives back what it kept; the device goes on
            for (std::uint32_t id : seen.kept) nd->give_back(id);
            seen.kept.clear();
            dev.process(0);
            break;
        }
        fuzz_kernel::run_threads();
        // A device that moved used idx past entries it never wrote makes the
        // driver take stale ones (the split ring cannot tell): count only
        // while it did not.
        FUZZ_CHECK(lied || seen.frames <= delivered);
        FUZZ_CHECK(seen.done <= seen.queued);
    }
    for (std::uint32_t id : seen.kept) nd->give_back(id);
    fuzz_kernel::run_threads();
    if (seen.frames) {
        FUZZ_CHECK(seen.min_len >= vn::kMinFrameLen);
        FUZZ_CHECK(seen.max_len <= vn::kRxFrameRoom);
    }
    return 0;
}
