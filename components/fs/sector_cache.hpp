// A write-back cache of 512-byte sectors over a BlockIo, one per mounted
// volume. Dirty sectors carry a write-order class (data, then FAT, then
// directory): write_back() writes them class by class with a device flush
// between classes, so a directory entry never reaches the device before the
// FAT and the data it points to (the crash-consistency order; see
// docs/filesystem.md). read_ahead() fills several sectors with one request.
//
// Lock: none of its own. Every call is made with the owning volume's lock
// held (FatVolume::lock_), which therefore protects all of its state.
#pragma once

#include <cstdint>

#include "block_io.hpp"

namespace rtos::fs {

class SectorCache {
public:
    enum Class : uint8_t { kData = 0, kFat = 1, kDir = 2, kClasses = 3 };

    struct Stats {
        uint64_t hits, misses, reads, writes, flushes;
    };

    SectorCache() = default;
    ~SectorCache() { release(); }
    SectorCache(const SectorCache&) = delete;
    SectorCache& operator=(const SectorCache&) = delete;

    /// entries sectors of cache, read-ahead of up to readahead sectors.
    Status init(BlockIo& io, unsigned entries, unsigned readahead);
    void release();

    /// The sector's bytes, read from the device first unless `fill` is
    /// false (the caller overwrites all 512 bytes); a miss reads `ahead`
    /// sectors from lba on (read_ahead) when ahead > 1. Valid until the next
    /// call that may evict (get, read_ahead).
    Status get(uint64_t lba, uint8_t*& data, bool fill = true, uint32_t ahead = 0);
    /// The sector last returned by get() was changed: write it back later,
    /// in order class `c`.
    void mark_dirty(uint64_t lba, Class c);
    /// Reads the sectors of [lba, lba + count) that are not cached yet
    /// (at most the read-ahead size) in one request.
    Status read_ahead(uint64_t lba, uint32_t count);
    /// Writes back the dirty sectors of [lba, lba + count) (before the
    /// caller reads that range from the device directly).
    Status write_back_range(uint64_t lba, uint32_t count);
    /// Forgets the sectors of [lba, lba + count) (the caller wrote the range
    /// directly: what the cache held is stale).
    void drop_range(uint64_t lba, uint32_t count);
    /// Writes back every dirty sector of classes <= upto, class by class,
    /// flushing the device before each class that follows written sectors.
    Status write_back(Class upto = kDir);
    /// write_back() and a device flush: everything is on the device.
    Status sync();
    /// The caller wrote to the device directly: the next class written
    /// must be preceded by a flush.
    void note_direct_write() { unflushed_ = true; }
    /// Sectors [first, first + count) have `copies` - 1 mirrors, `stride`
    /// sectors apart (the FAT copies): written back to every copy, only the
    /// first is cached.
    void set_mirror(uint64_t first, uint32_t count, uint32_t copies, uint32_t stride) {
        mirror_first_ = first;
        mirror_count_ = count;
        mirror_copies_ = copies;
        mirror_stride_ = stride;
    }

    bool dirty() const { return dirty_count_ != 0; }
    /// Changes whenever a cached sector may have moved or gone: a pointer
    /// from get() stays valid while the epoch is the same.
    uint32_t epoch() const { return epoch_; }
    const Stats& stats() const { return stats_; }
    BlockIo& io() { return *io_; }

private:
    static constexpr unsigned kBounce = 64;  // sectors gathered per write-back round

    struct Entry {
        uint64_t lba;
        uint8_t* data;
        uint32_t stamp;  // last use, for LRU
        bool valid, dirty;
        Class cls;
    };

    Entry* find(uint64_t lba);
    Entry* victim();  // a clean entry, or nullptr when all are dirty
    Status evict_for(Entry*& out);

    BlockIo* io_ = nullptr;
    Entry* entries_ = nullptr;
    uint8_t* arena_ = nullptr;
    uint8_t* ahead_ = nullptr;   // read-ahead buffer
    uint8_t* bounce_ = nullptr;  // write-back: contiguous dirty sectors gathered
    unsigned count_ = 0, readahead_ = 0;
    unsigned dirty_count_ = 0;
    uint32_t clock_ = 0;
    uint32_t epoch_ = 0;
    Entry* last_ = nullptr;   // last hit: FAT walks ask for the same sector often
    bool unflushed_ = false;  // writes since the last flush
    uint64_t mirror_first_ = 0;
    uint32_t mirror_count_ = 0, mirror_copies_ = 1, mirror_stride_ = 0;
    Stats stats_{};
};

}  // namespace rtos::fs
