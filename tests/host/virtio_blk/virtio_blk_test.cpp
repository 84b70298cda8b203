// The virtio-blk driver end to end: BlockDevice calls -> driver -> virtqueue
// -> virtio-mmio registers -> fake device -> RAM disk, and back through the
// interrupt (or polling) path, on the real kernel (sim.hpp). Every scenario
// runs for each register layout this build drives, in a child process.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include <rtos/clock.hpp>
#include <rtos/critical.hpp>
#include <rtos/thread.hpp>

#include "drivers/virtio/device.hpp"
#include "env.hpp"
#include "log_capture.hpp"
#include "rig.hpp"
#include "sim.hpp"

using namespace blk_test;
using rtos::Status;
using virtio::feature_bit;

namespace {

constexpr rtos::Tick kTimeoutTicks = rtos::clock::ms_to_ticks(CONFIG_VIRTIO_BLK_TIMEOUT_MS);

// Parameters of the scenario the child runs (set in the parent before fork).
std::uint32_t g_layout = rig::kModern;
std::uint32_t g_version = rig::kModern;
bool g_irq = true;
fake::UsedFault g_fault = fake::UsedFault::none;

std::vector<std::uint8_t> pattern(std::size_t sectors, unsigned seed) {
    std::vector<std::uint8_t> v(sectors * 512);
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i] = static_cast<std::uint8_t>(i * 7 + seed * 131 + (i >> 9));
    return v;
}

// The end of the driver's boot line: disk, size, request queues and
// negotiated features.
std::string boot_line_end(const std::string& disk, const std::string& features,
                          unsigned queues = 1) {
    return " " + disk + " queues " + std::to_string(queues) + " features " +
           rig::feature_words(features, g_layout) + "\n";
}

void check_clean(Env& e) {
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
    SIM_CHECK(e.model.errors.empty());
    for (auto& s : e.model.errors) std::fprintf(stderr, "model: %s\n", s.c_str());
}

// ---- case 1: round trips and splitting ----

void round_trip() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.features = feature_bit(F_FLUSH) | feature_bit(F_BLK_SIZE) | feature_bit(F_SIZE_MAX) |
                 feature_bit(F_SEG_MAX);
    s.size_max = 2048;  // 4 sectors per request
    s.seg_max = 1;
    s.blk_size = 4096;
    host_log::LogCapture log;
    Env& e = boot(s);
    SIM_CHECK(log.contains(boot_line_end("vda 1024 sectors", "size_max seg_max blk_size flush")));
    SIM_CHECK(e.probed);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    SIM_CHECK(rtos::block::BlockDevice::first() == e.dev);
    SIM_CHECK_EQ(e.dev->info().sectors, 1024u);
    SIM_CHECK_EQ(e.dev->info().block_size, 4096u);
    SIM_CHECK(!e.dev->info().read_only);
    SIM_CHECK(e.dev->info().flush);

    // 10 sectors: three requests of 4, 4 and 2 sectors.
    auto data = pattern(10, 1);
    SIM_CHECK_STATUS(e.dev->write(100, 10, data.data()), Status::ok);
    SIM_CHECK_EQ(e.model.seen.size(), 3u);
    if (e.model.seen.size() == 3) {
        const std::uint64_t sectors[] = {100, 104, 108};
        const std::uint32_t bytes[] = {2048, 2048, 1024};
        for (int i = 0; i < 3; ++i) {
            SIM_CHECK_EQ(e.model.seen[i].type, T_OUT);
            SIM_CHECK_EQ(e.model.seen[i].sector, sectors[i]);
            SIM_CHECK_EQ(e.model.seen[i].data_bytes, bytes[i]);
        }
    }
    SIM_CHECK(std::memcmp(&e.model.disk[100 * 512], data.data(), data.size()) == 0);

    std::vector<std::uint8_t> back(10 * 512, 0xee);
    SIM_CHECK_STATUS(e.dev->read(100, 10, back.data()), Status::ok);
    SIM_CHECK(back == data);
    SIM_CHECK_EQ(e.model.seen.size(), 6u);
    for (std::size_t i = 3; i < e.model.seen.size(); ++i) SIM_CHECK_EQ(e.model.seen[i].type, T_IN);

    // The last sector, and a disk-written pattern read through the driver.
    auto last = pattern(1, 9);
    std::memcpy(&e.model.disk[1023 * 512], last.data(), 512);
    std::vector<std::uint8_t> one(512);
    SIM_CHECK_STATUS(e.dev->read(1023, 1, one.data()), Status::ok);
    SIM_CHECK(one == last);

    SIM_CHECK_STATUS(e.dev->flush(), Status::ok);
    SIM_CHECK_EQ(e.model.flushes, 1u);
    SIM_CHECK_EQ(e.model.seen.back().type, T_FLUSH);

    char id[32];
    SIM_CHECK_STATUS(e.dev->get_id(id, sizeof(id)), Status::ok);
    SIM_CHECK_EQ(std::string(id), std::string("tern-test-disk"));
    SIM_CHECK_EQ(e.model.seen.back().type, T_GET_ID);
    SIM_CHECK_EQ(e.model.seen.back().data_bytes, 20u);
    SIM_CHECK_STATUS(e.dev->get_id(id, 5), Status::ok);  // truncated, terminated
    SIM_CHECK_EQ(std::string(id), std::string("tern"));
    // A 20-byte ID has no NUL; unprintable bytes are replaced.
    e.model.id = std::string("ABCDEFGHIJ\x01KLMNOPQRS");
    SIM_CHECK_STATUS(e.dev->get_id(id, sizeof(id)), Status::ok);
    SIM_CHECK_EQ(std::string(id), std::string("ABCDEFGHIJ?KLMNOPQRS"));

    SIM_CHECK(e.fake.queue(0).chains == e.model.seen.size());
    if (g_irq) SIM_CHECK(e.fake.interrupts_raised() > 0);
    check_clean(e);
}

// Without SIZE_MAX the driver's own limit (128 KiB = 256 sectors) splits.
void default_split() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.features = feature_bit(F_SIZE_MAX) | feature_bit(F_BLK_SIZE);
    s.size_max = 100;   // impossible (< 512): ignored, the default limit stays
    s.blk_size = 1000;  // not a power of two: ignored
    host_log::LogCapture log;
    Env& e = boot(s);
    // Negotiated, though the values are not used.
    SIM_CHECK(log.contains(boot_line_end("vda 1024 sectors", "size_max blk_size")));
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    SIM_CHECK_EQ(e.dev->info().block_size, 512u);
    SIM_CHECK(!e.dev->info().flush);
    auto data = pattern(300, 3);
    SIM_CHECK_STATUS(e.dev->write(700, 300, data.data()), Status::ok);
    SIM_CHECK_EQ(e.model.seen.size(), 2u);
    if (e.model.seen.size() == 2) {
        SIM_CHECK_EQ(e.model.seen[0].sector, 700u);
        SIM_CHECK_EQ(e.model.seen[0].data_bytes, 256u * 512);
        SIM_CHECK_EQ(e.model.seen[1].sector, 956u);
        SIM_CHECK_EQ(e.model.seen[1].data_bytes, 44u * 512);
    }
    std::vector<std::uint8_t> back(300 * 512);
    SIM_CHECK_STATUS(e.dev->read(700, 300, back.data()), Status::ok);
    SIM_CHECK(back == data);
    // No FLUSH feature: flush() is ok without a request.
    const auto before = e.model.seen.size();
    SIM_CHECK_STATUS(e.dev->flush(), Status::ok);
    SIM_CHECK_EQ(e.model.seen.size(), before);
    check_clean(e);
}

// ---- case 2: refused before the device ----

void refused_early() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.capacity = 64;
    s.features = feature_bit(F_RO);
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    SIM_CHECK(e.dev->info().read_only);
    std::vector<std::uint8_t> buf(8 * 512, 0x5a);
    SIM_CHECK_STATUS(e.dev->read(64, 1, buf.data()), Status::out_of_range);
    SIM_CHECK_STATUS(e.dev->read(60, 5, buf.data()), Status::out_of_range);
    SIM_CHECK_STATUS(e.dev->read(~std::uint64_t{0}, 2, buf.data()), Status::out_of_range);
    SIM_CHECK_STATUS(e.dev->read(0, 0, buf.data()), Status::invalid);
    SIM_CHECK_STATUS(e.dev->read(0, 1, nullptr), Status::invalid);
    SIM_CHECK_STATUS(e.dev->write(0, 1, buf.data()), Status::unsupported);
    SIM_CHECK_STATUS(e.dev->write(63, 2, buf.data()), Status::out_of_range);
    char id[4];
    SIM_CHECK_STATUS(e.dev->get_id(id, 0), Status::invalid);
    SIM_CHECK(e.model.seen.empty());
    SIM_CHECK_EQ(e.fake.notifications(0), 0u);
    SIM_CHECK(std::all_of(buf.begin(), buf.end(), [](std::uint8_t b) { return b == 0x5a; }));
    // The device still works for valid requests.
    SIM_CHECK_STATUS(e.dev->read(60, 4, buf.data()), Status::ok);
    SIM_CHECK_EQ(e.model.seen.size(), 1u);
    check_clean(e);
}

// ---- case 3: device status values ----

void status_values() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.features = feature_bit(F_FLUSH);
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    std::vector<std::uint8_t> buf(512);
    char id[32];
    struct {
        std::uint8_t device;
        Status want;
    } const cases[] = {{S_IOERR, Status::io_error},
                       {S_UNSUPP, Status::unsupported},
                       {7, Status::io_error},
                       {0xfe, Status::io_error}};
    for (auto& c : cases) {
        e.model.forced_status = c.device;
        e.model.forced_count = 1;
        SIM_CHECK_STATUS(e.dev->read(5, 1, buf.data()), c.want);
        e.model.forced_count = 1;
        SIM_CHECK_STATUS(e.dev->write(5, 1, buf.data()), c.want);
        e.model.forced_count = 1;
        SIM_CHECK_STATUS(e.dev->flush(), c.want);
        e.model.forced_count = 1;
        SIM_CHECK_STATUS(e.dev->get_id(id, sizeof(id)), c.want);
    }
    // A request error does not break the device.
    e.model.disk[5 * 512] = 0x42;
    SIM_CHECK_STATUS(e.dev->read(5, 1, buf.data()), Status::ok);
    SIM_CHECK_EQ(buf[0], 0x42);
    SIM_CHECK_EQ(e.model.seen.size(), 17u);
    SIM_CHECK(e.fake.status() & virtio::VIRTIO_STATUS_DRIVER_OK);
    check_clean(e);
}

// ---- case 4: misbehaving device ----

struct Job {
    rtos::Thread* thread = nullptr;
    std::uint64_t lba = 0;
    std::uint32_t count = 1;
    std::vector<std::uint8_t> buf;
    Status result = Status::ok;
    bool done = false;
    rtos::Tick finished_at = 0;
};

void run_read(void* p) {
    auto* j = static_cast<Job*>(p);
    j->result = env().dev->read(j->lba, j->count, j->buf.data());
    j->finished_at = rtos::clock::ticks();
    j->done = true;
}

void start_read(Job& j, std::uint64_t lba, unsigned prio = 5) {
    j.lba = lba;
    j.buf.assign(j.count * 512, 0);
    j.thread = rtos::Thread::create({.name = "reader", .priority = prio}, run_read, &j, 4096);
}

void misbehaving_device() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.process_on_notify = false;
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    // A healthy request first.
    Job warm;
    start_read(warm, 1);
    e.process_now();
    warm.thread->join();
    SIM_CHECK_STATUS(warm.result, Status::ok);

    // Four readers (higher priority) submit and block.
    Job jobs[4];
    for (int i = 0; i < 4; ++i) start_read(jobs[i], 10 + i);
    for (auto& j : jobs) SIM_CHECK(!j.done);
    SIM_CHECK_EQ(e.model.seen.size(), 1u);  // nothing processed yet
    e.fake.inject(g_fault);
    e.process_now();  // the first used entry is bad
    for (auto& j : jobs) {
        j.thread->join();
        SIM_CHECK_STATUS(j.result, Status::io_error);
    }
    SIM_CHECK_EQ(e.fake.status(), 0u);  // the driver reset the device
    SIM_CHECK(!e.fake.status_writes().empty() && e.fake.status_writes().back() == 0);
    SIM_CHECK(e.fake.queue(0).live == false);

    // Later requests fail at once, without touching the device.
    const auto seen = e.model.seen.size();
    const rtos::Tick t0 = rtos::clock::ticks();
    std::vector<std::uint8_t> buf(512);
    char id[32];
    SIM_CHECK_STATUS(e.dev->read(0, 1, buf.data()), Status::io_error);
    SIM_CHECK_STATUS(e.dev->write(0, 1, buf.data()), Status::io_error);
    SIM_CHECK_STATUS(e.dev->get_id(id, sizeof(id)), Status::io_error);
    SIM_CHECK_EQ(rtos::clock::ticks(), t0);
    // The fake's counters restart at a reset: no notification since (a
    // QueueNotify to the reset device would also be a violation).
    SIM_CHECK_EQ(e.fake.notifications(0), 0u);
    SIM_CHECK_EQ(e.model.seen.size(), seen);
    check_clean(e);
}

// ---- case 5: a device that never completes ----

void never_completes() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.process_on_notify = false;
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    std::vector<std::uint8_t> buf(512);
    const rtos::Tick t0 = rtos::clock::ticks();
    SIM_CHECK_STATUS(e.dev->read(3, 1, buf.data()), Status::timeout);
    const rtos::Tick waited = rtos::clock::ticks() - t0;
    SIM_CHECK(waited >= kTimeoutTicks);
    SIM_CHECK(waited <= kTimeoutTicks + 2);
    SIM_CHECK_EQ(e.model.seen.size(), 0u);
    // Reset (no DMA into the abandoned buffer: the chain was never used)
    // and initialised again on empty rings.
    SIM_CHECK(e.fake.status_writes().size() > 1);
    SIM_CHECK(e.fake.status() & virtio::VIRTIO_STATUS_DRIVER_OK);
    SIM_CHECK(e.fake.queue(0).live);
    SIM_CHECK_EQ(e.fake.queue(0).last_avail_idx, 0u);
    SIM_CHECK_EQ(e.fake.notifications(0), 0u);  // counters restart at the reset
    // The device works again: the next request goes through.
    e.fake.process_on_notify = true;
    auto data = pattern(1, 4);
    std::memcpy(&e.model.disk[3 * 512], data.data(), 512);
    SIM_CHECK_STATUS(e.dev->read(3, 1, buf.data()), Status::ok);
    SIM_CHECK(buf == data);
    check_clean(e);
}

// DEVICE_NEEDS_RESET with requests in flight: they fail, the device is
// reset and initialised again, and works. Polling drivers get no config
// interrupt: for them the request timeout does the same.
void needs_reset_recovers() {
    host_log::LogCapture log;
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.process_on_notify = false;
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    Job jobs[3];
    for (int i = 0; i < 3; ++i) start_read(jobs[i], 20 + i, 3);
    for (auto& j : jobs) SIM_CHECK(!j.done);
    if (g_version == rig::kLegacy) {  // no DEVICE_NEEDS_RESET in 1.0 legacy: it stalls
        rtos::Thread::sleep(kTimeoutTicks + 5);
    } else {
        {
            rtos::IrqLock lock;
            e.fake.set_needs_reset();
        }
        e.raise_irq();
    }
    for (auto& j : jobs) j.thread->join();
    int timeouts = 0;
    for (auto& j : jobs) {
        SIM_CHECK(j.result == Status::io_error || j.result == Status::timeout);
        timeouts += j.result == Status::timeout;
    }
    const bool by_interrupt = g_irq && g_version != rig::kLegacy;
    SIM_CHECK_EQ(timeouts, by_interrupt ? 0 : 1);
    const std::string text = log.text();
    SIM_CHECK(text.find(by_interrupt ? "vda: the device needs a reset (DEVICE_NEEDS_RESET); "
                                       "device reset, 3 requests failed, re-initialised"
                                     : "vda: request timed out; device reset, 3 requests "
                                       "failed, re-initialised") != std::string::npos);
    SIM_CHECK(!(e.fake.status() & virtio::VIRTIO_STATUS_DEVICE_NEEDS_RESET));
    SIM_CHECK(e.fake.status() & virtio::VIRTIO_STATUS_DRIVER_OK);
    e.fake.process_on_notify = true;
    auto data = pattern(2, 5);
    SIM_CHECK_STATUS(e.dev->write(40, 2, data.data()), Status::ok);
    std::vector<std::uint8_t> back(2 * 512);
    SIM_CHECK_STATUS(e.dev->read(40, 2, back.data()), Status::ok);
    SIM_CHECK(back == data);
    check_clean(e);
}

// A device that refuses FEATURES_OK at start: not taken, one clear line,
// left FAILED; no block device appears.
void features_refused_at_start() {
    host_log::LogCapture log;
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.refuse_features_ok = true;
    Env& e = boot(s);
    SIM_CHECK(!e.probed);
    SIM_CHECK(e.dev == nullptr);
    SIM_CHECK(log.contains("device refused features"));
    SIM_CHECK(e.fake.status() & virtio::VIRTIO_STATUS_FAILED);
    SIM_CHECK(!e.fake.queue(0).live);
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
}

// The device asks for a reset, then refuses FEATURES_OK when initialised
// again: offline with a clear line, every later request fails at once.
void needs_reset_refused_goes_offline() {
    host_log::LogCapture log;
    Setup s;
    s.version = g_version;
    s.irq = true;
    s.process_on_notify = false;
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    Job j;
    start_read(j, 7, 3);
    {
        rtos::IrqLock lock;
        e.fake.refuse_features_ok = true;
        e.fake.set_needs_reset();
    }
    e.raise_irq();
    j.thread->join();
    SIM_CHECK_STATUS(j.result, Status::io_error);
    SIM_CHECK(log.contains("device refused features"));
    SIM_CHECK(
        log.contains("vda: the device needs a reset (DEVICE_NEEDS_RESET); device reset, 1 "
                     "requests failed, re-initialisation failed: offline"));
    std::vector<std::uint8_t> buf(512);
    const rtos::Tick t0 = rtos::clock::ticks();
    SIM_CHECK_STATUS(e.dev->read(0, 1, buf.data()), Status::io_error);
    SIM_CHECK_EQ(rtos::clock::ticks(), t0);
    SIM_CHECK_EQ(e.fake.status(), 0u);  // reset: the device touches nothing of ours
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
}

// Two request slots (queue of 8, no indirect descriptors: 8 / 3). A and B
// are in flight, C waits for a slot. A times out; the reset fails B, whose
// slot goes to C: C goes to the device initialised again, never to the
// reset one, and completes.
void waiter_after_timeout() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.process_on_notify = false;
    s.queue_num_max = 8;
    s.offer_indirect = false;
    host_log::LogCapture log;
    Env& e = boot(s);
    SIM_CHECK(!log.contains("indirect_desc"));
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    Job a, b, c;
    const rtos::Tick t0 = rtos::clock::ticks();
    start_read(a, 1);
    rtos::Thread::sleep(5);
    start_read(b, 2);
    start_read(c, 3);
    SIM_CHECK(!a.done && !b.done && !c.done);
    e.fake.process_on_notify = true;  // from now on: A and B stay unprocessed (no new kick)
    a.thread->join();
    b.thread->join();
    c.thread->join();
    SIM_CHECK_STATUS(a.result, Status::timeout);
    SIM_CHECK_STATUS(b.result, Status::io_error);
    SIM_CHECK_STATUS(c.result, Status::ok);
    SIM_CHECK(a.finished_at - t0 >= kTimeoutTicks);
    SIM_CHECK_EQ(b.finished_at, a.finished_at);
    SIM_CHECK(c.finished_at - a.finished_at <= 1);  // polled: the next tick
    SIM_CHECK_EQ(e.model.seen.size(), 1u);          // C alone, on the re-initialised rings
    SIM_CHECK(e.fake.status() & virtio::VIRTIO_STATUS_DRIVER_OK);
    check_clean(e);
}

// A device that offers SIZE_MAX alone (no SEG_MAX, no BLK_SIZE): the
// driver reads size_max and splits larger requests into requests of at most
// that many bytes (the model fails longer segments). seg_max in the config
// space is not offered and must not matter.
void size_max_alone_splits() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.features = feature_bit(F_SIZE_MAX);
    s.size_max = 3 * 512;
    s.seg_max = 7;
    host_log::LogCapture log;
    Env& e = boot(s);
    SIM_CHECK(log.contains(boot_line_end("vda 1024 sectors", "size_max")));
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    SIM_CHECK_EQ(e.model.size_max, 3u * 512);

    // 10 sectors: requests of 3, 3, 3 and 1 sectors, one data segment each.
    auto data = pattern(10, 5);
    std::vector<std::uint8_t> back(10 * 512, 0xee);
    SIM_CHECK_STATUS(e.dev->write(20, 10, data.data()), Status::ok);
    SIM_CHECK_STATUS(e.dev->read(20, 10, back.data()), Status::ok);
    SIM_CHECK(back == data);
    SIM_CHECK(std::memcmp(&e.model.disk[20 * 512], data.data(), data.size()) == 0);
    SIM_CHECK_EQ(e.model.seen.size(), 8u);
    const std::uint64_t sectors[] = {20, 23, 26, 29};
    const std::uint32_t bytes[] = {1536, 1536, 1536, 512};
    for (std::size_t i = 0; i < e.model.seen.size() && i < 8; ++i) {
        const SeenRequest& r = e.model.seen[i];
        SIM_CHECK_EQ(r.type, i < 4 ? T_OUT : T_IN);
        SIM_CHECK_EQ(r.sector, sectors[i % 4]);
        SIM_CHECK_EQ(r.data_bytes, bytes[i % 4]);
        SIM_CHECK_EQ(r.data_segments, 1u);
    }
    check_clean(e);
}

// The model enforces what the device offers: a driver that ignored
// size_max would see its requests fail (and the test with them).
void model_fails_requests_beyond_size_max() {
    Setup s;
    s.version = g_version;
    s.features = feature_bit(F_SIZE_MAX);
    s.size_max = 4 * 512;
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    e.model.size_max = 2 * 512;  // smaller than the device told the driver
    std::vector<std::uint8_t> buf(4 * 512);
    SIM_CHECK_STATUS(e.dev->read(0, 4, buf.data()), Status::io_error);
    SIM_CHECK_EQ(e.model.errors.size(), 1u);
    SIM_CHECK_STATUS(e.dev->read(0, 2, buf.data()), Status::ok);
    SIM_CHECK_EQ(e.model.errors.size(), 1u);
}

// ---- case 6: impossible configuration ----

void capacity_too_big() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.capacity = (std::uint64_t{1} << 48) + 1;
    Env& e = boot(s);
    SIM_CHECK(!e.probed);
    SIM_CHECK(e.dev == nullptr);
    SIM_CHECK(rtos::block::BlockDevice::first() == nullptr);
    bool failed_set = false;
    for (auto v : e.fake.status_writes())
        if (v & virtio::VIRTIO_STATUS_FAILED) failed_set = true;
    SIM_CHECK(failed_set);
    SIM_CHECK_EQ(e.fake.status(), 0u);
    SIM_CHECK_EQ(Env::dma_live_allocations(), 0u);  // nothing leaked
    SIM_CHECK_EQ(e.fake.violations_text(), std::string());
}

void capacity_limit_accepted() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.capacity = std::uint64_t{1} << 48;
    s.features = feature_bit(F_BLK_SIZE);
    s.blk_size = 256;  // below a sector: ignored
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    SIM_CHECK_EQ(e.dev->info().sectors, std::uint64_t{1} << 48);
    SIM_CHECK_EQ(e.dev->info().block_size, 512u);
    std::vector<std::uint8_t> buf(512);
    e.model.disk[7] = 0x77;
    SIM_CHECK_STATUS(e.dev->read(0, 1, buf.data()), Status::ok);
    SIM_CHECK_EQ(buf[7], 0x77);
    check_clean(e);
}

void blk_size_too_big() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.features = feature_bit(F_BLK_SIZE);
    s.blk_size = 131072;
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (e.dev) SIM_CHECK_EQ(e.dev->info().block_size, 512u);
    check_clean(e);
}

// ---- case 7: concurrency ----

struct Worker {
    unsigned index;
    rtos::Thread* thread;
    unsigned failures = 0;
    unsigned ops = 0;
};

constexpr unsigned kWorkers = 6;
constexpr unsigned kRegion = 32;  // sectors owned by each worker

void worker(void* p) {
    auto* w = static_cast<Worker*>(p);
    Env& e = env();
    std::uint32_t rng = 0x9e3779b9u * (w->index + 1);
    auto next = [&] {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        return rng;
    };
    std::vector<std::uint8_t> shadow(kRegion * 512, 0);
    const std::uint64_t base = std::uint64_t{w->index} * kRegion;
    for (unsigned op = 0; op < 24; ++op) {
        const std::uint32_t count = 1 + next() % 12;
        const std::uint64_t at = next() % (kRegion - count + 1);
        std::vector<std::uint8_t> buf(count * 512);
        if (op % 2 == 0) {
            for (auto& b : buf) b = static_cast<std::uint8_t>(next());
            if (e.dev->write(base + at, count, buf.data()) != Status::ok) ++w->failures;
            std::memcpy(&shadow[at * 512], buf.data(), buf.size());
        } else {
            if (e.dev->read(base + at, count, buf.data()) != Status::ok) ++w->failures;
            if (std::memcmp(&shadow[at * 512], buf.data(), buf.size()) != 0) ++w->failures;
        }
        ++w->ops;
    }
    std::vector<std::uint8_t> all(kRegion * 512);
    if (e.dev->read(base, kRegion, all.data()) != Status::ok || all != shadow) ++w->failures;
}

void concurrent(std::uint32_t queue_num_max) {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.process_on_notify = false;
    s.queue_num_max = queue_num_max;
    s.capacity = kWorkers * kRegion;
    s.features = feature_bit(F_SIZE_MAX);
    s.size_max = 4 * 512;  // larger requests are split
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    e.fake.complete_in_reverse = true;
    e.start_device_thread();
    Worker w[kWorkers];
    for (unsigned i = 0; i < kWorkers; ++i) {
        w[i].index = i;
        w[i].thread = rtos::Thread::create({.name = "worker", .priority = 6}, worker, &w[i], 4096);
    }
    for (auto& x : w) {
        x.thread->join();
        SIM_CHECK_EQ(x.failures, 0u);
        SIM_CHECK_EQ(x.ops, 24u);
    }
    e.stop_device_thread();
    // Several requests were in flight at once (completed in one batch).
    if (queue_num_max >= 64) SIM_CHECK(e.max_batch >= kWorkers);
    else SIM_CHECK(e.max_batch >= 1);
    SIM_CHECK(e.fake.status() & virtio::VIRTIO_STATUS_DRIVER_OK);
    SIM_CHECK(e.model.seen.size() > kWorkers * 24);
    check_clean(e);
}

void concurrent_big_queue() { concurrent(1024); }
void concurrent_small_queue() { concurrent(4); }  // fewer slots than threads

// ---- case 8: the asynchronous API ----

struct Async {
    rtos::block::BlockRequest req;
    std::vector<std::uint8_t> buf;
};
std::vector<int> g_order;  // indices in completion order

void record(rtos::block::BlockRequest& r) {
    g_order.push_back(static_cast<int>(reinterpret_cast<std::intptr_t>(r.context)));
}

const virtio::Virtqueue::Stats& queue_stats() {
    // The block device's queue, found through the device registry.
    return virtio::Device::first()->queue(0).stats();
}

// One batch of reads: one notification, completions in any order, each with
// its own status (a device error on one does not touch the others).
void async_batch() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.process_on_notify = false;
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    for (std::size_t i = 0; i < e.model.disk.size(); ++i)
        e.model.disk[i] = static_cast<std::uint8_t>(i * 13 + (i >> 9));
    e.fake.complete_in_reverse = true;
    e.model.ioerr_sector = 16 * 5;  // request 5 fails

    constexpr int kN = 8;
    Async a[kN];
    rtos::block::BlockRequest* batch[kN];
    g_order.clear();
    for (int i = 0; i < kN; ++i) {
        a[i].buf.assign(4096, 0xee);
        a[i].req.op = rtos::block::BlockRequest::Op::read;
        a[i].req.lba = 16 * static_cast<std::uint64_t>(i);
        a[i].req.count = 8;
        a[i].req.buf = a[i].buf.data();
        a[i].req.on_done = record;
        a[i].req.context = reinterpret_cast<void*>(static_cast<std::intptr_t>(i));
        batch[i] = &a[i].req;
    }
    SIM_CHECK_STATUS(e.dev->submit(std::span<rtos::block::BlockRequest* const>(batch, kN)),
                     Status::ok);
    for (auto& x : a) SIM_CHECK(!x.req.done());
    SIM_CHECK_EQ(e.fake.notifications(0), 1u);  // one kick for the batch
    SIM_CHECK_EQ(queue_stats().kicks, 1u);
    SIM_CHECK_EQ(queue_stats().inflight_max, static_cast<std::uint32_t>(kN));

    e.process_now();                     // all used, in reverse order
    if (!g_irq) rtos::Thread::sleep(3);  // the poll timer finds them
    SIM_CHECK_EQ(g_order.size(), static_cast<std::size_t>(kN));
    for (int i = 0; i < kN && g_order.size() == kN; ++i) SIM_CHECK_EQ(g_order[i], kN - 1 - i);
    for (int i = 0; i < kN; ++i) {
        SIM_CHECK(a[i].req.done());
        if (i == 5) {
            SIM_CHECK_STATUS(a[i].req.status, Status::io_error);
            continue;
        }
        SIM_CHECK_STATUS(a[i].req.status, Status::ok);
        SIM_CHECK(std::memcmp(a[i].buf.data(), &e.model.disk[a[i].req.lba * 512], 4096) == 0);
    }
    const virtio::Virtqueue::Stats& st = queue_stats();
    SIM_CHECK_EQ(st.used, static_cast<std::uint32_t>(kN));
    SIM_CHECK_EQ(st.irqs, g_irq ? 1u : 0u);  // one interrupt for the whole batch
    rtos::block::BlockDevice::Counters c{};
    SIM_CHECK(e.dev->counters(c));
    SIM_CHECK_EQ(c.kicks, 1u);
    SIM_CHECK_EQ(c.irqs, g_irq ? 1u : 0u);

    // Waitable handles, and a request refused before the device: it
    // completes at once with its own status, the others go on.
    rtos::block::BlockRequest w[3];
    std::vector<std::uint8_t> wb(3 * 512);
    for (int i = 0; i < 3; ++i) {
        w[i].op = rtos::block::BlockRequest::Op::write;
        w[i].lba = 900 + static_cast<std::uint64_t>(i);
        w[i].count = 1;
        w[i].buf = &wb[512 * static_cast<std::size_t>(i)];
        wb[512 * static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(0x60 + i);
    }
    w[1].lba = 5000;  // beyond the disk
    rtos::block::BlockRequest* wp[] = {&w[0], &w[1], &w[2]};
    e.fake.process_on_notify = true;
    SIM_CHECK_STATUS(e.dev->submit(wp), Status::out_of_range);
    SIM_CHECK(w[1].done());
    SIM_CHECK_STATUS(e.dev->wait(w[1]), Status::out_of_range);
    SIM_CHECK_STATUS(e.dev->wait(w[0]), Status::ok);
    SIM_CHECK_STATUS(e.dev->wait(w[2]), Status::ok);
    SIM_CHECK_EQ(e.model.disk[900 * 512], 0x60);
    SIM_CHECK_EQ(e.model.disk[902 * 512], 0x62);
    // A request object is reusable once done; a stale completion token does
    // not end the next wait early.
    w[0].lba = 903;
    SIM_CHECK_STATUS(e.dev->submit(w[0]), Status::ok);
    SIM_CHECK_STATUS(e.dev->wait(w[0]), Status::ok);
    SIM_CHECK_EQ(e.model.disk[903 * 512], 0x60);
    check_clean(e);
}

// Queue depth 1: one notification per request, at most one interrupt.
void async_depth_one() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    virtio::Device::first()->queue(0).reset_stats();
    std::vector<std::uint8_t> buf(4096);
    for (int i = 0; i < 20; ++i) SIM_CHECK_STATUS(e.dev->read(8 * i, 8, buf.data()), Status::ok);
    const virtio::Virtqueue::Stats& st = queue_stats();
    SIM_CHECK_EQ(st.kicks, 20u);
    SIM_CHECK_EQ(st.suppressed, 0u);
    SIM_CHECK_EQ(st.used, 20u);
    SIM_CHECK_EQ(st.inflight_max, 1u);
    SIM_CHECK_EQ(st.irqs, g_irq ? 20u : 0u);
    SIM_CHECK_EQ(e.fake.notifications(0), 20u);
    check_clean(e);
}

// More requests than the queue holds, from one thread: submit waits for
// slots (notifying the device of what it queued first) and all complete.
void async_queue_full() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.queue_num_max = 4;
    s.process_on_notify = false;
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    e.fake.complete_in_reverse = true;
    e.start_device_thread();
    constexpr int kN = 12;
    Async a[kN];
    rtos::block::BlockRequest* batch[kN];
    g_order.clear();
    for (int i = 0; i < kN; ++i) {
        a[i].buf.assign(1024, static_cast<std::uint8_t>(i + 1));
        a[i].req.op = rtos::block::BlockRequest::Op::write;
        a[i].req.lba = 2 * static_cast<std::uint64_t>(i);
        a[i].req.count = 2;
        a[i].req.buf = a[i].buf.data();
        a[i].req.on_done = record;
        a[i].req.context = reinterpret_cast<void*>(static_cast<std::intptr_t>(i));
        batch[i] = &a[i].req;
    }
    SIM_CHECK_STATUS(e.dev->submit(std::span<rtos::block::BlockRequest* const>(batch, kN)),
                     Status::ok);
    for (int i = 0; i < kN; ++i) {
        SIM_CHECK_STATUS(e.dev->wait(a[i].req), Status::ok);  // waits though it has a callback
        SIM_CHECK_EQ(e.model.disk[a[i].req.lba * 512 + 1023], static_cast<std::uint8_t>(i + 1));
    }
    e.stop_device_thread();
    SIM_CHECK_EQ(g_order.size(), static_cast<std::size_t>(kN));
    SIM_CHECK(queue_stats().inflight_max <= 4u);
    SIM_CHECK_EQ(queue_stats().used, static_cast<std::uint32_t>(kN));
    check_clean(e);
}

// ---- case 9: polled completions (CONFIG_BLK_POLL) ----

// Polled requests at depth 1 on a device that completes at once: one
// notification each, no interrupt counted, the data right; afterwards an
// ordinary request gets its interrupt again.
void polled_depth_one() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    const auto data = pattern(8 * 20, 9);
    std::memcpy(e.model.disk.data(), data.data(), data.size());
    virtio::Device::first()->queue(0).reset_stats();
    Async a;
    a.buf.assign(4096, 0);
    for (int i = 0; i < 20; ++i) {  // one request object, reused
        a.req.op = rtos::block::BlockRequest::Op::read;
        a.req.lba = 8 * static_cast<std::uint64_t>(i);
        a.req.count = 8;
        a.req.buf = a.buf.data();
        a.req.poll = true;
        SIM_CHECK_STATUS(e.dev->submit(a.req), Status::ok);
        SIM_CHECK_STATUS(e.dev->wait(a.req), Status::ok);
        SIM_CHECK(!a.req.polling);
        SIM_CHECK(std::memcmp(a.buf.data(), data.data() + i * 4096, 4096) == 0);
    }
    SIM_CHECK_EQ(queue_stats().kicks, 20u);
    SIM_CHECK_EQ(queue_stats().used, 20u);
    SIM_CHECK_EQ(queue_stats().irqs, 0u);
    std::vector<std::uint8_t> buf(512);
    SIM_CHECK_STATUS(e.dev->read(0, 1, buf.data()), Status::ok);
    SIM_CHECK_EQ(queue_stats().irqs, g_irq ? 1u : 0u);
    check_clean(e);
}

// A polled request holds the interrupt off from its submission; another
// thread's ordinary request that completes meanwhile is not left waiting
// for the poller (the tick timer takes it), and the polled one, done before
// its wait, still hands the interrupt back when it is waited for.
void polled_does_not_strand_others() {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.process_on_notify = false;
    Env& e = boot(s);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    e.model.disk[77 * 512] = 0x77;
    Job warm;  // past the device's first used entry, which it always signals
    start_read(warm, 1, 3);
    e.process_now();
    warm.thread->join();
    virtio::Device::first()->queue(0).reset_stats();
    Async p;
    p.buf.assign(512, 0);
    p.req.op = rtos::block::BlockRequest::Op::read;
    p.req.lba = 5;
    p.req.count = 1;
    p.req.buf = p.buf.data();
    p.req.poll = true;
    SIM_CHECK_STATUS(e.dev->submit(p.req), Status::ok);
    SIM_CHECK_EQ(p.req.polling, g_irq);  // armed only where there is an interrupt to hold off
    Job r;
    start_read(r, 77, 3);  // blocks in its wait
    SIM_CHECK(!r.done);
    e.start_device_thread();
    const rtos::Tick t0 = rtos::clock::ticks();
    while (!r.done && rtos::clock::ticks() - t0 < kTimeoutTicks) rtos::Thread::sleep(1);
    SIM_CHECK(r.done);
    SIM_CHECK_STATUS(r.result, Status::ok);
    SIM_CHECK(rtos::clock::ticks() - t0 <= 4);  // a tick or two, not the request timeout
    SIM_CHECK_EQ(r.buf[0], 0x77);
    SIM_CHECK_EQ(queue_stats().irqs, 0u);  // the timer took them, not an interrupt
    SIM_CHECK(p.req.done());
    SIM_CHECK_STATUS(e.dev->wait(p.req), Status::ok);
    SIM_CHECK(!p.req.polling);
    // The interrupt is back: an ordinary request is signalled again.
    e.stop_device_thread();
    virtio::Device::first()->queue(0).reset_stats();
    Job q;
    start_read(q, 78, 3);
    e.process_now();
    q.thread->join();
    SIM_CHECK_STATUS(q.result, Status::ok);
    SIM_CHECK_EQ(queue_stats().irqs, g_irq ? 1u : 0u);
    check_clean(e);
}

// ---- gtest glue ----

struct Mode {
    std::uint32_t layout;
    bool irq;
};
const char* layout_name(std::uint32_t layout) {
    return layout == rig::kLegacy ? "legacy" : layout == rig::kPacked ? "packed" : "modern";
}
void PrintTo(const Mode& m, std::ostream* os) {
    *os << layout_name(m.layout) << (m.irq ? " irq" : " polling");
}

// ---- multiqueue (VIRTIO_BLK_F_MQ) ----

// A device with `offered` num_queues and `queues` real ones; the boot line
// names the queues used. One CPU: every request goes on queue 0, and the
// other queues are live and empty.
Env& mq_boot(std::uint16_t offered, std::uint16_t queues) {
    Setup s;
    s.version = g_version;
    s.irq = g_irq;
    s.features = feature_bit(F_MQ);
    s.num_queues = queues;
    s.mq_queues = offered;
    return boot(s);
}

void mq_round_trip(Env& e, unsigned used_queues) {
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    auto data = pattern(8, 3);
    SIM_CHECK_STATUS(e.dev->write(40, 8, data.data()), Status::ok);
    std::vector<std::uint8_t> back(8 * 512);
    SIM_CHECK_STATUS(e.dev->read(40, 8, back.data()), Status::ok);
    SIM_CHECK(back == data);
    SIM_CHECK(std::memcmp(&e.model.disk[40 * 512], data.data(), data.size()) == 0);
    SIM_CHECK_EQ(e.fake.queue(0).chains, e.model.seen.size());
    for (unsigned q = 1; q < used_queues; ++q) {
        SIM_CHECK(e.fake.queue(static_cast<std::uint16_t>(q)).live);
        SIM_CHECK_EQ(e.fake.queue(static_cast<std::uint16_t>(q)).chains, 0u);
    }
    check_clean(e);
}

void multiqueue() {
    host_log::LogCapture log;
    Env& e = mq_boot(3, 3);
    SIM_CHECK(log.contains(boot_line_end("vda 1024 sectors", "mq", 3)));
    mq_round_trip(e, 3);
}

// More than CONFIG_VIRTIO_BLK_MAX_QUEUES (4 in the host configs): the rest
// stay unused (not live).
void multiqueue_clamped() {
    host_log::LogCapture log;
    Env& e = mq_boot(6, 6);
    SIM_CHECK(log.contains(boot_line_end("vda 1024 sectors", "mq", 4)));
    mq_round_trip(e, 4);
    SIM_CHECK(!e.fake.queue(4).live);
}

void multiqueue_zero() {
    host_log::LogCapture log;
    Env& e = mq_boot(0, 2);
    SIM_CHECK(log.contains("ignoring impossible num_queues 0"));
    SIM_CHECK(log.contains(boot_line_end("vda 1024 sectors", "mq", 1)));
    mq_round_trip(e, 1);
}

// num_queues names a queue the device does not have (QueueNumMax 0): the
// device is refused, nothing registered.
void multiqueue_missing_queue() {
    host_log::LogCapture log;
    Env& e = mq_boot(3, 2);
    SIM_CHECK(log.contains("queue 2 unavailable"));
    SIM_CHECK(e.dev == nullptr);
}

// Polling per queue: a polled request holds off the interrupts of its own
// queue only; the other queues keep theirs, and everything is back on once
// it is waited for.
void multiqueue_polled() {
    Env& e = mq_boot(3, 3);
    SIM_CHECK(e.dev != nullptr);
    if (!e.dev) return;
    virtio::Device& d = *virtio::Device::first();
    e.model.disk[21 * 512] = 0x21;
    e.fake.process_on_notify = false;
    d.queue(0).reset_stats();
    Async p;
    p.buf.assign(512, 0);
    p.req.op = rtos::block::BlockRequest::Op::read;
    p.req.lba = 21;
    p.req.count = 1;
    p.req.buf = p.buf.data();
    p.req.poll = true;
    SIM_CHECK_STATUS(e.dev->submit(p.req), Status::ok);
    SIM_CHECK_EQ(p.req.polling, g_irq);
    SIM_CHECK_EQ(d.queue(0).interrupts_enabled(), !g_irq);  // one CPU: queue 0
    SIM_CHECK(d.queue(1).interrupts_enabled());
    SIM_CHECK(d.queue(2).interrupts_enabled());
    e.process_now();
    SIM_CHECK_STATUS(e.dev->wait(p.req), Status::ok);
    SIM_CHECK(!p.req.polling);
    SIM_CHECK_EQ(p.buf[0], 0x21);
    for (unsigned q = 0; q < 3; ++q) SIM_CHECK(d.queue(q).interrupts_enabled());
    SIM_CHECK_EQ(queue_stats().irqs, 0u);
    e.fake.process_on_notify = true;
    std::vector<std::uint8_t> buf(512);
    SIM_CHECK_STATUS(e.dev->read(0, 1, buf.data()), Status::ok);
    SIM_CHECK_EQ(queue_stats().irqs, g_irq ? 1u : 0u);
    mq_round_trip(e, 3);
}

std::vector<Mode> modes() {
    std::vector<Mode> m;
    for (auto v : rig::enabled_layouts()) {
        m.push_back({v, true});
        m.push_back({v, false});
    }
    return m;
}

std::string mode_name(const testing::TestParamInfo<Mode>& i) {
    return std::string(layout_name(i.param.layout)) + (i.param.irq ? "_irq" : "_polling");
}

class VirtioBlk : public testing::TestWithParam<Mode> {
protected:
    int run(void (*scenario)()) {
        g_layout = GetParam().layout;
        g_version = rig::mmio_version(g_layout);
        driver_test::offer_packed_default = g_layout == rig::kPacked;
        g_irq = GetParam().irq;
        return sim::run_isolated(scenario);
    }
};

TEST_P(VirtioBlk, RoundTripsAndSplitting) { EXPECT_EQ(run(round_trip), 0); }
TEST_P(VirtioBlk, DefaultRequestLimitAndIgnoredConfig) { EXPECT_EQ(run(default_split), 0); }
TEST_P(VirtioBlk, SizeMaxAloneSplits) { EXPECT_EQ(run(size_max_alone_splits), 0); }
TEST_P(VirtioBlk, ModelFailsRequestsBeyondSizeMax) {
    EXPECT_EQ(run(model_fails_requests_beyond_size_max), 0);
}
TEST_P(VirtioBlk, OutOfRangeAndReadOnlyRefusedEarly) { EXPECT_EQ(run(refused_early), 0); }
TEST_P(VirtioBlk, DeviceStatusValues) { EXPECT_EQ(run(status_values), 0); }
TEST_P(VirtioBlk, UsedIdOutOfRange) {
    g_fault = fake::UsedFault::id_out_of_range;
    EXPECT_EQ(run(misbehaving_device), 0);
}
TEST_P(VirtioBlk, UsedIdNotInFlight) {
    g_fault = fake::UsedFault::id_not_in_flight;
    EXPECT_EQ(run(misbehaving_device), 0);
}
TEST_P(VirtioBlk, UsedLenTooBig) {
    g_fault = fake::UsedFault::len_too_big;
    EXPECT_EQ(run(misbehaving_device), 0);
}
TEST_P(VirtioBlk, NeverCompletesTimesOutAndReinitialises) { EXPECT_EQ(run(never_completes), 0); }
TEST_P(VirtioBlk, SlotWaiterGoesToTheReinitialisedDevice) {
    EXPECT_EQ(run(waiter_after_timeout), 0);
}
TEST_P(VirtioBlk, NeedsResetFailsInFlightAndReinitialises) {
    EXPECT_EQ(run(needs_reset_recovers), 0);
}
TEST_P(VirtioBlk, FeaturesRefusedAtStartNotTaken) {
    if (GetParam().layout == rig::kLegacy) GTEST_SKIP() << "legacy devices have no FEATURES_OK";
    EXPECT_EQ(run(features_refused_at_start), 0);
}
TEST_P(VirtioBlk, NeedsResetThenFeaturesRefusedGoesOffline) {
    if (GetParam().layout == rig::kLegacy) GTEST_SKIP() << "no DEVICE_NEEDS_RESET, no FEATURES_OK";
    EXPECT_EQ(run(needs_reset_refused_goes_offline), 0);
}
TEST_P(VirtioBlk, CapacityBeyond2To48Refused) { EXPECT_EQ(run(capacity_too_big), 0); }
TEST_P(VirtioBlk, Capacity2To48Accepted) { EXPECT_EQ(run(capacity_limit_accepted), 0); }
TEST_P(VirtioBlk, HugeBlockSizeIgnored) { EXPECT_EQ(run(blk_size_too_big), 0); }
TEST_P(VirtioBlk, ConcurrentThreads) { EXPECT_EQ(run(concurrent_big_queue), 0); }
TEST_P(VirtioBlk, AsyncBatchOneKickOutOfOrderPerRequestErrors) { EXPECT_EQ(run(async_batch), 0); }
TEST_P(VirtioBlk, AsyncDepthOneKickPerRequest) { EXPECT_EQ(run(async_depth_one), 0); }
TEST_P(VirtioBlk, AsyncSubmitWaitsForSlots) { EXPECT_EQ(run(async_queue_full), 0); }
TEST_P(VirtioBlk, ConcurrentThreadsFewSlots) { EXPECT_EQ(run(concurrent_small_queue), 0); }
TEST_P(VirtioBlk, MultiqueueQueuesSetUpAndUsed) { EXPECT_EQ(run(multiqueue), 0); }
TEST_P(VirtioBlk, MultiqueueClampedToMaxQueues) { EXPECT_EQ(run(multiqueue_clamped), 0); }
TEST_P(VirtioBlk, MultiqueueZeroQueuesMeansOne) { EXPECT_EQ(run(multiqueue_zero), 0); }
TEST_P(VirtioBlk, MultiqueueMoreThanTheDeviceHasRefused) {
    EXPECT_EQ(run(multiqueue_missing_queue), 0);
}
TEST_P(VirtioBlk, PolledDepthOneWithoutInterrupts) { EXPECT_EQ(run(polled_depth_one), 0); }
TEST_P(VirtioBlk, PolledRequestDoesNotStrandOthers) {
    EXPECT_EQ(run(polled_does_not_strand_others), 0);
}
TEST_P(VirtioBlk, MultiqueuePolledHoldsOffItsQueueOnly) { EXPECT_EQ(run(multiqueue_polled), 0); }

INSTANTIATE_TEST_SUITE_P(Layouts, VirtioBlk, testing::ValuesIn(modes()), mode_name);

// The model's limits on their own: data segments are counted past the
// header and before the status byte, wherever the descriptors split them.
TEST(BlkModel, SizeMaxAndSegMaxCountDataSegments) {
    BlkModel m(16);
    m.size_max = 1024;
    m.seg_max = 2;
    std::uint8_t in_header[16] = {T_IN}, out_header[16 + 512] = {T_OUT};
    std::vector<std::uint8_t> a(512), b(1024), c(2048);
    std::uint8_t status = 0xff;
    auto serve = [&](std::vector<std::span<const std::uint8_t>> readable,
                     std::vector<std::span<std::uint8_t>> writable) {
        fake::Chain chain;
        chain.readable = std::move(readable);
        chain.writable = std::move(writable);
        status = 0xff;
        m.serve(chain);
        return status;
    };
    EXPECT_EQ(serve({in_header}, {a, b, {&status, 1}}), S_OK);
    EXPECT_EQ(m.seen.back().data_segments, 2u);
    EXPECT_EQ(m.seen.back().largest_segment, 1024u);
    EXPECT_TRUE(m.errors.empty());
    EXPECT_EQ(serve({in_header}, {c, {&status, 1}}), S_IOERR);        // 2048 > size_max
    EXPECT_EQ(serve({in_header}, {a, a, a, {&status, 1}}), S_IOERR);  // 3 > seg_max
    EXPECT_EQ(m.errors.size(), 2u);
    // Header and data in one descriptor: one data segment of 512 bytes.
    EXPECT_EQ(serve({out_header}, {{&status, 1}}), S_OK);
    EXPECT_EQ(m.seen.back().data_segments, 1u);
    EXPECT_EQ(m.seen.back().largest_segment, 512u);
    EXPECT_EQ(m.errors.size(), 2u);
}

}  // namespace
