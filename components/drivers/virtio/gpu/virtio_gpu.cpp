// virtio-gpu 2D (VirtIO 1.2 section 5.7): one scanout shown from one 2D
// resource whose backing is a framebuffer in DMA memory, behind the display
// framebuffer API (drivers/display/framebuffer.hpp).
//
// Start: GET_DISPLAY_INFO (and GET_EDID when VIRTIO_GPU_F_EDID is offered)
// give the mode: the first enabled scanout's size as the device reports it
// (QEMU: -device virtio-gpu-device,xres=..,yres=..), else the EDID's
// preferred mode. Then RESOURCE_CREATE_2D (B8G8R8X8), ATTACH_BACKING (one
// entry: dma_alloc memory is physically contiguous), SET_SCANOUT, and the
// cleared screen is flushed. A flush is TRANSFER_TO_HOST_2D + RESOURCE_FLUSH
// of the damaged rectangle only.
//
// Control requests are synchronous, one at a time under a mutex, each with a
// timeout (CONFIG_VIRTIO_GPU_TIMEOUT_MS); the cursor queue is not used. A
// flush's caller may give up waiting (Framebuffer::StopFn, Ctrl-C): its
// request stays with the device, and the next request waits for it first
// (req_ and resp_ are not reused before the device is done with them).
// Every response is checked: at least a header, the expected OK_* type
// (an ERR_* type is logged by name), at least the size of that type, and
// display counts and sizes within bounds. A timeout or a broken ring resets
// the device and later requests fail at once.
#include <cstddef>

#include <rtos/clock.hpp>
#include <rtos/spinlock.hpp>
#include <rtos/format.hpp>
#include <rtos/mutex.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

#include "drivers/display/framebuffer.hpp"
#include "drivers/virtio/config.hpp"
#include "drivers/virtio/driver.hpp"
#include "drivers/virtio/gpu/virtio_gpu.hpp"
#include "drivers/virtio/gpu/virtio_gpu_spec.hpp"
#include "drivers/virtio/hal.hpp"

namespace virtio {
namespace {

using namespace virtio::gpu;
using rtos::Status;

constexpr FeatureName kFeatureNames[] = {{F_EDID, "edid"}};
constexpr std::uint32_t kResourceId = 1;
/// Largest width or height taken from the device (QEMU's limit is 16384).
constexpr std::uint32_t kMaxSide = 16384;
constexpr std::uint32_t kEdidBlock = 128;

const char* type_name(std::uint32_t t) {
    switch (t) {
    case CMD_GET_DISPLAY_INFO: return "GET_DISPLAY_INFO";
    case CMD_RESOURCE_CREATE_2D: return "RESOURCE_CREATE_2D";
    case CMD_SET_SCANOUT: return "SET_SCANOUT";
    case CMD_RESOURCE_FLUSH: return "RESOURCE_FLUSH";
    case CMD_TRANSFER_TO_HOST_2D: return "TRANSFER_TO_HOST_2D";
    case CMD_RESOURCE_ATTACH_BACKING: return "RESOURCE_ATTACH_BACKING";
    case CMD_GET_EDID: return "GET_EDID";
    case RESP_OK_NODATA: return "OK_NODATA";
    case RESP_OK_DISPLAY_INFO: return "OK_DISPLAY_INFO";
    case RESP_OK_EDID: return "OK_EDID";
    case RESP_ERR_UNSPEC: return "ERR_UNSPEC";
    case RESP_ERR_OUT_OF_MEMORY: return "ERR_OUT_OF_MEMORY";
    case RESP_ERR_INVALID_SCANOUT_ID: return "ERR_INVALID_SCANOUT_ID";
    case RESP_ERR_INVALID_RESOURCE_ID: return "ERR_INVALID_RESOURCE_ID";
    case RESP_ERR_INVALID_CONTEXT_ID: return "ERR_INVALID_CONTEXT_ID";
    case RESP_ERR_INVALID_PARAMETER: return "ERR_INVALID_PARAMETER";
    default: return nullptr;
    }
}

bool block_sum_ok(const std::uint8_t* b) {
    std::uint8_t sum = 0;
    for (std::uint32_t i = 0; i < kEdidBlock; ++i) sum = static_cast<std::uint8_t>(sum + b[i]);
    return sum == 0;
}

/// The first Type I timing of a DisplayID extension block (where QEMU puts
/// modes whose pixel clock or size a base-block descriptor cannot hold).
bool parse_displayid(const std::uint8_t* b, std::uint32_t& w, std::uint32_t& h) {
    const std::uint32_t end = 5u + b[2];  // tag, version, section length, type, count
    if (end > kEdidBlock - 1) return false;
    for (std::uint32_t p = 5; p + 3 <= end;) {
        const std::uint32_t len = b[p + 2];
        if (p + 3 + len > end) return false;
        if (b[p] == 0x03 && len >= 20) {  // Type I detailed timing, 20 bytes each
            const std::uint8_t* t = b + p + 3;
            w = (t[4] | (t[5] << 8)) + 1u;
            h = (t[12] | (t[13] << 8)) + 1u;
            return true;
        }
        p += 3 + len;
    }
    return false;
}

/// The preferred mode of an EDID of `n` bytes: the first detailed timing
/// descriptor of the base block, else the first DisplayID Type I timing of
/// an extension. Every block used must have its checksum right.
bool parse_edid(const std::uint8_t* e, std::size_t n, std::uint32_t& w, std::uint32_t& h) {
    static constexpr std::uint8_t kHeader[8] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
    if (n < kEdidBlock || memcmp(e, kHeader, sizeof(kHeader)) != 0 || !block_sum_ok(e))
        return false;
    for (std::uint32_t k = 0; k < 4; ++k) {
        const std::uint8_t* d = e + 54 + 18 * k;
        if (d[0] == 0 && d[1] == 0) continue;  // a display descriptor, not a timing
        w = d[2] | ((d[4] & 0xf0u) << 4);
        h = d[5] | ((d[7] & 0xf0u) << 4);
        return w > 0 && h > 0;
    }
    const std::size_t blocks = n / kEdidBlock;
    for (std::size_t i = 1; i <= e[126] && i < blocks; ++i) {
        const std::uint8_t* b = e + i * kEdidBlock;
        if (b[0] == 0x70 && block_sum_ok(b) && parse_displayid(b, w, h)) return true;
    }
    return false;
}

class VirtioGpu {
public:
    explicit VirtioGpu(Transport& t) : dev_(t) {}
    bool start(const Found& found);
    Status flush(const rtos::display::Rect& r, rtos::display::Framebuffer::StopFn stop);
    void fill_info(Info& out) const;

private:
    static void on_controlq(void* ctx, Virtqueue& q);
    void take_used(Virtqueue& q);
    static void on_config(void* ctx);
    static Status flush_fn(void* ctx, const rtos::display::Rect& r,
                           rtos::display::Framebuffer::StopFn stop) {
        return static_cast<VirtioGpu*>(ctx)->flush(r, stop);
    }
    void fail(const char* what, const char* why);
    Status exchange(std::size_t req_len, std::size_t resp_cap, std::uint32_t ok_type,
                    std::size_t ok_len, rtos::display::Framebuffer::StopFn stop = nullptr);
    Status settle(const char* cmd_name, rtos::display::Framebuffer::StopFn stop);
    bool read_mode();
    void read_edid();
    bool set_up_screen();
    CtrlHdr header(std::uint32_t type) { return CtrlHdr{type, 0, 0, 0, 0, {}}; }

    // Request and response of the one request in flight; the object lives in
    // DMA memory (start_in_dma_memory), so the device reads and writes these.
    union {
        CtrlHdr hdr;
        GetEdid edid;
        ResourceCreate2d create;
        struct {
            ResourceAttachBacking head;
            MemEntry entry;
        } attach;
        SetScanout scanout;
        TransferToHost2d transfer;
        ResourceFlush flush;
    } req_{};
    union {
        CtrlHdr hdr;
        RespDisplayInfo display;
        RespEdid edid;
    } resp_{};

    Device dev_;
    rtos::Mutex lock_;  // one request at a time (flush() and start's sequence)
    // queue_lock_: the control queue, completed_ and used_len_, between the
    // requester (adding, and polling when the interrupt is late) and the
    // interrupt handler, on any CPUs. Level 1 of docs/smp.md's lock order
    // (a driver lock): only the virtqueue's calls, a device reset and
    // done_.give_from_isr() inside it.
    rtos::SpinLock queue_lock_;
    rtos::BinarySemaphore done_;
    volatile bool completed_ = false;
    bool in_flight_ = false;  // a request is with the device; under lock_
    volatile std::uint32_t used_len_ = 0;
    volatile bool broken_ = false;
    bool legacy_ = false;
    std::uint32_t num_scanouts_ = 0, scanout_ = 0, width_ = 0, height_ = 0;
    bool edid_ = false;
    std::uint32_t edid_w_ = 0, edid_h_ = 0;
    std::uint32_t* pixels_ = nullptr;
    std::uint64_t flushes_ = 0;
    rtos::display::Framebuffer fb_;
};

// Set once by the probe (one display is used), before anything reads it.
VirtioGpu* the_gpu = nullptr;

void VirtioGpu::fail(const char* what, const char* why) {
    if (!broken_) rtos::printk("%s: %s: %s; device stopped\n", dev_.name(), what, why);
    broken_ = true;
    dev_.reset();
}

void VirtioGpu::on_controlq(void* ctx, Virtqueue& q) {
    auto* self = static_cast<VirtioGpu*>(ctx);
    rtos::SpinLockGuard guard(self->queue_lock_);
    self->take_used(q);
}

// The answers the device gave. queue_lock_ held.
void VirtioGpu::take_used(Virtqueue& q) {
    for (;;) {
        Result<Completion> c = q.pop_used();
        if (c.error == Error::empty) break;
        if (!c.ok()) {
            broken_ = true;  // pop_used() logged the violation
            dev_.reset();
        } else {
            used_len_ = c.value.len;
            completed_ = true;
        }
        done_.give_from_isr();
        if (!c.ok()) break;
    }
}

void VirtioGpu::on_config(void* ctx) {
    // A display event (the host resized or (un)plugged an output): taken
    // note of by clearing it; the mode chosen at start stays.
    auto& t = static_cast<VirtioGpu*>(ctx)->dev_.transport();
    const std::uint32_t events = t.config_read32(CFG_EVENTS_READ);
    if (events) t.config_write32(CFG_EVENTS_CLEAR, events);
}

// Waits for the request in flight: ok once the device answered, busy when
// `stop` gave up, timeout (the device is reset) after the timeout.
Status VirtioGpu::settle(const char* cmd_name, rtos::display::Framebuffer::StopFn stop) {
    // Woken by the interrupt; without one (or if it is lost) the used ring
    // is also looked at once per tick.
    const rtos::Tick timeout = rtos::clock::ms_to_ticks(CONFIG_VIRTIO_GPU_TIMEOUT_MS);
    for (rtos::Tick waited = 0; !completed_ && !broken_;) {
        if (done_.take(rtos::Timeout::ticks(1)) == Status::ok) continue;
        {
            rtos::SpinLockGuard guard(queue_lock_);
            take_used(dev_.queue(0));
        }
        if (completed_ || broken_) break;
        if (++waited >= timeout) {
            fail(cmd_name, "no response in time");
            return Status::timeout;
        }
        if (stop && stop()) return Status::busy;
    }
    while (done_.take(rtos::Timeout::none()) == Status::ok) {
    }
    in_flight_ = false;
    return broken_ ? Status::io_error : Status::ok;
}

Status VirtioGpu::exchange(std::size_t req_len, std::size_t resp_cap, std::uint32_t ok_type,
                           std::size_t ok_len, rtos::display::Framebuffer::StopFn stop) {
    const std::uint32_t cmd = req_.hdr.type;
    const char* cmd_name = type_name(cmd);
    if (broken_) return Status::io_error;
    memset(&resp_, 0, resp_cap);
    bool queued;
    {
        rtos::SpinLockGuard guard(queue_lock_);
        completed_ = false;
        used_len_ = 0;
        const OutSegment out[] = {{&req_, static_cast<std::uint32_t>(req_len)}};
        const InSegment in[] = {{&resp_, static_cast<std::uint32_t>(resp_cap)}};
        queued = dev_.queue(0).add_buffer(out, in, this).ok();
        if (queued) dev_.queue(0).kick();
    }
    if (!queued) {
        fail(cmd_name, "cannot queue the request");  // prints: outside the lock
        return Status::io_error;
    }
    in_flight_ = true;
    const Status s = settle(cmd_name, stop);
    if (s != Status::ok) return s;
    const std::uint32_t len = used_len_;
    if (len < sizeof(CtrlHdr)) {
        rtos::printk("%s: %s: response of %u bytes, shorter than its header\n", dev_.name(),
                     cmd_name, len);
        return Status::io_error;
    }
    const std::uint32_t type = resp_.hdr.type;
    if (type != ok_type) {
        const char* got = type_name(type);
        if (got) rtos::printk("%s: %s: device answered %s\n", dev_.name(), cmd_name, got);
        else rtos::printk("%s: %s: unknown response type %#x\n", dev_.name(), cmd_name, type);
        return Status::io_error;
    }
    if (len < ok_len) {
        rtos::printk("%s: %s: %s of %u bytes, shorter than its type (%u)\n", dev_.name(), cmd_name,
                     type_name(type), len, static_cast<unsigned>(ok_len));
        return Status::io_error;
    }
    return Status::ok;
}

bool VirtioGpu::read_mode() {
    req_.hdr = header(CMD_GET_DISPLAY_INFO);
    if (exchange(sizeof(CtrlHdr), sizeof(RespDisplayInfo), RESP_OK_DISPLAY_INFO,
                 sizeof(RespDisplayInfo)) != Status::ok)
        return false;
    for (std::uint32_t i = 0; i < num_scanouts_; ++i) {
        const auto& m = resp_.display.pmodes[i];
        if (!m.enabled) continue;
        if (m.r.width == 0 || m.r.height == 0 || m.r.width > kMaxSide || m.r.height > kMaxSide) {
            rtos::printk("%s: scanout %u size %ux%u out of range (1..%u)\n", dev_.name(), i,
                         m.r.width, m.r.height, kMaxSide);
            return false;
        }
        scanout_ = i;
        width_ = m.r.width;
        height_ = m.r.height;
        return true;
    }
    scanout_ = 0;  // none enabled: the EDID may still say what scanout 0 wants
    return true;
}

void VirtioGpu::read_edid() {
    req_.edid = GetEdid{header(CMD_GET_EDID), scanout_, 0};
    if (exchange(sizeof(GetEdid), sizeof(RespEdid), RESP_OK_EDID, offsetof(RespEdid, edid)) !=
        Status::ok)
        return;
    const std::uint32_t size = resp_.edid.size;
    const std::uint32_t got = used_len_ - static_cast<std::uint32_t>(offsetof(RespEdid, edid));
    if (size > sizeof(resp_.edid.edid) || size > got) {
        rtos::printk("%s: EDID of %u bytes does not fit the response (%u)\n", dev_.name(), size,
                     got);
        return;
    }
    std::uint32_t w = 0, h = 0;
    if (!parse_edid(resp_.edid.edid, size, w, h) || w > kMaxSide || h > kMaxSide) {
        rtos::printk("%s: EDID of %u bytes is not valid; ignored\n", dev_.name(), size);
        return;
    }
    edid_ = true;
    edid_w_ = w;
    edid_h_ = h;
}

bool VirtioGpu::set_up_screen() {
    const std::size_t bytes = std::size_t{width_} * height_ * 4;
    pixels_ = static_cast<std::uint32_t*>(hal::dma_alloc(bytes, 4096));
    if (!pixels_) {
        rtos::printk("%s: out of memory for a %ux%u framebuffer (%u KiB)\n", dev_.name(), width_,
                     height_, static_cast<unsigned>(bytes >> 10));
        return false;
    }
    req_.create = ResourceCreate2d{header(CMD_RESOURCE_CREATE_2D), kResourceId,
                                   FORMAT_B8G8R8X8_UNORM, width_, height_};
    if (exchange(sizeof(req_.create), sizeof(CtrlHdr), RESP_OK_NODATA, sizeof(CtrlHdr)) !=
        Status::ok)
        return false;
    req_.attach.head = ResourceAttachBacking{header(CMD_RESOURCE_ATTACH_BACKING), kResourceId, 1};
    req_.attach.entry = MemEntry{hal::virt_to_phys(pixels_), static_cast<std::uint32_t>(bytes), 0};
    if (exchange(sizeof(req_.attach), sizeof(CtrlHdr), RESP_OK_NODATA, sizeof(CtrlHdr)) !=
        Status::ok)
        return false;
    req_.scanout =
        SetScanout{header(CMD_SET_SCANOUT), {0, 0, width_, height_}, scanout_, kResourceId};
    if (exchange(sizeof(req_.scanout), sizeof(CtrlHdr), RESP_OK_NODATA, sizeof(CtrlHdr)) !=
        Status::ok)
        return false;
    fb_ = rtos::display::Framebuffer(pixels_, width_, height_, width_, &VirtioGpu::flush_fn, this);
    fb_.damage({0, 0, width_, height_});  // dma_alloc zero-fills: black
    return fb_.flush() == Status::ok;
}

Status VirtioGpu::flush(const rtos::display::Rect& r, rtos::display::Framebuffer::StopFn stop) {
    if (r.empty() || r.x >= width_ || r.y >= height_ || r.w > width_ - r.x || r.h > height_ - r.y)
        return Status::out_of_range;
    rtos::LockGuard guard(lock_);
    if (in_flight_) {  // given up on by an earlier flush: the device may still use req_, resp_
        const Status s = settle("an earlier request", stop);
        if (s != Status::ok) return s;
    }
    const GpuRect g{r.x, r.y, r.w, r.h};
    req_.transfer = TransferToHost2d{header(CMD_TRANSFER_TO_HOST_2D), g,
                                     (std::uint64_t{r.y} * width_ + r.x) * 4, kResourceId, 0};
    Status s =
        exchange(sizeof(req_.transfer), sizeof(CtrlHdr), RESP_OK_NODATA, sizeof(CtrlHdr), stop);
    if (s != Status::ok) return s;
    req_.flush = ResourceFlush{header(CMD_RESOURCE_FLUSH), g, kResourceId, 0};
    s = exchange(sizeof(req_.flush), sizeof(CtrlHdr), RESP_OK_NODATA, sizeof(CtrlHdr), stop);
    if (s == Status::ok) ++flushes_;
    return s;
}

bool VirtioGpu::start(const Found& found) {
    const Device::QueueSpec queues[] = {{config::gpu_queue_size, &VirtioGpu::on_controlq, this}};
    if (dev_.start({.features = feature_bit(F_EDID),
                    .queues = queues,
                    .on_config_change = &VirtioGpu::on_config,
                    .context = this}) != Error::ok)
        return false;
    legacy_ = dev_.transport().is_legacy();
    num_scanouts_ = dev_.transport().config_read32(CFG_NUM_SCANOUTS);
    bool ok = true;
    if (num_scanouts_ == 0 || num_scanouts_ > MAX_SCANOUTS) {
        rtos::printk("%s: num_scanouts %u out of range (1..%u)\n", dev_.name(), num_scanouts_,
                     MAX_SCANOUTS);
        ok = false;
    }
    {
        rtos::LockGuard guard(lock_);
        ok = ok && read_mode();
        if (ok && dev_.has_feature(F_EDID)) read_edid();
        if (ok && width_ == 0) {
            if (edid_) {
                width_ = edid_w_;
                height_ = edid_h_;
            } else {
                rtos::printk("%s: no enabled scanout and no EDID mode\n", dev_.name());
                ok = false;
            }
        }
    }
    ok = ok && set_up_screen();
    if (!ok) {
        dev_.fail();
        dev_.shutdown();
        hal::dma_free(pixels_);
        return false;
    }
    // Last, so nothing can fail once the handler is attached (the object
    // must then outlive it); without the interrupt requests are polled.
    if (!dev_.attach_interrupts()) rtos::printk("%s: no interrupt; polling\n", dev_.name());
    rtos::display::set_primary(&fb_);
    char extra[64];
    snprintf(extra, sizeof(extra), " scanout %u %ux%u edid %s", scanout_, width_, height_,
             edid_ ? "yes" : "no");
    announce(found, dev_, kFeatureNames, extra);
    return true;
}

void VirtioGpu::fill_info(Info& out) const {
    out = Info{dev_.name(),           legacy_, num_scanouts_, scanout_, width_,  height_,
               FORMAT_B8G8R8X8_UNORM, edid_,   edid_w_,       edid_h_,  broken_, flushes_};
}

bool probe(const Found& found) {
    if (the_gpu) {
        rtos::printk("%s: one display is used; this one is ignored\n", found.transport.name());
        return false;
    }
    the_gpu = start_in_dma_memory<VirtioGpu>(found);
    return the_gpu != nullptr;
}

}  // namespace

VIRTIO_DRIVER(gpu, VIRTIO_ID_GPU, probe);

namespace gpu {
bool info(Info& out) {
    if (!the_gpu) return false;
    the_gpu->fill_info(out);
    return true;
}
}  // namespace gpu

}  // namespace virtio
