// The target side of components/fs: BlockIo over rtos::BlockDevice, the
// mount options from Kconfig, mounting by device name and at boot.
#include "port.hpp"

#include <new>

#include <rtos/config.hpp>
#include <rtos/format.hpp>
#include <rtos/heap.hpp>
#include <rtos/init.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>

#include "drivers/block/block_device.hpp"
#include "fs/partition.hpp"
#include "fs/vfs/vfs.hpp"

namespace rtos::fs {

// Each batch goes to the device as one submission (one notification), all
// of it in flight together; then every request is waited for.
Status DeviceIo::run(std::span<const Transfer> transfers) {
    constexpr unsigned kBatch = 16;
    BlockRequest reqs[kBatch];
    BlockRequest* ptrs[kBatch];
    Status result = Status::ok;
    while (!transfers.empty()) {
        const std::size_t n = transfers.size() < kBatch ? transfers.size() : kBatch;
        if (n == 1) {
            const Transfer& t = transfers[0];
            result = t.write ? dev_.write(t.lba, t.count, t.buf) : dev_.read(t.lba, t.count, t.buf);
        } else {
            for (std::size_t i = 0; i < n; ++i) {
                const Transfer& t = transfers[i];
                reqs[i].op = t.write ? BlockRequest::Op::write : BlockRequest::Op::read;
                reqs[i].lba = t.lba;
                reqs[i].count = t.count;
                reqs[i].buf = t.buf;
                reqs[i].on_done = nullptr;
                ptrs[i] = &reqs[i];
            }
            dev_.submit(std::span<BlockRequest* const>(ptrs, n));
            for (std::size_t i = 0; i < n; ++i) {
                const Status s = dev_.wait(reqs[i]);
                if (s != Status::ok && result == Status::ok) result = s;
            }
        }
        if (result != Status::ok) return result;
        transfers = transfers.subspan(n);
    }
    return result;
}

namespace {

// What one mount holds: the disk's BlockIo and, for a partition, the
// window over it (part refers to disk: declared after it).
struct MountIo {
    MountIo(BlockDevice& dev, const Partition* p)
        : disk(dev), part(disk, p ? p->start : 0, p ? p->count : 0), partition(p != nullptr) {}
    DeviceIo disk;
    PartitionIo part;
    bool partition;
    BlockIo& io() {
        if (partition) return part;
        return disk;
    }
};

void release(void* ctx) {
    static_cast<MountIo*>(ctx)->~MountIo();
    heap::free(ctx);
}

}  // namespace

MountOptions mount_options(bool read_only) {
    MountOptions o;
    o.read_only = read_only;
    o.cache_sectors = CONFIG_FS_CACHE_SECTORS;
    o.readahead_sectors = CONFIG_FS_READAHEAD_SECTORS;
    o.max_files = CONFIG_FS_MAX_OPEN_FILES;
    return o;
}

namespace {

void print_size(uint64_t bytes) {
    const uint64_t kib = bytes / 1024;
    if (kib >= 10240) printk("%llu MiB", static_cast<unsigned long long>(kib / 1024));
    else printk("%llu KiB", static_cast<unsigned long long>(kib));
}

// fs: /vda fat32 64 MiB, 512-byte clusters, 63 MiB free, rw (vda)
void print_mounted(const char* path, const char* source) {
    StatFs st;
    if (vfs().statfs(path, st) != Status::ok) return;
    printk("fs: %s %s ", path, fat_type_name(st.type));
    print_size(st.total_bytes);
    printk(", %u-byte clusters, ", st.cluster_size);
    print_size(st.free_bytes);
    printk(" free, %s (%s)\n", st.read_only ? "ro" : "rw", source);
}

Status mount_one(BlockDevice& dev, const Partition* p, const char* name, const char* path,
                 bool read_only) {
    char where[16];
    if (!path) {
        snprintf(where, sizeof(where), "/%s", name);
        path = where;
    }
    void* mem = heap::alloc(sizeof(MountIo));
    if (!mem) {
        printk("fs: %s: out of memory\n", name);
        return Status::no_memory;
    }
    auto* m = new (mem) MountIo(dev, p);
    const char* why = nullptr;
    const Status s = vfs().mount(path, m->io(), mount_options(read_only), release, m, why);
    if (s != Status::ok) {
        release(m);
        printk("fs: %s: not mounted: %s\n", name, why ? why : error_text(s));
        return s;
    }
    print_mounted(path, name);
    return Status::ok;
}

// The FAT partitions of a disk, or -1 (no partition table) / 0 (none).
int partitions(BlockDevice& dev, Partition* out, int max) {
    alignas(64) static uint8_t sector[512];  // boot-time and shell use: one at a time (mount_lock)
    if (dev.read(0, 1, sector) != Status::ok) return -1;
    DeviceIo io(dev);
    return find_partitions(io, sector, out, max);
}

// Serialises mounting by name (the partition scan's buffer).
Lock mount_lock;

}  // namespace

Status mount_device(const char* name, const char* path, bool read_only) {
    Guard g(mount_lock);
    // "vdb1": the disk "vdb", partition 1.
    char disk[16];
    std::size_t n = strlen(name);
    if (n >= sizeof(disk)) return Status::invalid;
    std::size_t k = n;
    while (k > 0 && name[k - 1] >= '0' && name[k - 1] <= '9') --k;
    BlockDevice* dev = BlockDevice::find(name);
    unsigned number = 0;
    if (!dev && k < n && k > 0) {
        memcpy(disk, name, k);
        disk[k] = '\0';
        dev = BlockDevice::find(disk);
        for (std::size_t i = k; i < n; ++i)
            number = number * 10 + static_cast<unsigned>(name[i] - '0');
    }
    if (!dev) {
        printk("fs: %s: no such block device\n", name);
        return Status::not_found;
    }
    if (number == 0) return mount_one(*dev, nullptr, name, path, read_only);
    Partition parts[8];
    const int found = partitions(*dev, parts, 8);
    for (int i = 0; i < found; ++i)
        if (parts[i].number == number) return mount_one(*dev, &parts[i], name, path, read_only);
    printk("fs: %s: no FAT partition %u on %s\n", name, number, dev->name());
    return Status::not_found;
}

#if defined(CONFIG_FS_AUTOMOUNT)
namespace {

// Every disk: a FAT volume on the whole disk, else the FAT partitions of
// its partition table; what is neither is left alone (one line says so).
void automount() {
    for (BlockDevice* dev = BlockDevice::first(); dev; dev = dev->next()) {
        Guard g(mount_lock);
        alignas(8) uint8_t bs[512];
        if (dev->read(0, 1, bs) != Status::ok) {
            printk("fs: %s: cannot read sector 0\n", dev->name());
            continue;
        }
        DeviceIo io(*dev);
        Partition parts[8];
        const int found = find_partitions(io, bs, parts, 8);
        // A partition table's entries are checked (status, type, bounds):
        // a FAT boot sector's code area does not pass for one.
        if (found <= 0) {
            const bool boot_sector =
                (bs[0] == 0xeb || bs[0] == 0xe9) && bs[510] == 0x55 && bs[511] == 0xaa;
            if (boot_sector) mount_one(*dev, nullptr, dev->name(), nullptr, false);
            else if (found == 0) printk("fs: %s: no FAT partition\n", dev->name());
            else printk("fs: %s: no FAT file system or partition table\n", dev->name());
            continue;
        }
        for (int i = 0; i < found; ++i) {
            char name[16];
            snprintf(name, sizeof(name), "%s%u", dev->name(), parts[i].number);
            mount_one(*dev, &parts[i], name, nullptr, false);
        }
    }
}

}  // namespace

RTOS_INIT(automount, service);
#endif

}  // namespace rtos::fs
