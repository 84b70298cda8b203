// Host environment of the console and rng drivers (see env.hpp).
#include "env.hpp"

#include <cstring>

#include <rtos/critical.hpp>

namespace console_test {

namespace {
bool is_console(const Setup& s) { return s.device_id == virtio::VIRTIO_ID_CONSOLE; }

driver_test::DeviceSetup device_of(const Setup& s) {
    driver_test::DeviceSetup d = s;
    d.num_queues =
        static_cast<std::uint16_t>(is_console(s) && s.multiport ? 2 + 2 * s.max_ports : 2);
    if (is_console(s)) {
        if (s.multiport) d.features |= virtio::feature_bit(F_MULTIPORT);
        if (s.size) d.features |= virtio::feature_bit(F_SIZE);
    }
    d.config_size = 12;
    return d;
}
}  // namespace

Env::Env(const Setup& s)
    : DriverEnv(device_of(s)), setup(s), console(fake, s.multiport, s.max_ports) {
    if (is_console(s)) {
        after_write = [this] { console.pump(); };
        fake.behaviour = [this](std::uint16_t q, fake::Chain& c) { return console.serve(q, c); };
        std::uint8_t cfg[12] = {};
        std::memcpy(cfg + 0, &s.cols, 2);
        std::memcpy(cfg + 2, &s.rows, 2);
        std::memcpy(cfg + 4, &s.max_ports, 4);
        fake.change_config(0, cfg);
        for (std::size_t i = 0; i < s.ports.size() && i < console.ports.size(); ++i)
            console.ports[i] = s.ports[i];
    } else {
        fake.behaviour = [this](std::uint16_t q, fake::Chain& c) { return rng.serve(q, c); };
    }
}

void Env::device_work() {
    if (!is_console(setup)) {
        process(0);
        return;
    }
    {
        rtos::IrqLock lock;  // the device works "between" driver instructions
        console.pump();
    }
    raise_irq();
}

Env& boot(const Setup& s) {
    Env* e = new Env(s);  // lives until the scenario's process ends
    e->probe();
    return *e;
}

}  // namespace console_test
