// virtio-blk (5.2 Block Device) on the generic block interface: requests from
// any number of threads in flight at once, completion by interrupt, device
// answers checked before they are believed.
#include <new>

#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/critical.hpp>
#include <rtos/format.hpp>
#include <rtos/irq.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/thread.hpp>

#include "drivers/block/block_device.hpp"
#include "drivers/virtio/config.hpp"
#include "drivers/virtio/driver.hpp"
#include "drivers/virtio/hal.hpp"

namespace virtio {
namespace {

// 5.2.3 Feature bits.
constexpr unsigned VIRTIO_BLK_F_SIZE_MAX = 1;
constexpr unsigned VIRTIO_BLK_F_SEG_MAX = 2;
constexpr unsigned VIRTIO_BLK_F_RO = 5;
constexpr unsigned VIRTIO_BLK_F_BLK_SIZE = 6;
constexpr unsigned VIRTIO_BLK_F_FLUSH = 9;

// 5.2.4 Device configuration layout (byte offsets).
constexpr std::uint32_t kCfgCapacity = 0;
constexpr std::uint32_t kCfgSizeMax = 8;
constexpr std::uint32_t kCfgSegMax = 12;
constexpr std::uint32_t kCfgBlkSize = 20;

// 5.2.6 Request types and status values.
constexpr std::uint32_t VIRTIO_BLK_T_IN = 0;
constexpr std::uint32_t VIRTIO_BLK_T_OUT = 1;
constexpr std::uint32_t VIRTIO_BLK_T_FLUSH = 4;
constexpr std::uint32_t VIRTIO_BLK_T_GET_ID = 8;
constexpr std::uint8_t VIRTIO_BLK_S_OK = 0;
constexpr std::uint8_t VIRTIO_BLK_S_IOERR = 1;
constexpr std::uint8_t VIRTIO_BLK_S_UNSUPP = 2;
constexpr std::uint8_t kStatusUnwritten = 0xff;
constexpr std::uint32_t kIdBytes = 20;

// Capacities beyond 2^48 sectors (128 PiB) are not a real disk.
constexpr std::uint64_t kMaxPlausibleSectors = std::uint64_t{1} << 48;
// Largest data segment of one request when the device sets no size_max.
constexpr std::uint32_t kDefaultMaxBytes = 128 * 1024;
constexpr std::uint32_t kRequestTimeoutMs = CONFIG_VIRTIO_BLK_TIMEOUT_MS;

constexpr std::uint64_t kDriverFeatures =
    feature_bit(VIRTIO_BLK_F_SIZE_MAX) | feature_bit(VIRTIO_BLK_F_SEG_MAX) |
    feature_bit(VIRTIO_BLK_F_RO) | feature_bit(VIRTIO_BLK_F_BLK_SIZE) |
    feature_bit(VIRTIO_BLK_F_FLUSH);

struct RequestHeader {  // 5.2.6: le32 type, le32 reserved, le64 sector
    std::uint32_t type;
    std::uint32_t reserved;
    std::uint64_t sector;
};
static_assert(sizeof(RequestHeader) == 16);

// One request slot; lives in DMA memory (the header and status byte are
// read and written by the device).
struct Request {
    RequestHeader header;
    volatile std::uint8_t status;
    bool completed;
    bool failed;  // the queue broke or the device was reset under it
    std::uint32_t used_len;
    Request* next_free;
    rtos::BinarySemaphore done;
};

class VirtioBlk final : public rtos::BlockDevice {
public:
    explicit VirtioBlk(Transport& t) : dev_(t) {}

    bool start(const Found& found);

protected:
    rtos::Status do_read(std::uint64_t lba, std::uint32_t count, void* buf) override {
        return transfer(VIRTIO_BLK_T_IN, lba, count, buf);
    }
    rtos::Status do_write(std::uint64_t lba, std::uint32_t count, const void* buf) override {
        return transfer(VIRTIO_BLK_T_OUT, lba, count, const_cast<void*>(buf));
    }
    rtos::Status do_flush() override { return submit(VIRTIO_BLK_T_FLUSH, 0, nullptr, 0); }
    rtos::Status do_get_id(char* buf, std::size_t size) override;

private:
    rtos::Status transfer(std::uint32_t type, std::uint64_t lba, std::uint32_t count, void* buf);
    rtos::Status submit(std::uint32_t type, std::uint64_t sector, void* data, std::uint32_t len);
    rtos::Status wait(Request* r);
    void fail_all(const char* why);
    static void on_requestq(void* ctx, Virtqueue& q);
    static void isr(void* ctx) { static_cast<VirtioBlk*>(ctx)->dev_.handle_interrupt(); }

    Device dev_;
    Request* requests_ = nullptr;
    Request* free_ = nullptr;
    rtos::Semaphore free_count_{0};
    std::uint32_t max_sectors_ = kDefaultMaxBytes / kSectorSize;
    bool interrupts_ = false;
    volatile bool broken_ = false;
};

void VirtioBlk::on_requestq(void* ctx, Virtqueue& q) {
    auto* self = static_cast<VirtioBlk*>(ctx);
    for (;;) {
        Result<Completion> c = q.pop_used();
        if (c.error == Error::empty) return;
        if (!c.ok()) {  // device_error / broken: logged by the queue
            self->fail_all("the device broke the ring protocol");
            return;
        }
        auto* r = static_cast<Request*>(c.value.token);
        r->used_len = c.value.len;
        r->completed = true;
        r->done.give_from_isr();
    }
}

// Stops the device (no more DMA into our buffers) and fails every request
// still in flight. Called with interrupts masked or from the ISR.
void VirtioBlk::fail_all(const char* why) {
    if (!broken_) rtos::printk("%s: %s; failing all requests\n", name_, why);
    broken_ = true;
    dev_.reset();
    for (;;) {
        Result<void*> t = dev_.queue(0).reclaim();
        if (!t.ok()) break;
        auto* r = static_cast<Request*>(t.value);
        r->failed = true;
        r->done.give_from_isr();
    }
}

rtos::Status VirtioBlk::wait(Request* r) {
    const rtos::Tick timeout = rtos::clock::ms_to_ticks(kRequestTimeoutMs);
    if (interrupts_) {
        if (r->done.take(rtos::Timeout::ticks(timeout)) == rtos::Status::ok) return rtos::Status::ok;
    } else {
        // No interrupt line: poll the used ring.
        for (rtos::Tick waited = 0; waited < timeout; ++waited) {
            {
                rtos::IrqLock lock;
                on_requestq(this, dev_.queue(0));
            }
            if (r->done.take(rtos::Timeout::none()) == rtos::Status::ok) return rtos::Status::ok;
            rtos::Thread::sleep(1);
        }
    }
    rtos::IrqLock lock;
    if (r->completed || r->failed) {  // finished just now
        r->done.take(rtos::Timeout::none());
        return rtos::Status::ok;
    }
    fail_all("request timed out");
    return rtos::Status::timeout;
}

rtos::Status VirtioBlk::submit(std::uint32_t type, std::uint64_t sector, void* data,
                               std::uint32_t len) {
    if (broken_) return rtos::Status::io_error;
    if (free_count_.take(rtos::Timeout::ticks(rtos::clock::ms_to_ticks(kRequestTimeoutMs))) !=
        rtos::Status::ok)
        return rtos::Status::timeout;
    Request* r;
    {
        rtos::IrqLock lock;
        r = free_;
        free_ = r->next_free;
    }
    r->header = {type, 0, sector};
    r->status = kStatusUnwritten;
    r->completed = r->failed = false;
    r->used_len = 0;

    OutSegment out[2] = {{&r->header, sizeof(r->header)}};
    InSegment in[2];
    std::size_t n_out = 1, n_in = 0;
    if (len && type == VIRTIO_BLK_T_OUT) out[n_out++] = {data, len};
    if (len && type != VIRTIO_BLK_T_OUT) in[n_in++] = {data, len};
    in[n_in++] = {const_cast<std::uint8_t*>(&r->status), 1};

    rtos::Status result = rtos::Status::ok;
    {
        rtos::IrqLock lock;
        // The device may have been reset (fail_all) while this thread waited
        // for a free slot: a timeout does not mark the queue broken, so
        // add_buffer() would succeed and the kick would go to a reset device,
        // leaving this request to time out too. Fail it here instead.
        if (broken_) {
            result = rtos::Status::io_error;
        } else {
            Result<std::uint16_t> added = dev_.queue(0).add_buffer(
                std::span<const OutSegment>(out, n_out), std::span<const InSegment>(in, n_in), r);
            if (added.ok()) dev_.queue(0).kick();
            else result = rtos::Status::io_error;
        }
    }
    if (result == rtos::Status::ok) result = wait(r);
    if (result == rtos::Status::ok) {
        if (r->failed) result = rtos::Status::io_error;
        else if (r->status == VIRTIO_BLK_S_OK) result = rtos::Status::ok;
        else if (r->status == VIRTIO_BLK_S_UNSUPP) result = rtos::Status::unsupported;
        else if (r->status == VIRTIO_BLK_S_IOERR) result = rtos::Status::io_error;
        else {
            rtos::printk("%s: impossible request status %u\n", name_, r->status);
            result = rtos::Status::io_error;
        }
    }
    if (result == rtos::Status::timeout) return result;  // the slot is lost with the device
    {
        rtos::IrqLock lock;
        r->next_free = free_;
        free_ = r;
    }
    free_count_.give();
    return result;
}

rtos::Status VirtioBlk::transfer(std::uint32_t type, std::uint64_t lba, std::uint32_t count,
                                 void* buf) {
    auto* p = static_cast<std::uint8_t*>(buf);
    while (count) {
        std::uint32_t n = count < max_sectors_ ? count : max_sectors_;
        rtos::Status s = submit(type, lba, p, n * kSectorSize);
        if (s != rtos::Status::ok) return s;
        lba += n;
        p += std::size_t{n} * kSectorSize;
        count -= n;
    }
    return rtos::Status::ok;
}

rtos::Status VirtioBlk::do_get_id(char* buf, std::size_t size) {
    char* id = static_cast<char*>(hal::dma_alloc(kIdBytes, 16));
    if (!id) return rtos::Status::no_memory;
    rtos::Status s = submit(VIRTIO_BLK_T_GET_ID, 0, id, kIdBytes);
    if (s == rtos::Status::ok) {
        // The ID is NUL-terminated only when shorter than 20 bytes.
        std::size_t i = 0;
        for (; i + 1 < size && i < kIdBytes && id[i]; ++i)
            buf[i] = (id[i] >= 0x20 && id[i] < 0x7f) ? id[i] : '?';
        buf[i] = '\0';
    }
    hal::dma_free(id);
    return s;
}

bool VirtioBlk::start(const Found& found) {
    snprintf(name_, sizeof(name_), "vd%c", 'a' + static_cast<char>(found.index % 26));
    const Device::QueueSpec queues[] = {{config::blk_queue_size, &VirtioBlk::on_requestq, this}};
    if (dev_.start({.features = kDriverFeatures, .queues = queues}) != Error::ok) return false;

    std::uint64_t capacity = 0;
    std::uint32_t size_max = 0, seg_max = 0, blk_size = 0;
    Error e = dev_.read_config_consistent([&](Transport& t) {
        capacity = t.config_read64(kCfgCapacity);
        if (dev_.has_feature(VIRTIO_BLK_F_SIZE_MAX)) size_max = t.config_read32(kCfgSizeMax);
        if (dev_.has_feature(VIRTIO_BLK_F_SEG_MAX)) seg_max = t.config_read32(kCfgSegMax);
        if (dev_.has_feature(VIRTIO_BLK_F_BLK_SIZE)) blk_size = t.config_read32(kCfgBlkSize);
    });
    if (e != Error::ok || capacity > kMaxPlausibleSectors) {
        rtos::printk("%s: impossible configuration (capacity %llu sectors), device refused\n",
               dev_.name(), static_cast<unsigned long long>(capacity));
        dev_.fail();
        dev_.shutdown();
        return false;
    }
    (void)seg_max;  // one data segment per request: always within seg_max (>= 1)
    if (size_max) {
        if (size_max < kSectorSize) {
            rtos::printk("%s: ignoring impossible size_max %u\n", dev_.name(), size_max);
        } else if (size_max / kSectorSize < max_sectors_) {
            max_sectors_ = size_max / kSectorSize;
        }
    }
    if (blk_size && (blk_size < kSectorSize || blk_size > 65536 || (blk_size & (blk_size - 1)))) {
        rtos::printk("%s: ignoring impossible block size %u\n", dev_.name(), blk_size);
        blk_size = 0;
    }
    info_ = {capacity, blk_size ? blk_size : kSectorSize, dev_.has_feature(VIRTIO_BLK_F_RO),
             dev_.has_feature(VIRTIO_BLK_F_FLUSH)};

    // Requests in flight: one descriptor each with indirect tables, else up
    // to three (header, data, status).
    Virtqueue& q = dev_.queue(0);
    unsigned slots = q.uses_indirect() ? q.size() : q.size() / 3;
    if (slots == 0) slots = 1;
    requests_ = static_cast<Request*>(hal::dma_alloc(sizeof(Request) * slots, 64));
    if (!requests_) {
        rtos::printk("%s: out of memory for %u request slots\n", dev_.name(), slots);
        dev_.fail();
        dev_.shutdown();
        return false;
    }
    for (unsigned i = 0; i < slots; ++i) {
        Request* r = new (&requests_[i]) Request{};
        r->next_free = free_;
        free_ = r;
        free_count_.give();
    }
#if defined(CONFIG_VIRTIO_BLK_POLLED)
    interrupts_ = false;  // completions are polled by the waiting thread
#else
    interrupts_ = rtos::irq::attach(found.irq, &VirtioBlk::isr, this);
    if (!interrupts_) rtos::printk("%s: interrupt %u unavailable, polling\n", dev_.name(), found.irq);
#endif

    char extra[64];
    snprintf(extra, sizeof(extra), " %s %llu sectors%s", name_,
             static_cast<unsigned long long>(capacity), info_.read_only ? " ro" : "");
    announce(found, dev_, extra);
    rtos::BlockDevice::add(this);
    return true;
}

bool probe(const Found& found) { return start_in_dma_memory<VirtioBlk>(found) != nullptr; }

}  // namespace

VIRTIO_DRIVER(blk, VIRTIO_ID_BLOCK, probe);

}  // namespace virtio
