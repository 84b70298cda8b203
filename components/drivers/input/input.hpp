// The device-independent input interface: keyboards, mice and tablets as
// Linux's evdev sees them (event type, code, value with the numbers of
// linux/input-event-codes.h), whichever driver found them (virtio-input now).
//
//   rtos::input::Subscriber sub;              // subscribed while it lives
//   rtos::input::Event e;
//   while (sub.read(e, rtos::Timeout::ticks(100)) == rtos::Status::ok)
//       printk("%s %u %u %d\n", rtos::input::device(e.device)->name(), e.type, e.code, e.value);
//
// Every subscriber gets every event of every device, in the order the
// devices delivered them (EV_SYN / SYN_REPORT closes each packet). A
// subscriber that falls behind loses the events its buffer cannot hold
// (CONFIG_INPUT_EVENT_BUFFER); they are counted in dropped(), and the next
// event it reads after a loss is EV_SYN / SYN_DROPPED, as evdev does.
#pragma once

#include <cstddef>
#include <cstdint>

#include <rtos/config.hpp>
#include <rtos/list.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/types.hpp>

namespace rtos::input {

// ---- linux/input-event-codes.h -------------------------------------------------
inline constexpr std::uint16_t EV_SYN = 0x00;
inline constexpr std::uint16_t EV_KEY = 0x01;
inline constexpr std::uint16_t EV_REL = 0x02;
inline constexpr std::uint16_t EV_ABS = 0x03;
inline constexpr std::uint16_t EV_MSC = 0x04;
inline constexpr std::uint16_t EV_SW = 0x05;
inline constexpr std::uint16_t EV_LED = 0x11;
inline constexpr std::uint16_t EV_SND = 0x12;
inline constexpr std::uint16_t EV_REP = 0x14;
inline constexpr std::uint16_t EV_FF = 0x15;
inline constexpr unsigned kEventTypes = 0x20;  ///< EV_CNT

inline constexpr std::uint16_t SYN_REPORT = 0;
inline constexpr std::uint16_t SYN_DROPPED = 3;
inline constexpr std::uint16_t REL_X = 0x00;
inline constexpr std::uint16_t REL_Y = 0x01;
inline constexpr std::uint16_t REL_WHEEL = 0x08;
inline constexpr std::uint16_t ABS_X = 0x00;
inline constexpr std::uint16_t ABS_Y = 0x01;
inline constexpr std::uint16_t KEY_ESC = 1;
inline constexpr std::uint16_t KEY_A = 30;
inline constexpr std::uint16_t KEY_ENTER = 28;
inline constexpr std::uint16_t BTN_LEFT = 0x110;
inline constexpr std::uint16_t BTN_RIGHT = 0x111;
inline constexpr std::uint16_t BTN_MIDDLE = 0x112;

/// Codes per type a device can announce: a 128-byte bitmap (VirtIO 1.2 5.8.5).
inline constexpr unsigned kMaxCodes = 1024;
/// Absolute axes (ABS_CNT).
inline constexpr unsigned kAbsAxes = 0x40;

struct Event {
    std::uint16_t device;  ///< index of device(): "input<N>"
    std::uint16_t type;
    std::uint16_t code;
    std::int32_t value;
};

struct AbsInfo {
    std::int32_t min, max, fuzz, flat, res;
};

/// One input device. A driver fills it in (set_*) before add_device().
class Device {
public:
    /// "input0", "input1", ... in the order devices were added.
    const char* name() const { return name_; }
    /// What the device calls itself ("QEMU Virtio Keyboard"); "" when it did not say.
    const char* product_name() const { return product_; }
    const char* serial() const { return serial_; }
    /// Where it is attached ("virtio-input@0x10008000").
    const char* location() const { return location_; }
    unsigned index() const { return index_; }

    struct Ids {
        std::uint16_t bustype, vendor, product, version;
    };
    const Ids& ids() const { return ids_; }
    /// Bit n set: the device reports events of type n.
    std::uint32_t types() const { return types_; }
    /// Bit n set: input property n (INPUT_PROP_POINTER 0, INPUT_PROP_DIRECT 1, ...).
    std::uint32_t props() const { return props_; }
    /// The device may report `code` of `type` (false beyond what is stored:
    /// every code of EV_KEY, the first 64 of the other types).
    bool has_code(std::uint16_t type, std::uint16_t code) const;
    /// Range of absolute axis `code`, nullptr when the device gave none.
    const AbsInfo* abs(std::uint16_t code) const;

    std::uint64_t events() const { return events_; }
    /// Events the driver dropped as malformed (a subscriber's own losses
    /// are Subscriber::dropped()).
    std::uint64_t errors() const { return errors_; }
    void count_error() { ++errors_; }

    // Filled in by the driver.
    void set_product_name(const char* s, std::size_t n);
    void set_serial(const char* s, std::size_t n);
    void set_location(const char* s);
    void set_ids(const Ids& ids) { ids_ = ids; }
    /// Property bitmap of `bytes` bytes; properties past 31 are not kept.
    void set_props(const std::uint8_t* bitmap, std::size_t bytes);
    /// The codes of `type` the device reports: `bitmap` of `bytes` bytes
    /// (code n = bit n % 8 of byte n / 8). The type itself is set_type().
    void set_codes(std::uint16_t type, const std::uint8_t* bitmap, std::size_t bytes);
    void set_type(std::uint16_t type) {
        if (type < kEventTypes) types_ |= 1u << type;
    }
    void set_abs(std::uint16_t code, const AbsInfo& info);

    ListNode registry_node;

private:
    friend bool add_device(Device&);
    friend void report(Device&, std::uint16_t, std::uint16_t, std::int32_t);

    char name_[12] = "input?";
    char product_[64] = "";
    char serial_[64] = "";
    char location_[40] = "";
    unsigned index_ = 0;
    Ids ids_{};
    std::uint32_t types_ = 0;
    std::uint32_t props_ = 0;
    std::uint8_t key_bits_[kMaxCodes / 8] = {};
    std::uint64_t code_bits_[kEventTypes] = {};  // types other than EV_KEY: codes 0..63
    std::uint64_t abs_valid_ = 0;
    AbsInfo abs_[kAbsAxes] = {};
    std::uint64_t events_ = 0;
    std::uint64_t errors_ = 0;
};

/// Devices the registry holds.
inline constexpr unsigned kMaxDevices = 16;

/// Adds a device to the registry (probe time, thread context); it stays.
/// False when the registry is full (device_count() == kMaxDevices).
bool add_device(Device& dev);
unsigned device_count();
/// The device of index `index`, nullptr past the end.
Device* device(unsigned index);

/// A driver hands one event of `dev` to every subscriber (interrupt or
/// thread context; never blocks).
void report(Device& dev, std::uint16_t type, std::uint16_t code, std::int32_t value);

/// A reader of every device's events; subscribed from construction to
/// destruction. One thread reads it at a time.
class Subscriber {
public:
    static constexpr unsigned kCapacity = CONFIG_INPUT_EVENT_BUFFER;

    Subscriber();
    ~Subscriber();
    Subscriber(const Subscriber&) = delete;
    Subscriber& operator=(const Subscriber&) = delete;

    /// The oldest event not read yet, waiting up to `timeout`: ok, timeout.
    Status read(Event& event, Timeout timeout);
    /// Events lost because this subscriber's buffer was full.
    std::uint64_t dropped() const { return dropped_; }

    ListNode node;

private:
    friend void report(Device&, std::uint16_t, std::uint16_t, std::int32_t);
    void push(const Event& e);

    Event ring_[kCapacity];
    unsigned head_ = 0, count_ = 0;
    bool lost_ = false;  // a SYN_DROPPED is owed before the next event
    std::uint64_t dropped_ = 0;
    Semaphore ready_{0, kCapacity + 1};
};

}  // namespace rtos::input
