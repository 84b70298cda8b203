// The network device class: the link layer between Ethernet drivers
// (virtio-net, ...) and the network stack. A driver implements NetDevice and
// registers it; the stack's netif (components/net/stack.cpp) sends frames
// through it and is handed every received frame. Nothing here knows lwIP.
//
// Receive: the driver hands the stack every frame it found in one pass as
// one batch (RxFrame). The stack either copies a frame during the call or,
// when the driver marked it loanable, keeps the driver's buffer (kept) and
// gives it back later (give_back(), from any thread): zero-copy receive.
// Transmit: transmit() queues a frame without copying it; the fragments
// stay the caller's until the driver reports them done (TxDone), and the
// device is notified once per burst (flush()).
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
/// Most fragments of one transmitted frame; the stack linearises longer ones.
constexpr std::size_t kMaxTxFragments = 8;

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

/// One received frame of a batch, in the driver's buffer.
struct RxFrame {
    std::uint8_t* data;  ///< the frame, Ethernet header first (writable while it is the stack's)
    std::uint16_t len;
    bool loanable;     ///< the driver lets the stack keep this buffer
    bool csum_ok;      ///< the device vouched for the TCP/UDP checksum (or the driver completed it)
    bool kept;         ///< set by the stack: it keeps the buffer until give_back(id)
    std::uint32_t id;  ///< the driver's buffer number, for give_back()
};

class NetDevice {
public:
    /// A batch of received frames. Frames not marked `kept` are the
    /// driver's again when the call returns. Called from the driver's
    /// receive thread, never from an interrupt handler.
    using Receiver = void (*)(void* context, std::span<RxFrame> batch);
    /// The device is done with the fragments of the frame queued with
    /// `cookie`. Called from whichever thread the driver reclaims in
    /// (transmit(), flush() or its receive thread), never from an ISR.
    using TxDone = void (*)(void* context, void* cookie);
    /// Link went up or down. Called from the driver's receive thread.
    using LinkListener = void (*)(void* context, bool up);

    NetDevice(const NetDevice&) = delete;
    NetDevice& operator=(const NetDevice&) = delete;

    /// Queues one frame made of `fragments` (at most kMaxTxFragments)
    /// without copying it: they must stay unchanged until TxDone(cookie).
    /// The device is notified at the next flush() (or when the ring is
    /// full). Waits up to `timeout` for room. ok; timeout (dropped and
    /// counted); invalid (empty, too many fragments or longer than
    /// kMaxFrameLen); io_error. TxDone comes only for an ok frame.
    virtual Status transmit(std::span<const Fragment> fragments, void* cookie, Timeout timeout) = 0;
    /// Notifies the device of the frames queued since the last flush (the
    /// stack calls it once per output burst).
    virtual void flush() = 0;
    /// Returns a buffer the stack kept (RxFrame::kept); any thread.
    virtual void give_back(std::uint32_t id) = 0;
    /// Receive buffers the driver has (ids are below this).
    virtual std::uint32_t rx_buffers() const = 0;

    /// Installs the callbacks (before frames may flow).
    void attach(Receiver receiver, TxDone tx_done, LinkListener link, void* context) {
        link_listener_ = link;
        tx_done_ = tx_done;
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

    /// For drivers: hands a batch to the stack (without one attached the
    /// frames are counted as dropped and stay the driver's).
    void deliver(std::span<RxFrame> batch);
    /// For drivers: the frame queued with `cookie` is done.
    void tx_done(void* cookie) {
        if (tx_done_ != nullptr) tx_done_(context_, cookie);
    }
    void set_link(bool up);

    /// For drivers: adds `n` to counter `c` (one of counters_). Each
    /// counter has one writer at a time (the driver's receive or transmit
    /// side, under that side's lock); counters() reads them from any CPU
    /// without a lock, so both sides use single-copy atomic accesses.
    static void count(std::uint64_t& c, std::uint64_t n = 1) {
        __atomic_store_n(&c, __atomic_load_n(&c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
    }

    char name_[8] = "eth?";
    std::uint8_t mac_[kMacLen] = {};
    volatile bool link_up_ = true;
    Counters counters_ = {};  // written with count() only

private:
    Receiver receiver_ = nullptr;
    TxDone tx_done_ = nullptr;
    LinkListener link_listener_ = nullptr;
    void* context_ = nullptr;
};

}  // namespace rtos::net
