#include "block_device.hpp"

#include <rtos/critical.hpp>
#include <rtos/string.hpp>

namespace rtos {
namespace {

List<BlockDevice, &BlockDevice::registry_node> registry;

}  // namespace

Status BlockDevice::check(uint64_t lba, uint32_t count, const void* buf) const {
    if (!buf || count == 0) return Status::invalid;
    if (lba >= info_.sectors || count > info_.sectors - lba) return Status::out_of_range;
    return Status::ok;
}

Status BlockDevice::read(uint64_t lba, uint32_t count, void* buf) {
    Status s = check(lba, count, buf);
    return s == Status::ok ? do_read(lba, count, buf) : s;
}

Status BlockDevice::write(uint64_t lba, uint32_t count, const void* buf) {
    Status s = check(lba, count, buf);
    if (s != Status::ok) return s;
    if (info_.read_only) return Status::unsupported;
    return do_write(lba, count, buf);
}

Status BlockDevice::flush() { return info_.flush ? do_flush() : Status::ok; }

Status BlockDevice::get_id(char* buf, std::size_t size) {
    if (!buf || size == 0) return Status::invalid;
    return do_get_id(buf, size);
}

void BlockDevice::add(BlockDevice* dev) {
    IrqLock lock;
    registry.push_back(dev);
}

BlockDevice* BlockDevice::find(const char* name) {
    for (BlockDevice* d = registry.front(); d; d = registry.next(d))
        if (!strcmp(d->name(), name)) return d;
    return nullptr;
}

BlockDevice* BlockDevice::first() { return registry.front(); }
BlockDevice* BlockDevice::next() const { return registry.next(this); }

}  // namespace rtos
