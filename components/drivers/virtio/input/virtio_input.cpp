// virtio-input (5.8 Input Device): keyboards, mice and tablets, behind the
// device-independent input interface (drivers/input/input.hpp).
//
// At probe the configuration space is asked, select by select (5.8.5), for
// the name, serial, ids, input properties, the event types and codes
// (EV_BITS bitmaps) and the range of every absolute axis. Every answer is checked: a size above
// the 128-byte union, ids or abs info shorter than their structure, or an
// axis whose minimum exceeds its maximum is logged and ignored.
//
// The event queue (5.8.2, queue 0) holds one 8-byte buffer per descriptor
// and is kept full: the interrupt handler hands each used buffer's event to
// the subscribers, in ring order, and makes the buffer available again at
// once. A used length below 8 is counted (Device::errors()) and dropped
// without reading the buffer. The status queue (LEDs) is not used.
#include <rtos/critical.hpp>
#include <rtos/format.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>

#include "drivers/input/input.hpp"
#include "drivers/virtio/config.hpp"
#include "drivers/virtio/driver.hpp"
#include "drivers/virtio/hal.hpp"

namespace virtio {
namespace {

namespace in = rtos::input;

// 5.8.5 Device configuration layout: select, subsel, size, 5 reserved, union.
constexpr std::uint32_t kCfgSelect = 0;
constexpr std::uint32_t kCfgSubsel = 1;
constexpr std::uint32_t kCfgSize = 2;
constexpr std::uint32_t kCfgUnion = 8;
constexpr std::size_t kUnionBytes = 128;

// 5.8.5 enum virtio_input_config_select.
constexpr std::uint8_t VIRTIO_INPUT_CFG_ID_NAME = 0x01;
constexpr std::uint8_t VIRTIO_INPUT_CFG_ID_SERIAL = 0x02;
constexpr std::uint8_t VIRTIO_INPUT_CFG_ID_DEVIDS = 0x03;
constexpr std::uint8_t VIRTIO_INPUT_CFG_PROP_BITS = 0x10;
constexpr std::uint8_t VIRTIO_INPUT_CFG_EV_BITS = 0x11;
constexpr std::uint8_t VIRTIO_INPUT_CFG_ABS_INFO = 0x12;

constexpr std::size_t kDevidsSize = 8;    // struct virtio_input_devids
constexpr std::size_t kAbsInfoSize = 20;  // struct virtio_input_absinfo

// 5.8.6 struct virtio_input_event.
struct Event {
    std::uint16_t type;
    std::uint16_t code;
    std::uint32_t value;
};
static_assert(sizeof(Event) == 8);

constexpr std::uint16_t kEventq = 0;
constexpr unsigned kMaxBuffers = config::input_queue_size;

std::uint16_t le16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] | p[1] << 8); }
std::int32_t le32s(const std::uint8_t* p) {
    return static_cast<std::int32_t>(std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                                     std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
}

void* token_of(unsigned index) { return reinterpret_cast<void*>(std::uintptr_t{index} + 1); }
unsigned index_of(void* token) {
    return static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(token) - 1);
}

class VirtioInput {
public:
    explicit VirtioInput(Transport& t) : dev_(t) {}
    bool start(const Found& found);

private:
    static void on_eventq(void* ctx, Virtqueue& q);
    std::size_t query(std::uint8_t select, std::uint8_t subsel, std::uint8_t* out);
    void read_config();
    void fail(const char* why);
    bool give_up();

    Device dev_;
    in::Device input_;
    bool broken_ = false;
    bool short_logged_ = false;
    Event events_[kMaxBuffers] = {};  // device-writable, one per descriptor
};

void VirtioInput::fail(const char* why) {
    if (!broken_) rtos::printk("%s: %s; device stopped\n", dev_.name(), why);
    broken_ = true;
    dev_.reset();
}

// A probe that cannot finish: FAILED, queues released.
bool VirtioInput::give_up() {
    dev_.fail();
    dev_.shutdown();
    return false;
}

// Interrupt context. Buffers go back in the order they came, so the ring
// stays full and the device's order is the subscribers' order. After start
// the event queue is this handler's alone (one interrupt line, handled on
// one CPU at a time): no lock; what it reports goes under input_lock
// (components/drivers/input/input.cpp).
void VirtioInput::on_eventq(void* ctx, Virtqueue& q) {
    auto* self = static_cast<VirtioInput*>(ctx);
    if (self->broken_) return;
    bool requeued = false;
    for (;;) {
        Result<Completion> c = q.pop_used();
        if (c.error == Error::empty) break;
        if (!c.ok()) return self->fail("the device broke the event ring");
        const unsigned b = index_of(c.value.token);
        if (c.value.len < sizeof(Event)) {
            self->input_.count_error();
            if (!self->short_logged_)
                rtos::printk("%s: event of %u bytes (< %u) dropped\n", self->dev_.name(),
                             static_cast<unsigned>(c.value.len),
                             static_cast<unsigned>(sizeof(Event)));
            self->short_logged_ = true;
        } else {
            const Event e = self->events_[b];
            in::report(self->input_, e.type, e.code, static_cast<std::int32_t>(e.value));
        }
        const InSegment seg[] = {{&self->events_[b], sizeof(Event)}};
        if (!q.add_buffer({}, seg, c.value.token).ok())
            return self->fail("cannot requeue an event buffer");
        requeued = true;
    }
    if (requeued) q.kick();
}

// Selects (select, subsel) and copies the answer into out (128 bytes);
// returns its size, 0 when the device has none or gave a bogus one.
std::size_t VirtioInput::query(std::uint8_t select, std::uint8_t subsel, std::uint8_t* out) {
    std::size_t size = 0;
    const Error err = dev_.read_config_consistent([&](Transport& t) {
        t.config_write8(kCfgSelect, select);
        t.config_write8(kCfgSubsel, subsel);
        size = t.config_read8(kCfgSize);
        if (size > kUnionBytes) return;
        for (std::size_t i = 0; i < size; ++i)
            out[i] = t.config_read8(kCfgUnion + static_cast<std::uint32_t>(i));
    });
    if (err != Error::ok) return 0;
    if (size > kUnionBytes) {
        rtos::printk("%s: config select %#x subsel %#x: size %u > %u; ignored\n", dev_.name(),
                     select, subsel, static_cast<unsigned>(size),
                     static_cast<unsigned>(kUnionBytes));
        return 0;
    }
    return size;
}

void VirtioInput::read_config() {
    std::uint8_t u[kUnionBytes];
    std::size_t n = query(VIRTIO_INPUT_CFG_ID_NAME, 0, u);
    input_.set_product_name(reinterpret_cast<const char*>(u), n);
    n = query(VIRTIO_INPUT_CFG_ID_SERIAL, 0, u);
    input_.set_serial(reinterpret_cast<const char*>(u), n);
    n = query(VIRTIO_INPUT_CFG_ID_DEVIDS, 0, u);
    if (n >= kDevidsSize) {
        input_.set_ids({le16(u), le16(u + 2), le16(u + 4), le16(u + 6)});
    } else if (n > 0) {
        rtos::printk("%s: device ids of %u bytes (< %u); ignored\n", dev_.name(),
                     static_cast<unsigned>(n), static_cast<unsigned>(kDevidsSize));
    }
    n = query(VIRTIO_INPUT_CFG_PROP_BITS, 0, u);
    input_.set_props(u, n);
    for (std::uint16_t type = 0; type < in::kEventTypes; ++type) {
        n = query(VIRTIO_INPUT_CFG_EV_BITS, static_cast<std::uint8_t>(type), u);
        if (n == 0) continue;  // 5.8.5: a non-zero size means the type is supported
        input_.set_type(type);
        input_.set_codes(type, u, n);
    }
    if (!(input_.types() & (1u << in::EV_ABS))) return;
    for (std::uint16_t axis = 0; axis < in::kAbsAxes; ++axis) {
        if (!input_.has_code(in::EV_ABS, axis)) continue;
        n = query(VIRTIO_INPUT_CFG_ABS_INFO, static_cast<std::uint8_t>(axis), u);
        if (n < kAbsInfoSize) {
            rtos::printk("%s: abs axis %u: info of %u bytes (< %u); ignored\n", dev_.name(), axis,
                         static_cast<unsigned>(n), static_cast<unsigned>(kAbsInfoSize));
            continue;
        }
        const in::AbsInfo a{le32s(u), le32s(u + 4), le32s(u + 8), le32s(u + 12), le32s(u + 16)};
        if (a.min > a.max) {
            rtos::printk("%s: abs axis %u: min %d > max %d; ignored\n", dev_.name(), axis,
                         static_cast<int>(a.min), static_cast<int>(a.max));
            continue;
        }
        input_.set_abs(axis, a);
    }
}

bool VirtioInput::start(const Found& found) {
    if (dev_.negotiate(0) != Error::ok) return false;
    read_config();
    const Device::QueueSpec queues[] = {{config::input_queue_size, &VirtioInput::on_eventq, this}};
    if (dev_.setup_queues(queues) != Error::ok) {
        return give_up();
    }
    Virtqueue& q = dev_.queue(kEventq);
    const unsigned buffers = q.size() < kMaxBuffers ? q.size() : kMaxBuffers;
    for (unsigned b = 0; b < buffers; ++b) {
        const InSegment seg[] = {{&events_[b], sizeof(Event)}};
        if (!q.add_buffer({}, seg, token_of(b)).ok()) {
            rtos::printk("%s: cannot post event buffer %u\n", dev_.name(), b);
            return give_up();
        }
    }
    input_.set_location(dev_.name());
    if (in::device_count() >= in::kMaxDevices) {
        rtos::printk("%s: too many input devices; not used\n", dev_.name());
        return give_up();
    }
    // Last: nothing may fail once the handler is attached (the object would
    // be freed under it), and the registry never lets a device go.
    if (!dev_.attach_interrupts()) {
        rtos::printk("%s: no interrupt; device not used\n", dev_.name());
        return give_up();
    }
    in::add_device(input_);  // room checked above; probes run one at a time
    dev_.driver_ok();
    q.kick();
    char extra[112];
    snprintf(extra, sizeof(extra), " %s name \"%s\" ev %#x", input_.name(), input_.product_name(),
             static_cast<unsigned>(input_.types()));
    announce(found, dev_, {}, extra);  // no feature bits of its own (5.8.3)
    return true;
}

bool probe(const Found& found) { return start_in_dma_memory<VirtioInput>(found) != nullptr; }

}  // namespace

VIRTIO_DRIVER(input, VIRTIO_ID_INPUT, probe);

}  // namespace virtio
