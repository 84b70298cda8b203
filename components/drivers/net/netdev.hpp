// The network device class: the link layer between Ethernet drivers
// (virtio-net, ...) and the network stack. A driver implements NetDevice and
// registers it; the stack's netif (components/net/stack.cpp) sends frames
// through it and is handed every received frame. Nothing here knows lwIP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <rtos/list.hpp>
#include <rtos/types.hpp>

namespace rtos::net {

constexpr std::size_t kMacLen = 6;
constexpr std::size_t kEthHeaderLen = 14;
constexpr std::uint16_t kMtu = 1500;
/// Largest frame without FCS: header + MTU (+4 for one VLAN tag).
constexpr std::size_t kMaxFrameLen = kEthHeaderLen + kMtu + 4;

/// Counters a driver keeps (read them with NetDevice::counters()).
struct Counters {
    std::uint64_t rx_packets, rx_bytes, rx_dropped, rx_errors;
    std::uint64_t tx_packets, tx_bytes, tx_dropped, tx_errors;
};

/// One piece of a frame to send (e.g. one lwIP pbuf).
struct Fragment {
    const void* data;
    std::size_t len;
};

class NetDevice {
public:
    /// A received frame, valid only during the call (copy it). Called from
    /// the driver's receive thread, never from an interrupt handler.
    using Receiver = void (*)(void* context, const std::uint8_t* frame, std::size_t len);
    /// Link went up or down. Called from the driver's receive thread.
    using LinkListener = void (*)(void* context, bool up);

    NetDevice(const NetDevice&) = delete;
    NetDevice& operator=(const NetDevice&) = delete;

    /// Sends one frame made of `fragments` (copied before return). Waits up
    /// to `timeout` for a free transmit buffer. ok; timeout (dropped and
    /// counted); invalid (empty or longer than kMaxFrameLen); io_error.
    virtual Status transmit(std::span<const Fragment> fragments, Timeout timeout) = 0;

    /// Installs the receiver and link listener (before frames may flow).
    void attach(Receiver receiver, LinkListener link, void* context) {
        link_listener_ = link;
        context_ = context;
        receiver_ = receiver;
    }

    const char* name() const { return name_; }
    const std::uint8_t* mac() const { return mac_; }
    bool link_up() const { return link_up_; }
    Counters counters() const;

    static void add(NetDevice* dev);
    static NetDevice* first();
    NetDevice* next() const;

    ListNode registry_node;

protected:
    NetDevice() = default;
    ~NetDevice() = default;

    /// For drivers: hands a frame to the stack (counts a drop when none is attached).
    void deliver(const std::uint8_t* frame, std::size_t len);
    void set_link(bool up);

    char name_[8] = "eth?";
    std::uint8_t mac_[kMacLen] = {};
    volatile bool link_up_ = true;
    Counters counters_ = {};  // the driver updates them under its own lock

private:
    Receiver receiver_ = nullptr;
    LinkListener link_listener_ = nullptr;
    void* context_ = nullptr;
};

}  // namespace rtos::net
