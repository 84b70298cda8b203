// virtio-console (5.3 Console Device): port 0 and, with
// VIRTIO_CONSOLE_F_MULTIPORT, the control queue protocol (5.3.6.2) that adds,
// names, opens, closes and removes ports. The data path runs in the
// interrupt handler; threads see byte streams (console_port.hpp).
//
// Queues (5.3.2): 0/1 port 0 receive/transmit, 2/3 control receive/transmit,
// then 2 + 2n / 3 + 2n for port n >= 1. Every port's queues and buffers are
// set up at probe time (modern devices take no queue after DRIVER_OK), so
// nothing is allocated in interrupt context.
//
// Flow control: a receive buffer the device filled goes back to the device
// only once its consumer has taken all its bytes: a thread's read(), or for
// port 0 as the shell the kernel console's input ring (which takes what
// fits and calls resume_console() when it has room again). One queue of
// filled buffers per port serves both (unread(), consumed()). With every
// buffer full the device has nowhere to write and QEMU stops reading its
// chardev: a slow reader stalls the host, nothing is dropped.
//
// The device is untrusted: control messages are length-checked, port ids
// bounded, names copied up to the used length and terminated here.
//
// Locks (docs/smp.md): each device's `lock_`, a spinlock, guards its queues
// and every port's state between threads and the interrupt handlers, which
// may run on other CPUs at the same moment. Nothing is printed under it: a
// broken device is reported, and its waiters woken, once it is dropped
// (after_fail()); control messages are copied out and handled outside it.
#include <new>

#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/console.hpp>
#include <rtos/format.hpp>
#include <rtos/mutex.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/spinlock.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

#include "drivers/virtio/config.hpp"
#include "drivers/serial/console_port.hpp"
#include "drivers/virtio/driver.hpp"
#include "drivers/virtio/hal.hpp"

namespace rtos::serial {

class Console;

namespace {

using virtio::Completion;
using virtio::Error;
using virtio::InSegment;
using virtio::OutSegment;
using virtio::Result;
using virtio::Virtqueue;

// 5.3.3 Feature bits.
constexpr unsigned VIRTIO_CONSOLE_F_SIZE = 0;
constexpr unsigned VIRTIO_CONSOLE_F_MULTIPORT = 1;
constexpr virtio::FeatureName kFeatureNames[] = {{VIRTIO_CONSOLE_F_SIZE, "size"},
                                                 {VIRTIO_CONSOLE_F_MULTIPORT, "multiport"}};

// 5.3.4 Device configuration layout (byte offsets).
constexpr std::uint32_t kCfgCols = 0;
constexpr std::uint32_t kCfgRows = 2;
constexpr std::uint32_t kCfgMaxPorts = 4;

// 5.3.6.2 Control events.
constexpr std::uint16_t VIRTIO_CONSOLE_DEVICE_READY = 0;
constexpr std::uint16_t VIRTIO_CONSOLE_PORT_ADD = 1;
constexpr std::uint16_t VIRTIO_CONSOLE_PORT_REMOVE = 2;
constexpr std::uint16_t VIRTIO_CONSOLE_PORT_READY = 3;
constexpr std::uint16_t VIRTIO_CONSOLE_CONSOLE_PORT = 4;
constexpr std::uint16_t VIRTIO_CONSOLE_RESIZE = 5;
constexpr std::uint16_t VIRTIO_CONSOLE_PORT_OPEN = 6;
constexpr std::uint16_t VIRTIO_CONSOLE_PORT_NAME = 7;

struct Control {  // struct virtio_console_control
    std::uint32_t id;
    std::uint16_t event;
    std::uint16_t value;
};
static_assert(sizeof(Control) == 8);

// A device announcing more ports than this is not plausible (the spec's
// queue numbering runs out at 2^15 ports).
constexpr std::uint32_t kMaxPlausiblePorts = 0x7fff;

constexpr unsigned kMaxPorts = CONFIG_VIRTIO_CONSOLE_MAX_PORTS;
constexpr unsigned kBuffers = CONFIG_VIRTIO_CONSOLE_BUFFERS;
constexpr std::uint32_t kBufSize = CONFIG_VIRTIO_CONSOLE_BUFFER_SIZE;
constexpr std::uint32_t kCtrlBufSize = 128;  // header + a name of up to 119 bytes
constexpr unsigned kCtrlTxSlots = 16;
constexpr unsigned kMaxDevices = 4;
constexpr std::size_t kNameMax = 63;

constexpr std::uint16_t kPort0Rx = 0, kControlRx = 2, kControlTx = 3;
constexpr std::uint16_t rx_queue(unsigned port) {
    return static_cast<std::uint16_t>(port == 0 ? kPort0Rx : 2 + 2 * port);
}

void* token_of(unsigned index) { return reinterpret_cast<void*>(std::uintptr_t{index} + 1); }
unsigned index_of(void* token) {
    return static_cast<unsigned>(reinterpret_cast<std::uintptr_t>(token) - 1);
}

// Written by the probes (one at a time, before any port is opened), read
// after: no lock.
Console* devices[kMaxDevices];
unsigned devices_found = 0;

}  // namespace

// Everything below but the semaphores and mutexes is under the owner's lock_.
struct Port {
    Console* owner = nullptr;
    unsigned id = 0;
    char name[kNameMax + 1] = {};
    bool present = false;
    bool console = false;
    bool host_open = false;
    unsigned users = 0;           // open() minus close()
    bool system_console = false;  // mirrors the kernel console (VIRTIO_CONSOLE_SHELL)
    std::uint16_t cols = 0, rows = 0;
    std::uint64_t rx_bytes = 0, tx_bytes = 0;

    // Receive: buffers the device filled, oldest first, and how far the
    // oldest one has been read (by read(), or the console for port 0 as
    // the shell). Each is the device's again only once read to its end.
    std::uint8_t* rx_mem = nullptr;
    std::uint16_t filled[kBuffers] = {};
    std::uint32_t filled_len[kBuffers] = {};
    unsigned filled_head = 0, filled_count = 0;
    std::uint32_t head_offset = 0;
    BinarySemaphore rx_ready;

    // Transmit: free buffers (a stack) and their count.
    std::uint8_t* tx_mem = nullptr;
    std::uint16_t tx_free[kBuffers] = {};
    unsigned tx_free_count = 0;
    Semaphore tx_slots{0};

    Mutex reader, writer;
};

class Console {
public:
    explicit Console(virtio::Transport& t) : dev_(t) {}

    bool start(const virtio::Found& found);

    // Thread API (console_port.hpp).
    long read(Port& p, void* buf, std::size_t n, Timeout timeout);
    long write(Port& p, const void* buf, std::size_t n, Timeout timeout);
    void open(Port& p);
    void close(Port& p);

    Port* port(unsigned id) { return id < nports_ ? &ports_[id] : nullptr; }
    bool present(Port& p) {
        SpinLockGuard guard(lock_);
        return p.present;
    }
    bool named(Port& p, const char* name) {
        SpinLockGuard guard(lock_);
        return p.present && p.name[0] && !strcmp(p.name, name);
    }
    void info(unsigned id, unsigned device, PortInfo& out) {
        SpinLockGuard guard(lock_);
        const Port& p = ports_[id];
        out = {device,      p.id,   p.name, p.present,  p.console, p.host_open,
               p.users > 0, p.cols, p.rows, p.rx_bytes, p.tx_bytes};
    }
    unsigned port_count() const { return nports_; }
    bool multiport() const { return multiport_; }
    unsigned index() const { return index_; }
    const char* name() { return dev_.name(); }

private:
    static void on_queue(void* ctx, Virtqueue& q);
    static void on_config(void* ctx);
    static void on_needs_reset(void* ctx) {
        static_cast<Console*>(ctx)->fail("the device needs a reset (DEVICE_NEEDS_RESET)");
    }

    // The outcome of queueing a control message (send_control_locked).
    enum class Sent { ok, full, not_sent };

    void receive(Port& p, Virtqueue& q);
    const std::uint8_t* unread(Port& p, std::uint32_t& n);
    bool consumed(Port& p, std::uint32_t k);
    bool feed_console(Port& p);
    static void resume_console(void* ctx);
    void reap_tx(Port& p, Virtqueue& q);
    void receive_control(Virtqueue& q);
    void handle_control(const std::uint8_t* msg, std::uint32_t len);
    void reap_control_tx();
    Sent send_control_locked(std::uint32_t id, std::uint16_t event, std::uint16_t value);
    void send_control(std::uint32_t id, std::uint16_t event, std::uint16_t value);
    void report_sent(Sent s, std::uint32_t id, std::uint16_t event);
    void post_rx(Port& p, unsigned buffer);
    void post_control_rx(unsigned buffer);
    void read_size();
    void stop(const char* why);
    void after_fail();
    void fail(const char* why);
    void attach_system_console(Port& p);

    virtio::Device dev_;
    // lock_: every queue, the ports' buffers, counts and flags, the control
    // slots, broken_ and why_, between threads and the interrupt handlers
    // on any CPUs. Level 1 of docs/smp.md's lock order (a driver lock): only
    // the virtqueues' calls, a device reset, the kernel console's input
    // (console::rx_push_from_isr, a leaf) and gives from the interrupt
    // handler inside it. The console calls resume_console() with its own
    // lock dropped.
    SpinLock lock_;
    const char* why_ = nullptr;  // the device stopped: to be reported (after_fail())
    bool control_busy_ = false;  // a context is handling control messages
    // 5.3.2: port 0's two queues, the control pair, two per further port.
    virtio::Device::QueueSlot queue_table_[2 + 2 * kMaxPorts];
    unsigned index_ = 0;
    bool multiport_ = false;
    unsigned nports_ = 1;
    std::uint32_t device_ports_ = 1;  // max_nr_ports as the device said
    unsigned buffers_ = 0;            // per port and direction
    volatile bool broken_ = false;
    Port ports_[kMaxPorts];
    std::uint8_t* control_rx_ = nullptr;
    unsigned control_rx_count_ = 0;
    Control* control_tx_ = nullptr;
    std::uint16_t control_free_[kCtrlTxSlots] = {};
    unsigned control_free_count_ = 0;
};

namespace {

bool printable(char c) { return c >= 0x20 && c < 0x7f; }

}  // namespace

// ---- interrupt side -------------------------------------------------------------

void Console::on_queue(void* ctx, Virtqueue& q) {
    auto* self = static_cast<Console*>(ctx);
    const std::uint16_t i = q.index();
    if (i == kControlRx && self->multiport_) return self->receive_control(q);
    {
        SpinLockGuard guard(self->lock_);
        if (self->broken_) return;
        if (i == kControlTx && self->multiport_) {
            self->reap_control_tx();
        } else {
            const unsigned port = i < 2 ? 0 : (i - 2) / 2;
            if (port >= self->nports_) return;
            if (i % 2 == 0) self->receive(self->ports_[port], q);
            else self->reap_tx(self->ports_[port], q);
        }
    }
    self->after_fail();
}

void Console::on_config(void* ctx) { static_cast<Console*>(ctx)->read_size(); }

// lock_ held: stops the device (no more DMA into our buffers); the first
// reason waits for after_fail().
void Console::stop(const char* why) {
    if (!broken_) why_ = why;
    broken_ = true;
    dev_.reset();
}

// lock_ dropped: once the device stopped, says why (once) and wakes every
// waiter (they see broken_).
void Console::after_fail() {
    if (!broken_) return;
    const char* why;
    {
        SpinLockGuard guard(lock_);
        why = why_;
        why_ = nullptr;
    }
    if (!why) return;
    printk("%s: %s; device stopped\n", dev_.name(), why);
    for (unsigned i = 0; i < nports_; ++i) {
        ports_[i].rx_ready.give_from_isr();
        ports_[i].tx_slots.give_from_isr();
    }
}

void Console::fail(const char* why) {
    {
        SpinLockGuard guard(lock_);
        stop(why);
    }
    after_fail();
}

void Console::post_rx(Port& p, unsigned buffer) {
    const InSegment in[] = {{p.rx_mem + std::size_t{buffer} * kBufSize, kBufSize}};
    if (!dev_.queue(rx_queue(p.id)).add_buffer({}, in, token_of(buffer)).ok())
        stop("cannot return a receive buffer");
}

// lock_ held: appends what the device filled to the port's filled
// buffers; the console takes port 0's as the shell's input at once, a
// reader is woken for any other port's.
void Console::receive(Port& p, Virtqueue& q) {
    bool arrived = false, reposted = false;
    for (;;) {
        Result<Completion> c = q.pop_used();
        if (c.error == Error::empty) break;
        if (!c.ok()) return stop("the device broke the receive ring");  // logged by the queue
        const unsigned b = index_of(c.value.token);
        // The queue checked the length against the buffer it was given;
        // the driver's own bounds again, as they index its memory.
        if (b >= buffers_ || p.filled_count == buffers_)
            return stop("the device returned a receive buffer it does not have");
        if (c.value.len > kBufSize) return stop("the device wrote past a receive buffer");
        if (c.value.len == 0) {
            post_rx(p, b);
            reposted = true;
            continue;
        }
        p.filled[(p.filled_head + p.filled_count) % kBuffers] = static_cast<std::uint16_t>(b);
        p.filled_len[(p.filled_head + p.filled_count) % kBuffers] = c.value.len;
        ++p.filled_count;
        p.rx_bytes += c.value.len;
        arrived = true;
    }
    if (p.system_console && feed_console(p)) reposted = true;
    if (reposted && !broken_) q.kick();
    if (arrived && !p.system_console) p.rx_ready.give_from_isr();
}

// lock_ held: the oldest filled buffer's bytes not yet taken (n of them),
// or nullptr when there is none.
const std::uint8_t* Console::unread(Port& p, std::uint32_t& n) {
    if (broken_ || p.filled_count == 0) return nullptr;
    n = p.filled_len[p.filled_head] - p.head_offset;
    return p.rx_mem + std::size_t{p.filled[p.filled_head]} * kBufSize + p.head_offset;
}

// lock_ held: k bytes of unread() taken. A buffer taken to its end goes
// back to the device; true when one did (the caller kicks).
bool Console::consumed(Port& p, std::uint32_t k) {
    p.head_offset += k;
    if (p.head_offset < p.filled_len[p.filled_head]) return false;
    const unsigned b = p.filled[p.filled_head];
    p.filled_head = (p.filled_head + 1) % kBuffers;
    --p.filled_count;
    p.head_offset = 0;
    post_rx(p, b);
    return true;
}

void Console::reap_tx(Port& p, Virtqueue& q) {
    for (;;) {
        Result<Completion> c = q.pop_used();
        if (c.error == Error::empty) return;
        if (!c.ok()) return stop("the device broke the transmit ring");
        p.tx_free[p.tx_free_count++] = static_cast<std::uint16_t>(index_of(c.value.token));
        p.tx_slots.give_from_isr();
    }
}

void Console::post_control_rx(unsigned buffer) {
    const InSegment in[] = {{control_rx_ + std::size_t{buffer} * kCtrlBufSize, kCtrlBufSize}};
    if (!dev_.queue(kControlRx).add_buffer({}, in, token_of(buffer)).ok())
        stop("cannot return a control buffer");
}

// Each message is copied out and its buffer returned under lock_, then
// handled with the lock dropped (handling prints). One context at a time
// (control_busy_), so messages are handled in the device's order.
void Console::receive_control(Virtqueue& q) {
    {
        SpinLockGuard guard(lock_);
        if (control_busy_ || broken_) return;
        control_busy_ = true;
    }
    std::uint8_t msg[kCtrlBufSize];
    for (;;) {
        std::uint32_t len = 0;
        {
            SpinLockGuard guard(lock_);
            Result<Completion> c = broken_ ? Result<Completion>{Error::empty, {}} : q.pop_used();
            if (c.error == Error::empty) {
                control_busy_ = false;
                break;
            }
            if (!c.ok()) {
                stop("the device broke the control ring");
                control_busy_ = false;
                break;
            }
            const unsigned b = index_of(c.value.token);
            len = c.value.len < kCtrlBufSize ? c.value.len : kCtrlBufSize;
            memcpy(msg, control_rx_ + std::size_t{b} * kCtrlBufSize, len);
            post_control_rx(b);
            if (!broken_) q.kick();
        }
        handle_control(msg, len);
    }
    after_fail();
}

void Console::reap_control_tx() {
    Virtqueue& q = dev_.queue(kControlTx);
    for (;;) {
        Result<Completion> c = q.pop_used();
        if (c.error == Error::empty) return;
        if (!c.ok()) return stop("the device broke the control transmit ring");
        control_free_[control_free_count_++] = static_cast<std::uint16_t>(index_of(c.value.token));
    }
}

// lock_ held; the caller reports the outcome (report_sent()) once it is dropped.
Console::Sent Console::send_control_locked(std::uint32_t id, std::uint16_t event,
                                           std::uint16_t value) {
    if (broken_ || !multiport_) return Sent::not_sent;
    reap_control_tx();
    if (control_free_count_ == 0) return Sent::full;
    const unsigned slot = control_free_[--control_free_count_];
    control_tx_[slot] = {id, event, value};
    const OutSegment out[] = {{&control_tx_[slot], sizeof(Control)}};
    if (!dev_.queue(kControlTx).add_buffer(out, {}, token_of(slot)).ok()) {
        control_free_[control_free_count_++] = static_cast<std::uint16_t>(slot);
        return Sent::not_sent;
    }
    dev_.queue(kControlTx).kick();
    return Sent::ok;
}

void Console::report_sent(Sent s, std::uint32_t id, std::uint16_t event) {
    if (s == Sent::full)
        printk("%s: control queue full, event %u for port %u dropped\n", dev_.name(), event, id);
    after_fail();  // reap_control_tx() may have found the ring broken
}

// Any context, lock_ not held.
void Console::send_control(std::uint32_t id, std::uint16_t event, std::uint16_t value) {
    Sent s;
    {
        SpinLockGuard guard(lock_);
        s = send_control_locked(id, event, value);
    }
    report_sent(s, id, event);
}

// lock_ not held: takes it for each change of the port's state, prints
// with it dropped.
void Console::handle_control(const std::uint8_t* msg, std::uint32_t len) {
    if (len < sizeof(Control)) {
        printk("%s: control message of %u bytes ignored (at least %zu)\n", dev_.name(), len,
               sizeof(Control));
        return;
    }
    Control c;
    memcpy(&c, msg, sizeof(c));
    if (c.id >= nports_) {
        printk("%s: control event %u for port %u ignored: ports 0..%u are managed\n", dev_.name(),
               c.event, c.id, nports_ - 1);
        // Refuse a port the device really has, so it does not wait for it.
        if (c.event == VIRTIO_CONSOLE_PORT_ADD && c.id < device_ports_)
            send_control(c.id, VIRTIO_CONSOLE_PORT_READY, 0);
        return;
    }
    Port& p = ports_[c.id];
    bool present;
    {
        SpinLockGuard guard(lock_);
        present = p.present;
    }
    if (c.event != VIRTIO_CONSOLE_PORT_ADD && !present) {
        printk("%s: control event %u for port %u, which was never added; ignored\n", dev_.name(),
               c.event, c.id);
        return;
    }
    switch (c.event) {
    case VIRTIO_CONSOLE_PORT_ADD: {
        if (present) {
            printk("%s: port %u added twice; ignored\n", dev_.name(), c.id);
            return;
        }
        Sent ready, reopen = Sent::ok;
        {
            SpinLockGuard guard(lock_);
            p.present = true;
            p.host_open = false;
            ready = send_control_locked(c.id, VIRTIO_CONSOLE_PORT_READY, 1);
            if (p.users > 0)  // re-added while open
                reopen = send_control_locked(c.id, VIRTIO_CONSOLE_PORT_OPEN, 1);
        }
        report_sent(ready, c.id, VIRTIO_CONSOLE_PORT_READY);
        report_sent(reopen, c.id, VIRTIO_CONSOLE_PORT_OPEN);
        attach_system_console(p);
        return;
    }
    case VIRTIO_CONSOLE_PORT_REMOVE: {
        char name[kNameMax + 1];
        {
            SpinLockGuard guard(lock_);
            memcpy(name, p.name, sizeof(name));
            p.present = false;
            p.host_open = false;
            p.console = false;
            p.name[0] = '\0';
        }
        printk("%s: port %u (%s) removed\n", dev_.name(), c.id, name);
        p.rx_ready.give_from_isr();  // readers see the removal
        return;
    }
    case VIRTIO_CONSOLE_CONSOLE_PORT: {
        SpinLockGuard guard(lock_);
        p.console = true;
        return;
    }
    case VIRTIO_CONSOLE_RESIZE: {
        // 5.3.6.2: followed by struct virtio_console_resize { le16 cols; le16 rows; }.
        if (len < sizeof(Control) + 4) {
            printk("%s: short resize message for port %u ignored\n", dev_.name(), c.id);
            return;
        }
        SpinLockGuard guard(lock_);
        memcpy(&p.cols, msg + sizeof(Control), 2);
        memcpy(&p.rows, msg + sizeof(Control) + 2, 2);
        return;
    }
    case VIRTIO_CONSOLE_PORT_OPEN: {
        SpinLockGuard guard(lock_);
        p.host_open = c.value != 0;
        return;
    }
    case VIRTIO_CONSOLE_PORT_NAME: {
        // The name fills the rest of the used length; QEMU adds a NUL, a
        // device need not (or truncates to our buffer). Stop at either end.
        const std::uint32_t avail = len - static_cast<std::uint32_t>(sizeof(Control));
        std::size_t n = 0;
        while (n < avail && msg[sizeof(Control) + n] != 0) ++n;
        if (n == avail)
            printk("%s: port %u name without terminator (%u bytes)\n", dev_.name(), c.id, avail);
        if (n > kNameMax) {
            printk("%s: port %u name of %zu bytes cut to %zu\n", dev_.name(), c.id, n, kNameMax);
            n = kNameMax;
        }
        char name[kNameMax + 1];
        for (std::size_t k = 0; k < n; ++k) {
            const char ch = static_cast<char>(msg[sizeof(Control) + k]);
            name[k] = printable(ch) && ch != ' ' ? ch : '?';
        }
        name[n] = '\0';
        {
            SpinLockGuard guard(lock_);
            memcpy(p.name, name, n + 1);
        }
        printk("%s: port %u name %s\n", dev_.name(), c.id, name);
        return;
    }
    default:
        printk("%s: unknown control event %u for port %u ignored\n", dev_.name(), c.event, c.id);
        return;
    }
}

void Console::read_size() {
    if (!dev_.has_feature(VIRTIO_CONSOLE_F_SIZE)) return;
    std::uint16_t cols = 0, rows = 0;
    if (dev_.read_config_consistent([&](virtio::Transport& t) {
            cols = t.config_read16(kCfgCols);
            rows = t.config_read16(kCfgRows);
        }) != Error::ok)
        return;
    SpinLockGuard guard(lock_);
    ports_[0].cols = cols;
    ports_[0].rows = rows;
}

// ---- the kernel console on port 0 (VIRTIO_CONSOLE_SHELL) -----------------------------

#if defined(CONFIG_VIRTIO_CONSOLE_SHELL)
namespace {

// Console output waits here (interrupts masked, so no blocking) until the
// mirror thread hands it to the port; bytes that do not fit are dropped
// (the UART still has them).
constexpr std::size_t kMirrorSize = 4096;
// mirror_lock: the ring, between printk on any CPU (the sink runs inside the
// console output lock) and the mirror thread. A leaf below that lock:
// nothing is taken inside it.
SpinLock mirror_lock;
char mirror_ring[kMirrorSize];
std::size_t mirror_head = 0, mirror_count = 0;
Semaphore mirror_ready(0, 1);
Port* mirror_port = nullptr;  // set once, before the sink is installed

void mirror_put(char c) {
    if (mirror_count == kMirrorSize) return;
    mirror_ring[(mirror_head + mirror_count++) % kMirrorSize] = c;
}

void mirror_sink(void*, const char* s, std::size_t n) {
    {
        SpinLockGuard guard(mirror_lock);
        for (std::size_t i = 0; i < n; ++i) {
            if (s[i] == '\n') mirror_put('\r');
            mirror_put(s[i]);
        }
    }
    if (n) mirror_ready.give_from_isr();
}

void mirror_main(void*) {
    char chunk[256];
    for (;;) {
        mirror_ready.take();
        for (;;) {
            std::size_t n = 0;
            {
                SpinLockGuard guard(mirror_lock);
                while (n < sizeof(chunk) && mirror_count > 0) {
                    chunk[n++] = mirror_ring[mirror_head];
                    mirror_head = (mirror_head + 1) % kMirrorSize;
                    --mirror_count;
                }
            }
            if (n == 0) break;
            // Nobody connected on the host side: the bytes go nowhere.
            write(mirror_port, chunk, n, Timeout::ticks(clock::ms_to_ticks(1000)));
        }
    }
}

}  // namespace
#endif

void Console::attach_system_console(Port& p) {
#if defined(CONFIG_VIRTIO_CONSOLE_SHELL)
    if (index_ != 0 || p.id != 0) return;
    {
        SpinLockGuard guard(lock_);
        if (p.system_console) return;
    }
    // The console's input first: from the moment system_console is set,
    // the receive path pushes port 0's bytes there.
    console::set_rx_source(&Console::resume_console, this);
    Sent s;
    {
        SpinLockGuard guard(lock_);
        p.system_console = true;
        ++p.users;
        s = send_control_locked(0, VIRTIO_CONSOLE_PORT_OPEN, 1);
        if (feed_console(p) && !broken_) dev_.queue(rx_queue(0)).kick();  // bytes from before
    }
    report_sent(s, 0, VIRTIO_CONSOLE_PORT_OPEN);
    mirror_port = &p;
    console::set_mirror(&mirror_sink, nullptr);
#else
    (void)p;
#endif
}

// lock_ held: hands port 0's unread bytes to the kernel console (the
// shell's input) until its ring is full; what it refuses stays in the
// buffers, which stay the driver's, until resume_console(). True when a
// buffer went back to the device (the caller kicks).
bool Console::feed_console(Port& p) {
    bool reposted = false;
    std::uint32_t n = 0;
    while (const std::uint8_t* data = unread(p, n)) {
        const std::size_t took = console::rx_push_from_isr(reinterpret_cast<const char*>(data), n);
        if (took > 0 && consumed(p, static_cast<std::uint32_t>(took))) reposted = true;
        if (took < n) break;
    }
    return reposted;
}

// The kernel console's resume (console::set_rx_source): its ring has room
// again. A reader's context, no lock held.
void Console::resume_console(void* ctx) {
    auto* self = static_cast<Console*>(ctx);
    {
        SpinLockGuard guard(self->lock_);
        if (self->feed_console(self->ports_[0]) && !self->broken_)
            self->dev_.queue(rx_queue(0)).kick();
    }
    self->after_fail();  // post_rx() may have stopped the device
}

// ---- thread side ----------------------------------------------------------------

// The message goes out under lock_, so an open and a close on two CPUs
// reach the device in the order of the count.
void Console::open(Port& p) {
    Sent s = Sent::ok;
    {
        SpinLockGuard guard(lock_);
        if (p.users++ == 0) s = send_control_locked(p.id, VIRTIO_CONSOLE_PORT_OPEN, 1);
    }
    report_sent(s, p.id, VIRTIO_CONSOLE_PORT_OPEN);
}

void Console::close(Port& p) {
    Sent s = Sent::ok;
    {
        SpinLockGuard guard(lock_);
        if (p.users == 0) return;
        if (--p.users == 0) s = send_control_locked(p.id, VIRTIO_CONSOLE_PORT_OPEN, 0);
    }
    report_sent(s, p.id, VIRTIO_CONSOLE_PORT_OPEN);
}

long Console::read(Port& p, void* buf, std::size_t n, Timeout timeout) {
    if (n == 0) return static_cast<long>(Status::invalid);
    auto* out = static_cast<std::uint8_t*>(buf);
    for (;;) {
        std::size_t done = 0;
        bool reposted = false, shell = false;
        while (done < n) {
            const std::uint8_t* data;
            std::uint32_t avail = 0;
            {
                SpinLockGuard guard(lock_);
                shell = p.system_console;
                data = shell ? nullptr : unread(p, avail);
            }
            if (!data) break;
            // The buffer is ours until consumed: copy with interrupts on.
            // Only this reader (p.reader) takes from this port.
            const std::uint32_t k = avail < n - done ? avail : static_cast<std::uint32_t>(n - done);
            memcpy(out + done, data, k);
            SpinLockGuard guard(lock_);
            if ((shell = p.system_console)) break;  // became the shell's: the console took them
            done += k;
            if (broken_) break;
            if (consumed(p, k)) reposted = true;
        }
        if (reposted) {
            SpinLockGuard guard(lock_);
            if (!broken_) dev_.queue(rx_queue(p.id)).kick();
        }
        after_fail();  // post_rx() may have stopped the device
        if (done > 0) return static_cast<long>(done);
        if (shell) return static_cast<long>(Status::busy);
        if (broken_) return static_cast<long>(Status::io_error);
        if (multiport_ && !p.present) return static_cast<long>(Status::deleted);
        if (p.rx_ready.take(timeout) != Status::ok) return static_cast<long>(Status::timeout);
    }
}

long Console::write(Port& p, const void* buf, std::size_t n, Timeout timeout) {
    if (n == 0) return static_cast<long>(Status::invalid);
    const auto* in = static_cast<const std::uint8_t*>(buf);
    std::size_t done = 0;
    while (done < n) {
        if (broken_) break;
        if (multiport_ && (!p.present || !p.host_open)) {
            if (done == 0) return static_cast<long>(Status::busy);
            break;
        }
        if (p.tx_slots.take(timeout) != Status::ok) break;
        unsigned b;
        {
            SpinLockGuard guard(lock_);
            if (broken_ || p.tx_free_count == 0) break;  // woken by after_fail()
            b = p.tx_free[--p.tx_free_count];
        }
        const std::uint32_t k =
            n - done < kBufSize ? static_cast<std::uint32_t>(n - done) : kBufSize;
        std::uint8_t* data = p.tx_mem + std::size_t{b} * kBufSize;
        memcpy(data, in + done, k);
        const OutSegment out[] = {{data, k}};
        SpinLockGuard guard(lock_);
        if (broken_) break;
        Virtqueue& q = dev_.queue(rx_queue(p.id) + 1u);
        if (!q.add_buffer(out, {}, token_of(b)).ok()) {
            stop("cannot queue a transmit buffer");
            break;
        }
        q.kick();
        p.tx_bytes += k;
        done += k;
    }
    after_fail();
    if (done > 0) return static_cast<long>(done);
    return static_cast<long>(broken_ ? Status::io_error : Status::timeout);
}

// ---- probe ------------------------------------------------------------------------

bool Console::start(const virtio::Found& found) {
    index_ = found.index;
    if (dev_.negotiate(virtio::feature_bit(VIRTIO_CONSOLE_F_SIZE) |
                       virtio::feature_bit(VIRTIO_CONSOLE_F_MULTIPORT)) != Error::ok)
        return false;
    multiport_ = dev_.has_feature(VIRTIO_CONSOLE_F_MULTIPORT);
    if (multiport_) {
        std::uint32_t max = 0;
        dev_.read_config_consistent(
            [&](virtio::Transport& t) { max = t.config_read32(kCfgMaxPorts); });
        if (max == 0 || max > kMaxPlausiblePorts) {
            printk("%s: impossible max_nr_ports %u, device refused\n", dev_.name(), max);
            dev_.fail();
            return false;
        }
        device_ports_ = max;
        nports_ = max < kMaxPorts ? max : kMaxPorts;
        if (max > kMaxPorts)
            printk(
                "%s: device has %u port slots, ports 0..%u are managed "
                "(CONFIG_VIRTIO_CONSOLE_MAX_PORTS)\n",
                dev_.name(), max, kMaxPorts - 1);
    }

    virtio::Device::QueueSpec specs[2 + 2 * kMaxPorts];
    dev_.use_queue_table(queue_table_);
    const std::size_t nqueues = multiport_ ? 2 + 2 * std::size_t{nports_} : 2;
    for (std::size_t i = 0; i < nqueues; ++i)
        specs[i] = {virtio::config::console_queue_size, &Console::on_queue, this};
    if (dev_.setup_queues(std::span<const virtio::Device::QueueSpec>(specs, nqueues)) !=
        Error::ok) {
        dev_.fail();
        return false;
    }
    dev_.set_config_callback(&Console::on_config, this);
    // Ports, their buffers and the control protocol would all start again:
    // a device that needs a reset is stopped instead (readers and writers
    // get io_error).
    dev_.set_needs_reset_callback(&Console::on_needs_reset, this);

    // Buffers per port and direction: no more than a queue holds.
    buffers_ = kBuffers;
    for (std::size_t i = 0; i < nqueues; ++i)
        if (dev_.queue(i).size() < buffers_) buffers_ = dev_.queue(i).size();
    const std::size_t port_bytes = std::size_t{2} * buffers_ * kBufSize;
    auto* mem = static_cast<std::uint8_t*>(virtio::hal::dma_alloc(port_bytes * nports_, 64));
    if (multiport_) {
        control_rx_count_ = dev_.queue(kControlRx).size();
        control_rx_ = static_cast<std::uint8_t*>(
            virtio::hal::dma_alloc(std::size_t{kCtrlBufSize} * control_rx_count_, 64));
        control_tx_ =
            static_cast<Control*>(virtio::hal::dma_alloc(sizeof(Control) * kCtrlTxSlots, 64));
    }
    if (!mem || (multiport_ && (!control_rx_ || !control_tx_))) {
        printk("%s: out of memory for %u ports\n", dev_.name(), nports_);
        virtio::hal::dma_free(mem);
        virtio::hal::dma_free(control_rx_);
        virtio::hal::dma_free(control_tx_);
        dev_.fail();
        dev_.shutdown();
        return false;
    }
    for (unsigned i = 0; i < nports_; ++i) {
        Port& p = ports_[i];
        p.owner = this;
        p.id = i;
        p.rx_mem = mem + port_bytes * i;
        p.tx_mem = p.rx_mem + std::size_t{buffers_} * kBufSize;
        for (unsigned b = 0; b < buffers_; ++b) {
            post_rx(p, b);
            p.tx_free[p.tx_free_count++] = static_cast<std::uint16_t>(b);
            p.tx_slots.give();
        }
    }
    if (multiport_) {
        for (unsigned b = 0; b < control_rx_count_; ++b) post_control_rx(b);
        for (unsigned s = 0; s < kCtrlTxSlots; ++s)
            control_free_[control_free_count_++] = static_cast<std::uint16_t>(s);
    } else {
        ports_[0].present = true;  // a single-port device has port 0 only, always there
        ports_[0].host_open = true;
    }
    read_size();
    dev_.driver_ok();
    for (unsigned i = 0; i < nports_; ++i) dev_.queue(rx_queue(i)).kick();
    if (multiport_) dev_.queue(kControlRx).kick();
    after_fail();  // a buffer the device did not take

    if (!dev_.attach_interrupts()) {
        printk("%s: no interrupt; device not used\n", dev_.name());
        dev_.fail();
        dev_.shutdown();
        virtio::hal::dma_free(mem);
        virtio::hal::dma_free(control_rx_);
        virtio::hal::dma_free(control_tx_);
        return false;
    }
    if (index_ < kMaxDevices) devices[index_] = this;
    if (index_ + 1 > devices_found) devices_found = index_ + 1;

    if (multiport_) {
        // 5.3.6.1: the device announces its ports once we are ready. QEMU
        // answers within the notification; take those answers now so the
        // boot line knows the ports (later ones arrive by interrupt).
        send_control(0xffffffffu, VIRTIO_CONSOLE_DEVICE_READY, 1);
        for (int round = 0; round < 64; ++round) {
            {
                SpinLockGuard guard(lock_);
                if (!dev_.queue(kControlRx).has_used()) break;
            }
            receive_control(dev_.queue(kControlRx));
        }
    } else {
        attach_system_console(ports_[0]);
    }

    unsigned present = 0;
    for (unsigned i = 0; i < nports_; ++i) present += ports_[i].present ? 1 : 0;
    char extra[16];
    snprintf(extra, sizeof extra, " ports %u", present);
    virtio::announce(found, dev_, kFeatureNames, extra);
    return true;
}

// ---- public API -----------------------------------------------------------------------

namespace {

bool is_number(const char* s) {
    if (!*s) return false;
    for (; *s; ++s)
        if (*s < '0' || *s > '9') return false;
    return true;
}

Port* find(const char* name) {
    if (is_number(name)) {
        unsigned id = 0;
        for (const char* s = name; *s && id < 1000; ++s)
            id = id * 10 + static_cast<unsigned>(*s - '0');
        Port* p = devices_found > 0 && devices[0] ? devices[0]->port(id) : nullptr;
        return p && devices[0]->present(*p) ? p : nullptr;
    }
    for (unsigned d = 0; d < devices_found && d < kMaxDevices; ++d) {
        if (!devices[d]) continue;
        for (unsigned i = 0; i < devices[d]->port_count(); ++i) {
            Port* p = devices[d]->port(i);
            if (devices[d]->named(*p, name)) return p;
        }
    }
    return nullptr;
}

}  // namespace

Port* open(const char* name, Timeout timeout) {
    if (!name) return nullptr;
    // Ports appear through control messages handled in the interrupt
    // handler; a waiting opener looks again every few milliseconds.
    const Tick period = clock::ms_to_ticks(10);
    Tick waited = 0;
    for (;;) {
        if (Port* p = find(name)) {
            p->owner->open(*p);
            return p;
        }
        if (!timeout.is_forever() && waited >= timeout.count()) return nullptr;
        const Tick nap = timeout.is_forever() || timeout.count() - waited > period
                             ? period
                             : timeout.count() - waited;
        Thread::sleep(nap);
        waited += nap;
    }
}

void close(Port* p) {
    if (p) p->owner->close(*p);
}

// One reader and one writer at a time. The one inside may wait without
// timeout (a service whose host reads nothing), so the timeout covers the
// wait for the port too: `vcon write` must not hang behind it.
long read(Port* p, void* buf, std::size_t n, Timeout timeout) {
    if (!p || !buf) return static_cast<long>(Status::invalid);
    if (p->reader.lock(timeout) != Status::ok) return static_cast<long>(Status::timeout);
    const long r = p->owner->read(*p, buf, n, timeout);
    p->reader.unlock();
    return r;
}

long write(Port* p, const void* buf, std::size_t n, Timeout timeout) {
    if (!p || !buf) return static_cast<long>(Status::invalid);
    if (p->writer.lock(timeout) != Status::ok) return static_cast<long>(Status::timeout);
    const long r = p->owner->write(*p, buf, n, timeout);
    p->writer.unlock();
    return r;
}

unsigned device_count() { return devices_found; }

bool port_info(unsigned index, PortInfo& info) {
    for (unsigned d = 0; d < devices_found && d < kMaxDevices; ++d) {
        if (!devices[d]) continue;
        if (index >= devices[d]->port_count()) {
            index -= devices[d]->port_count();
            continue;
        }
        devices[d]->info(index, d, info);
        return true;
    }
    return false;
}

namespace {

bool probe(const virtio::Found& found) {
    if (!virtio::start_in_dma_memory<Console>(found)) return false;
#if defined(CONFIG_VIRTIO_CONSOLE_SHELL)
    if (found.index == 0 &&
        !Thread::create({.name = "vcon-shell", .priority = CONFIG_SHELL_PRIORITY}, mirror_main,
                        nullptr, 4096))
        printk("virtio-console: cannot start the console mirror thread\n");
#endif
    return true;
}

}  // namespace

}  // namespace rtos::serial

namespace virtio {
VIRTIO_DRIVER(console, VIRTIO_ID_CONSOLE, rtos::serial::probe);
}  // namespace virtio
