// Device models of the console and rng host tests (see models.hpp).
#include "models.hpp"

#include <algorithm>
#include <cstring>

namespace console_test {

ConsoleModel::ConsoleModel(fake::FakeMmioDevice& dev, bool multiport, std::uint32_t max_ports)
    : ports(multiport ? max_ports : 1), dev_(dev), multiport_(multiport) {
    if (!multiport) {
        ports[0].plugged = true;
        ports[0].host_connected = true;
        ports[0].guest_open = true;  // no control queue: always delivered
    }
}

int ConsoleModel::port_of_queue(std::uint16_t queue, bool& rx) const {
    rx = queue % 2 == 0;
    if (queue < 2) return 0;
    if (queue < 4) return -1;  // control
    return (queue - 2) / 2;
}

void ConsoleModel::send_control(std::uint32_t id, std::uint16_t event, std::uint16_t value,
                                const std::string& tail) {
    std::vector<std::uint8_t> m(8 + tail.size());
    const ControlMsg c{id, event, value};
    std::memcpy(m.data(), &c, 8);
    std::memcpy(m.data() + 8, tail.data(), tail.size());
    control_out_.push_back(std::move(m));
}

void ConsoleModel::send_raw(std::vector<std::uint8_t> bytes) {
    control_out_.push_back(std::move(bytes));
}

void ConsoleModel::set_connected(std::uint32_t id, bool on) {
    ports.at(id).host_connected = on;
    if (multiport_) send_control(id, PORT_OPEN, on ? 1 : 0);
}

std::uint32_t ConsoleModel::serve(std::uint16_t queue, fake::Chain& chain) {
    if (chain.readable.empty() == chain.writable.empty()) {
        errors.push_back("queue " + std::to_string(queue) +
                         ": chain both or neither readable and writable");
        return 0;
    }
    if (multiport_ && queue == 2) {  // control receive: device -> driver
        if (control_out_.empty()) return fake::kNotYet;
        std::vector<std::uint8_t> m = std::move(control_out_.front());
        control_out_.pop_front();
        // Truncated to the buffer, as QEMU's iov_from_buf() does.
        std::size_t done = 0;
        for (auto w : chain.writable) {
            const std::size_t k = std::min(w.size(), m.size() - done);
            if (k) std::memcpy(w.data(), m.data() + done, k);
            done += k;
        }
        return static_cast<std::uint32_t>(done);
    }
    if (multiport_ && queue == 3) {  // control transmit: driver -> device
        std::vector<std::uint8_t> m;
        for (auto r : chain.readable) m.insert(m.end(), r.begin(), r.end());
        if (m.size() != 8) {
            errors.push_back("control message of " + std::to_string(m.size()) + " bytes");
            return 0;
        }
        ControlMsg c;
        std::memcpy(&c, m.data(), 8);
        from_driver.push_back(c);
        if (c.event == DEVICE_READY) {
            ready_seen = true;
            for (std::uint32_t i = 0; i < ports.size(); ++i)
                if (ports[i].plugged) send_control(i, PORT_ADD, 0);
            return 0;
        }
        if (c.id >= ports.size()) {
            errors.push_back("driver event " + std::to_string(c.event) + " for port " +
                             std::to_string(c.id));
            return 0;
        }
        HostPort& p = ports[c.id];
        if (c.event == PORT_READY) {
            p.ready = c.value;
            if (c.value == 1) {
                if (p.console) send_control(c.id, CONSOLE_PORT, 1);
                if (!p.name.empty())
                    send_control(c.id, PORT_NAME, 1, p.name + std::string(1, '\0'));
                if (p.host_connected) send_control(c.id, PORT_OPEN, 1);
            }
        } else if (c.event == PORT_OPEN) {
            p.guest_open = c.value != 0;
        } else {
            errors.push_back("unexpected driver event " + std::to_string(c.event));
        }
        return 0;
    }
    bool rx;
    const int id = port_of_queue(queue, rx);
    if (id < 0 || id >= static_cast<int>(ports.size())) {
        errors.push_back("buffer on queue " + std::to_string(queue) + " of no port");
        return 0;
    }
    HostPort& p = ports[id];
    if (rx) {
        if (chain.readable.size()) errors.push_back("readable buffer on a receive queue");
        if (p.to_guest.empty() || !p.guest_open || !p.plugged) return fake::kNotYet;
        std::size_t done = 0;
        for (auto w : chain.writable)
            for (std::size_t k = 0; k < w.size() && !p.to_guest.empty(); ++k, ++done) {
                w[k] = p.to_guest.front();
                p.to_guest.pop_front();
            }
        return static_cast<std::uint32_t>(done);
    }
    if (p.stalled) return fake::kNotYet;
    if (chain.writable.size()) errors.push_back("writable buffer on a transmit queue");
    if (!p.host_connected) errors.push_back("data sent to a port whose host end is closed");
    for (auto r : chain.readable)
        p.from_guest.append(reinterpret_cast<const char*>(r.data()), r.size());
    return 0;
}

void ConsoleModel::pump() {
    if ((dev_.status() & virtio::VIRTIO_STATUS_DRIVER_OK) == 0) return;
    const std::uint16_t queues = static_cast<std::uint16_t>(multiport_ ? 2 + 2 * ports.size() : 2);
    // Receive queues (0, 2: control, 4, ...) and the transmit queues a
    // stalled host left pending.
    for (std::uint16_t q = 0; q < queues; ++q)
        if (dev_.queue(q).live) dev_.process(q);
}

std::uint32_t RngModel::serve(std::uint16_t, fake::Chain& chain) {
    if (hold) return fake::kNotYet;
    std::uint32_t done = 0;
    for (auto w : chain.writable)
        for (std::size_t k = 0; k < w.size(); ++k) {
            if (max_piece && done == max_piece) return done;
            w[k] = byte_at(produced++);
            ++done;
        }
    return done;
}

}  // namespace console_test
