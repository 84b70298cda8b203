// Transport helpers shared by every transport: names and 64-bit config access.
#include "drivers/virtio/transport/transport.hpp"

#include <cstdio>

#include <rtos/irq.hpp>
#include <rtos/printk.hpp>

#include "drivers/virtio/spec.hpp"

namespace virtio {

const char* device_type_name(std::uint32_t device_id) {
    switch (device_id) {
    case VIRTIO_ID_NET: return "virtio-net";
    case VIRTIO_ID_BLOCK: return "virtio-blk";
    case VIRTIO_ID_CONSOLE: return "virtio-console";
    case VIRTIO_ID_ENTROPY: return "virtio-rng";
    case VIRTIO_ID_BALLOON: return "virtio-balloon";
    case VIRTIO_ID_SCSI: return "virtio-scsi";
    case VIRTIO_ID_9P: return "virtio-9p";
    case VIRTIO_ID_GPU: return "virtio-gpu";
    case VIRTIO_ID_INPUT: return "virtio-input";
    case VIRTIO_ID_VSOCK: return "virtio-vsock";
    default: return nullptr;
    }
}

namespace {
void shared_interrupt(void* sink) { static_cast<InterruptSink*>(sink)->on_shared_interrupt(); }
}  // namespace

bool Transport::attach_line(InterruptSink& sink) {
    return has_line_ && rtos::irq::attach(line_, &shared_interrupt, &sink);
}

bool Transport::attach_interrupts(InterruptSink& sink) { return attach_line(sink); }

void Transport::describe_interrupts(char* buf, std::size_t size) const {
    if (has_line_) std::snprintf(buf, size, "irq %u", line_);
    else std::snprintf(buf, size, "irq -");
}

bool Transport::queue_interrupt(std::uint16_t, unsigned& irq, bool& own) const {
    irq = line_;
    own = false;
    return has_line_;
}

std::uint64_t Transport::config_read64(std::uint32_t offset) {
    std::uint64_t lo = config_read32(offset);
    std::uint64_t hi = config_read32(offset + 4);
    return lo | (hi << 32);
}

namespace {

// Appends to a bounded buffer; always leaves it NUL-terminated.
struct NameWriter {
    char* buf;
    std::size_t cap;
    std::size_t len = 0;

    void put(char c) {
        if (len + 1 < cap) buf[len++] = c;
        buf[len] = '\0';
    }
    void put(const char* s) {
        while (*s != '\0') put(*s++);
    }
    void put_decimal(std::uint32_t v) {
        char digits[10];
        int n = 0;
        do {
            digits[n++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v != 0);
        while (n > 0) put(digits[--n]);
    }
    void put_hex(std::uint64_t v) {
        put("0x");
        int shift = 60;
        while (shift > 0 && ((v >> shift) & 0xf) == 0) shift -= 4;
        for (; shift >= 0; shift -= 4) put("0123456789abcdef"[(v >> shift) & 0xf]);
    }
};

}  // namespace

namespace {
void put_type(NameWriter& w, std::uint32_t device_id, const char* fallback) {
    if (const char* type = device_type_name(device_id)) {
        w.put(type);
    } else if (device_id != 0) {
        w.put("virtio-");
        w.put_decimal(device_id);
    } else {
        w.put(fallback);
    }
    w.put('@');
}
}  // namespace

void Transport::set_name(std::uint32_t device_id, const char* fallback, std::uint64_t address) {
    NameWriter w{name_, sizeof(name_)};
    put_type(w, device_id, fallback);
    w.put_hex(address);
}

void Transport::set_name(std::uint32_t device_id, const char* fallback, const char* location) {
    NameWriter w{name_, sizeof(name_)};
    put_type(w, device_id, fallback);
    w.put(location);
}

void Transport::wait_for_reset() {
    // Reset is immediate on QEMU; the bound keeps a stuck device from hanging us.
    constexpr unsigned kResetPolls = 1000;
    for (unsigned i = 0; i < kResetPolls && status() != 0; ++i) {
    }
}

Error Transport::legacy_ring_pfn(std::uint16_t size, std::uint64_t desc_phys,
                                 std::uint64_t avail_phys, std::uint64_t used_phys,
                                 std::uint32_t page_size, std::uint32_t& pfn) {
    const std::uint64_t page = desc_phys / page_size;
    const bool layout_ok =
        desc_phys % page_size == 0 && page != 0 && page <= 0xffffffffu &&
        avail_phys == desc_phys + virtq_desc_size(size) &&
        used_phys == desc_phys + virtq_legacy_used_offset(size, VIRTIO_LEGACY_QUEUE_ALIGN);
    if (!layout_ok) {
        rtos::printk("%s: ring at 0x%llx/0x%llx/0x%llx does not fit the legacy layout\n", name(),
                     static_cast<unsigned long long>(desc_phys),
                     static_cast<unsigned long long>(avail_phys),
                     static_cast<unsigned long long>(used_phys));
        return Error::bad_layout;
    }
    pfn = static_cast<std::uint32_t>(page);
    return Error::ok;
}

}  // namespace virtio
