// The input device registry and event fan-out (input.hpp).
#include "drivers/input/input.hpp"

#include <rtos/format.hpp>
#include <rtos/spinlock.hpp>
#include <rtos/string.hpp>

namespace rtos::input {
namespace {

// input_lock: the device table, the subscriber list, every subscriber's
// ring and the devices' event counts, between the drivers' interrupt
// handlers (report()) and the readers, on any CPUs. Level 1 of
// docs/smp.md's lock order (input): only give_from_isr() inside it.
// device()/device_count() read the table without it: devices are only
// added, each slot before the count that covers it (release/acquire).
SpinLock input_lock;
Device* devices[kMaxDevices];
unsigned devices_added = 0;
List<Subscriber, &Subscriber::node> subscribers;

// Copies at most n bytes of a device-given string, stopping at a NUL;
// anything unprintable becomes '?', so a log line stays one line.
void copy_text(char* dst, std::size_t size, const char* src, std::size_t n) {
    std::size_t i = 0;
    for (; i < n && i + 1 < size && src[i] != '\0'; ++i) {
        const char c = src[i];
        dst[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
    }
    dst[i] = '\0';
}

}  // namespace

void Device::set_product_name(const char* s, std::size_t n) {
    copy_text(product_, sizeof(product_), s, n);
}
void Device::set_serial(const char* s, std::size_t n) { copy_text(serial_, sizeof(serial_), s, n); }
void Device::set_location(const char* s) {
    copy_text(location_, sizeof(location_), s, sizeof(location_));
}

void Device::set_codes(std::uint16_t type, const std::uint8_t* bitmap, std::size_t bytes) {
    if (type >= kEventTypes) return;
    for (std::size_t i = 0; i < bytes && i < kMaxCodes / 8; ++i) {
        if (type == EV_KEY) {
            key_bits_[i] = bitmap[i];
        } else if (i < 8) {
            code_bits_[type] |= std::uint64_t{bitmap[i]} << (8 * i);
        }
    }
}

void Device::set_props(const std::uint8_t* bitmap, std::size_t bytes) {
    props_ = 0;
    for (std::size_t i = 0; i < bytes && i < sizeof(props_); ++i)
        props_ |= std::uint32_t{bitmap[i]} << (8 * i);
}

bool Device::has_code(std::uint16_t type, std::uint16_t code) const {
    if (type >= kEventTypes) return false;
    if (type == EV_KEY) return code < kMaxCodes && (key_bits_[code / 8] >> (code % 8)) & 1;
    return code < 64 && (code_bits_[type] >> code) & 1;
}

void Device::set_abs(std::uint16_t code, const AbsInfo& info) {
    if (code >= kAbsAxes) return;
    abs_[code] = info;
    abs_valid_ |= std::uint64_t{1} << code;
}

const AbsInfo* Device::abs(std::uint16_t code) const {
    if (code >= kAbsAxes || !((abs_valid_ >> code) & 1)) return nullptr;
    return &abs_[code];
}

bool add_device(Device& dev) {
    SpinLockGuard guard(input_lock);
    if (devices_added == kMaxDevices) return false;
    dev.index_ = devices_added;
    snprintf(dev.name_, sizeof(dev.name_), "input%u", devices_added);
    devices[devices_added] = &dev;
    __atomic_store_n(&devices_added, devices_added + 1, __ATOMIC_RELEASE);
    return true;
}

unsigned device_count() { return __atomic_load_n(&devices_added, __ATOMIC_ACQUIRE); }

Device* device(unsigned index) { return index < device_count() ? devices[index] : nullptr; }

void report(Device& dev, std::uint16_t type, std::uint16_t code, std::int32_t value) {
    const Event e{static_cast<std::uint16_t>(dev.index_), type, code, value};
    SpinLockGuard guard(input_lock);
    ++dev.events_;
    subscribers.for_each([&](Subscriber* s) { s->push(e); });
}

Subscriber::Subscriber() {
    SpinLockGuard guard(input_lock);
    subscribers.push_back(this);
}

Subscriber::~Subscriber() {
    SpinLockGuard guard(input_lock);
    List<Subscriber, &Subscriber::node>::remove(this);
}

// input_lock held (report()). After a loss the reader first gets
// SYN_DROPPED, so it knows the packet it is in is incomplete.
void Subscriber::push(const Event& e) {
    const unsigned need = lost_ ? 2 : 1;
    if (count_ + need > kCapacity) {
        ++dropped_;
        lost_ = true;
        return;
    }
    if (lost_) {
        ring_[(head_ + count_++) % kCapacity] = Event{e.device, EV_SYN, SYN_DROPPED, 0};
        ready_.give_from_isr();
        lost_ = false;
    }
    ring_[(head_ + count_++) % kCapacity] = e;
    ready_.give_from_isr();
}

Status Subscriber::read(Event& event, Timeout timeout) {
    const Status s = ready_.take(timeout);
    if (s != Status::ok) return s;
    SpinLockGuard guard(input_lock);
    event = ring_[head_];
    head_ = (head_ + 1) % kCapacity;
    --count_;
    return Status::ok;
}

}  // namespace rtos::input
