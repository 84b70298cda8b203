// Device sides for the fake virtio-mmio device (tests/host/virtio/):
//   ConsoleModel  virtio-console (VirtIO 1.2 section 5.3): ports with a host
//                 end (bytes to the guest, bytes from it, connected or not)
//                 and the control protocol of 5.3.6.2 as QEMU's
//                 virtio-serial-bus runs it (DEVICE_READY -> PORT_ADD each
//                 port; PORT_READY 1 -> CONSOLE_PORT, PORT_NAME, PORT_OPEN);
//                 tests can also send any raw control message.
//   RngModel      virtio-rng (5.4): a byte stream 0, 1, 2, ... (mod 251)
//                 handed out in order, optionally in short pieces.
// Protocol mistakes of the driver go to errors().
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "fake_mmio_device.hpp"

namespace console_test {

// 5.3 values, spelled out again on purpose (the driver's are file-local).
inline constexpr unsigned F_SIZE = 0, F_MULTIPORT = 1;
inline constexpr std::uint16_t DEVICE_READY = 0, PORT_ADD = 1, PORT_REMOVE = 2, PORT_READY = 3,
                               CONSOLE_PORT = 4, RESIZE = 5, PORT_OPEN = 6, PORT_NAME = 7;

struct ControlMsg {
    std::uint32_t id;
    std::uint16_t event;
    std::uint16_t value;
};

struct HostPort {
    bool plugged = false;  ///< announced with PORT_ADD on DEVICE_READY
    std::string name;
    bool console = false;
    bool host_connected = false;
    bool guest_open = false;
    int ready = -1;  ///< value of the driver's PORT_READY, -1 none yet
    std::deque<std::uint8_t> to_guest;
    std::string from_guest;
    bool stalled = false;  ///< the host reads nothing: transmit buffers stay pending (kNotYet)
};

class ConsoleModel {
public:
    ConsoleModel(fake::FakeMmioDevice& dev, bool multiport, std::uint32_t max_ports);

    /// The fake's behaviour.
    std::uint32_t serve(std::uint16_t queue, fake::Chain& chain);
    /// Lets the device deliver what it has (control messages, port data) into
    /// the buffers the driver made available, and take the transmit buffers
    /// a host no longer stalled reads, as QEMU does on its own.
    void pump();

    void send_control(std::uint32_t id, std::uint16_t event, std::uint16_t value,
                      const std::string& tail = "");
    void send_raw(std::vector<std::uint8_t> bytes);
    /// Host end connects / goes away (PORT_OPEN to the driver).
    void set_connected(std::uint32_t id, bool on);

    std::vector<HostPort> ports;  ///< indexed by port id, max_ports entries
    std::vector<ControlMsg> from_driver;
    std::vector<std::string> errors;
    bool ready_seen = false;

private:
    int port_of_queue(std::uint16_t queue, bool& rx) const;

    fake::FakeMmioDevice& dev_;
    bool multiport_;
    std::deque<std::vector<std::uint8_t>> control_out_;
};

class RngModel {
public:
    std::uint32_t serve(std::uint16_t queue, fake::Chain& chain);
    std::uint64_t produced = 0;   ///< stream position
    std::uint32_t max_piece = 0;  ///< 0: fill whole buffers; else at most this per buffer
    bool hold = false;            ///< true: leave buffers pending (kNotYet)
    static std::uint8_t byte_at(std::uint64_t pos) { return static_cast<std::uint8_t>(pos % 251); }
};

}  // namespace console_test
