// Console ports of the serial class: named byte streams to the host, for
// applications. Bus-independent; the virtio-console driver implements it
// (components/drivers/virtio/console/virtio_console.cpp).
//
//   rtos::serial::Port* p = rtos::serial::open("org.rtos.echo", rtos::Timeout::ticks(1000));
//   long n = rtos::serial::read(p, buf, sizeof(buf), rtos::Timeout::forever());
//   if (n > 0) rtos::serial::write(p, buf, n, rtos::Timeout::forever());
//
// A port is open from the guest side while it has users (PORT_OPEN to the
// device); the host side opens and closes it on its own (a socket chardev
// connecting or going away), which read() survives: buffered bytes stay,
// new ones arrive after the host reconnects. Reads take what has arrived;
// the device gets a receive buffer back only when its bytes are read, so a
// slow reader stalls the host instead of losing bytes. Port 0 as the
// shell's input works the same way, with the kernel console as its reader.
#pragma once

#include <cstddef>
#include <cstdint>

#include <rtos/types.hpp>

namespace rtos::serial {

struct Port;  // opaque

struct PortInfo {
    unsigned device;           ///< n-th virtio-console device (0 = first)
    unsigned id;               ///< port id (0 = the console port)
    const char* name;          ///< "" when the device named none
    bool present;              ///< added by the device and not removed
    bool console;              ///< the device marked it a console (VIRTIO_CONSOLE_CONSOLE_PORT)
    bool host_open;            ///< the host side is connected
    bool guest_open;           ///< opened here
    std::uint16_t cols, rows;  ///< console size (F_SIZE / RESIZE), 0 when unknown
    std::uint64_t rx_bytes, tx_bytes;
};

/// The port named `name` on any device (or, for a decimal number, that port
/// id on the first device), opened; waits up to `timeout` for it to appear.
/// nullptr when it does not.
Port* open(const char* name, Timeout timeout = Timeout::none());

/// Drops one user; the last one closes the guest side (PORT_OPEN 0).
void close(Port* port);

/// Waits up to `timeout` for another reader of the port to finish, then up
/// to `timeout` until bytes have arrived, then copies up to n of them.
/// Returns the count (> 0) or a negative Status: timeout, invalid (null
/// port, n 0), deleted (the device removed the port and nothing is left),
/// io_error (the device broke the protocol), busy (port 0 is the shell's
/// input, CONFIG_VIRTIO_CONSOLE_SHELL: the kernel console reads it).
long read(Port* port, void* buf, std::size_t n, Timeout timeout = Timeout::forever());

/// Queues n bytes to the host, waiting up to `timeout` for another writer
/// of the port to finish, then up to `timeout` for transmit buffers.
/// Returns the bytes queued (n unless the timeout expired) or a negative
/// Status: timeout (nothing queued), invalid, io_error (device broken),
/// busy (the host side is not connected: the bytes would be lost).
long write(Port* port, const void* buf, std::size_t n, Timeout timeout = Timeout::forever());

/// Ports of all devices in order: index 0, 1, ... until it returns false.
bool port_info(unsigned index, PortInfo& info);

/// virtio-console devices found.
unsigned device_count();

}  // namespace rtos::serial
