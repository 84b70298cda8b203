// Host environment of the virtio-net driver (see net_env.hpp).
#include "net_env.hpp"

#include <cstring>

#include <rtos/thread.hpp>
#include <rtos/timer.hpp>

#include "sim.hpp"

using virtio::feature_bit;
namespace vn = virtio::net;

namespace {

driver_test::DeviceSetup device_of(const net_test::Setup& s) {
    driver_test::DeviceSetup d = s;
    d.features |=
        feature_bit(vn::VIRTIO_NET_F_MRG_RXBUF) | feature_bit(vn::VIRTIO_NET_F_GUEST_CSUM);
    if (s.offer_mac) d.features |= feature_bit(vn::VIRTIO_NET_F_MAC);
    if (s.offer_status) d.features |= feature_bit(vn::VIRTIO_NET_F_STATUS);
    return d;
}

// Scatters `bytes` over the writable segments; returns what fitted.
std::size_t scatter(fake::Chain& c, const std::uint8_t* bytes, std::size_t n) {
    std::size_t done = 0;
    for (auto& seg : c.writable) {
        const std::size_t k = std::min(seg.size(), n - done);
        std::memcpy(seg.data(), bytes + done, k);
        done += k;
        if (done == n) break;
    }
    return done;
}

}  // namespace

namespace net_test {

Env::Env(const Setup& s) : DriverEnv(device_of(s)), setup(s) {
    const std::uint8_t mac[] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
    fake.change_config(0, mac);
    const std::uint8_t status[] = {1, 0};  // VIRTIO_NET_S_LINK_UP
    fake.change_config(6, status);
    fake.has_work = [this](std::uint16_t q) { return q != 0 || !wire.empty(); };
    fake.behaviour = [this](std::uint16_t q, fake::Chain& c) -> std::uint32_t {
        if (q == 1) {  // transmit: header, then the frame
            std::vector<std::uint8_t> all;
            for (auto& seg : c.readable) all.insert(all.end(), seg.begin(), seg.end());
            if (all.size() < hdr_len()) {
                ++bad_tx_headers;
                return 0;
            }
            for (std::uint32_t i = 0; i < hdr_len(); ++i) bad_tx_headers += all[i] != 0;
            sent.emplace_back(all.begin() + hdr_len(), all.end());
            return 0;
        }
        Arrival a = std::move(wire.front());
        wire.pop_front();
        std::vector<std::uint8_t> bytes(reinterpret_cast<const std::uint8_t*>(&a.hdr),
                                        reinterpret_cast<const std::uint8_t*>(&a.hdr) + hdr_len());
        bytes.insert(bytes.end(), a.frame.begin(), a.frame.end());
        const std::size_t fitted = scatter(c, bytes.data(), bytes.size());
        return a.used_len ? *a.used_len : static_cast<std::uint32_t>(fitted);
    };
}

bool Env::mergeable() const {
    return (fake.driver_features() & feature_bit(vn::VIRTIO_NET_F_MRG_RXBUF)) != 0;
}

std::uint32_t Env::hdr_len() const {
    return vn::layout(setup.version == virtio::mmio::VERSION_LEGACY, mergeable()).hdr_len;
}

void Env::arrive(std::vector<Arrival> frames, std::size_t expect_delivered) {
    for (auto& f : frames) wire.push_back(std::move(f));
    // At least one round, so a pending config-change interrupt is delivered too.
    for (int t = 0; t < 200; ++t) {
        process(0);
        sim::tick();
        if (delivered.size() >= expect_delivered && wire.empty()) break;
    }
}

unsigned Env::rx_on_ring() const { return fake.buffers_on_ring(0); }

unsigned Env::driver_ok_count() const {
    unsigned n = 0;
    for (std::uint8_t s : fake.status_writes())
        n += (s & virtio::VIRTIO_STATUS_DRIVER_OK) != 0 && (s & virtio::VIRTIO_STATUS_FAILED) == 0;
    return n;
}

void Env::idle(unsigned ticks) {
    for (unsigned t = 0; t < ticks; ++t) {
        host_irq::raise();
        sim::tick();
    }
}

Env& boot(const Setup& s) {
    // The driver's transmit reclaim timer; sim starts the kernel without
    // the boot path that starts the timer thread.
    rtos::kernel::timer_service_start();
    Env* e = new Env(s);  // lives until the scenario's process ends
    e->probe();
    e->dev = rtos::net::NetDevice::first();
    if (e->dev) {
        e->dev->attach(
            [](void* ctx, std::span<rtos::net::RxFrame> batch) {
                auto* env = static_cast<Env*>(ctx);
                env->batches.push_back(batch.size());
                for (rtos::net::RxFrame& f : batch) {
                    env->delivered.emplace_back(f.data, f.data + f.len);
                    env->loanable += f.loanable;
                    if (f.loanable && env->keep > 0) {
                        --env->keep;
                        f.kept = true;
                        env->kept.push_back(f.id);
                    }
                }
            },
            [](void* ctx, void* cookie) { static_cast<Env*>(ctx)->tx_completed.push_back(cookie); },
            [](void* ctx, bool up) { static_cast<Env*>(ctx)->link_events.push_back(up); }, e);
    }
    return *e;
}

}  // namespace net_test
