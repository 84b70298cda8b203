#include "sector_cache.hpp"

#include <rtos/string.hpp>

#include "platform.hpp"

namespace rtos::fs {

Status PartitionIo::run(std::span<const Transfer> transfers) {
    constexpr unsigned kBatch = 16;
    Transfer moved[kBatch];
    while (!transfers.empty()) {
        const std::size_t n = transfers.size() < kBatch ? transfers.size() : kBatch;
        for (std::size_t i = 0; i < n; ++i) {
            const Transfer& t = transfers[i];
            if (t.lba >= count_ || t.count > count_ - t.lba) return Status::out_of_range;
            moved[i] = t;
            moved[i].lba += start_;
        }
        const Status s = base_.run(std::span<const Transfer>(moved, n));
        if (s != Status::ok) return s;
        transfers = transfers.subspan(n);
    }
    return Status::ok;
}

Status SectorCache::init(BlockIo& io, unsigned entries, unsigned readahead) {
    release();
    io_ = &io;
    count_ = entries < 8 ? 8 : entries;
    readahead_ = readahead > count_ / 2 ? count_ / 2 : readahead;
    entries_ = static_cast<Entry*>(mem_alloc(sizeof(Entry) * count_));
    arena_ = static_cast<uint8_t*>(mem_alloc(std::size_t{count_} * BlockIo::kSectorSize));
    ahead_ = readahead_ > 1
                 ? static_cast<uint8_t*>(mem_alloc(std::size_t{readahead_} * BlockIo::kSectorSize))
                 : nullptr;
    bounce_ = static_cast<uint8_t*>(mem_alloc(std::size_t{kBounce} * BlockIo::kSectorSize));
    if (!entries_ || !arena_ || !bounce_ || (readahead_ > 1 && !ahead_)) {
        release();
        return Status::no_memory;
    }
    for (unsigned i = 0; i < count_; ++i) {
        Entry& e = entries_[i];
        e.lba = 0;
        e.data = arena_ + std::size_t{i} * BlockIo::kSectorSize;
        e.stamp = 0;
        e.valid = e.dirty = false;
        e.cls = kData;
    }
    return Status::ok;
}

void SectorCache::release() {
    mem_free(entries_);
    mem_free(arena_);
    mem_free(ahead_);
    mem_free(bounce_);
    entries_ = nullptr;
    arena_ = ahead_ = bounce_ = nullptr;
    count_ = dirty_count_ = 0;
    last_ = nullptr;
    ++epoch_;
}

SectorCache::Entry* SectorCache::find(uint64_t lba) {
    if (last_ && last_->valid && last_->lba == lba) return last_;
    for (unsigned i = 0; i < count_; ++i)
        if (entries_[i].valid && entries_[i].lba == lba) return &entries_[i];
    return nullptr;
}

SectorCache::Entry* SectorCache::victim() {
    Entry* best = nullptr;
    for (unsigned i = 0; i < count_; ++i) {
        Entry& e = entries_[i];
        if (!e.valid) return &e;
        if (!e.dirty && (!best || static_cast<int32_t>(e.stamp - best->stamp) < 0)) best = &e;
    }
    return best;
}

// A free entry, writing back dirty ones when every entry is dirty.
Status SectorCache::evict_for(Entry*& out) {
    out = victim();
    if (out) return Status::ok;
    // All dirty: write back the oldest one's class and those before it.
    Entry* oldest = &entries_[0];
    for (unsigned i = 1; i < count_; ++i)
        if (static_cast<int32_t>(entries_[i].stamp - oldest->stamp) < 0) oldest = &entries_[i];
    const Status s = write_back(oldest->cls);
    if (s != Status::ok) return s;
    out = victim();
    return out ? Status::ok : Status::io_error;
}

Status SectorCache::get(uint64_t lba, uint8_t*& data, bool fill, uint32_t ahead) {
    Entry* e = find(lba);
    if (!e && fill && ahead > 1) {
        const Status s = read_ahead(lba, ahead);
        if (s != Status::ok) return s;
        e = find(lba);
        if (e) --stats_.hits;  // counted as the miss it was
    }
    if (e) {
        ++stats_.hits;
    } else {
        ++stats_.misses;
        const Status s = evict_for(e);
        if (s != Status::ok) return s;
        e->valid = false;
        ++epoch_;
        if (fill) {
            ++stats_.reads;
            const Status r = io_->read(lba, 1, e->data);
            if (r != Status::ok) return r;
        }
        e->lba = lba;
        e->valid = true;
        e->dirty = false;
    }
    e->stamp = ++clock_;
    last_ = e;
    data = e->data;
    return Status::ok;
}

void SectorCache::mark_dirty(uint64_t lba, Class c) {
    Entry* e = find(lba);
    if (!e) return;
    if (!e->dirty) {
        ++dirty_count_;
        e->dirty = true;
        e->cls = c;
    } else if (c > e->cls) {
        e->cls = c;  // a sector holding both waits for the later class
    }
}

Status SectorCache::read_ahead(uint64_t lba, uint32_t count) {
    if (!ahead_) return Status::ok;
    if (count > readahead_) count = readahead_;
    // Skip what is cached already at the front, stop at the first cached
    // sector after that: one contiguous request.
    while (count && find(lba)) {
        ++lba;
        --count;
    }
    uint32_t n = 0;
    while (n < count && !find(lba + n)) ++n;
    if (n <= 1) return Status::ok;  // one sector: get() reads it anyway
    ++stats_.reads;
    const Status s = io_->read(lba, n, ahead_);
    if (s != Status::ok) return s;
    for (uint32_t i = 0; i < n; ++i) {
        Entry* e = victim();
        if (!e) break;  // all dirty: the rest is read on demand
        memcpy(e->data, ahead_ + std::size_t{i} * BlockIo::kSectorSize, BlockIo::kSectorSize);
        ++epoch_;
        e->lba = lba + i;
        e->valid = true;
        e->dirty = false;
        e->stamp = ++clock_;
    }
    return Status::ok;
}

Status SectorCache::write_back_range(uint64_t lba, uint32_t count) {
    if (!dirty_count_) return Status::ok;
    for (unsigned i = 0; i < count_; ++i) {
        Entry& e = entries_[i];
        if (!e.valid || !e.dirty || e.lba < lba || e.lba - lba >= count) continue;
        if (e.cls != kData) return write_back(e.cls);  // keeps the order
        ++stats_.writes;
        const Status s = io_->write(e.lba, 1, e.data);
        if (s != Status::ok) return s;
        e.dirty = false;
        --dirty_count_;
        unflushed_ = true;
    }
    return Status::ok;
}

void SectorCache::drop_range(uint64_t lba, uint32_t count) {
    for (unsigned i = 0; i < count_; ++i) {
        Entry& e = entries_[i];
        if (!e.valid || e.lba < lba || e.lba - lba >= count) continue;
        if (e.dirty) --dirty_count_;
        e.valid = e.dirty = false;
        ++epoch_;
    }
}

// Dirty sectors go out in LBA order, runs of neighbours gathered in the
// bounce buffer as one transfer each (a FAT run also to every mirror), as
// many transfers in flight at once as the buffer holds.
Status SectorCache::write_back(Class upto) {
    constexpr unsigned kMaxTransfers = 32;
    for (unsigned c = kData; c <= upto && dirty_count_; ++c) {
        bool any = false;
        for (;;) {
            BlockIo::Transfer batch[kMaxTransfers];
            Entry* picked[kBounce];
            unsigned n = 0, used = 0;  // transfers, bounce sectors
            uint64_t floor = 0;        // sectors above the last one picked (any when used == 0)
            unsigned run = 0, run_copies = 0;  // the open run's first transfer and its copies
            while (used < kBounce) {
                Entry* next = nullptr;
                for (unsigned i = 0; i < count_; ++i) {
                    Entry& e = entries_[i];
                    if (!e.valid || !e.dirty || e.cls != c || (used && e.lba <= floor)) continue;
                    if (!next || e.lba < next->lba) next = &e;
                }
                if (!next) break;
                const bool mirrored =
                    next->lba >= mirror_first_ && next->lba - mirror_first_ < mirror_count_;
                const unsigned copies = mirrored ? mirror_copies_ : 1;
                const bool extends = run_copies == copies &&
                                     batch[run].lba + batch[run].count == next->lba &&
                                     (!mirrored || next->lba - mirror_first_ < mirror_count_);
                if (!extends && n + copies > kMaxTransfers) break;
                uint8_t* slot = bounce_ + std::size_t{used} * BlockIo::kSectorSize;
                memcpy(slot, next->data, BlockIo::kSectorSize);
                picked[used++] = next;
                floor = next->lba;
                if (extends) {  // the run and its mirrors grow by this sector
                    for (unsigned k = 0; k < copies; ++k) ++batch[run + k].count;
                    continue;
                }
                run = n;
                run_copies = copies;
                batch[n++] = {true, next->lba, 1, slot};
                if (mirrored)
                    for (uint32_t k = 1; k < mirror_copies_; ++k)
                        batch[n++] = {true, next->lba + uint64_t{k} * mirror_stride_, 1, slot};
            }
            if (!used) break;
            if (!any && unflushed_ && c != kData) {
                // What the earlier classes wrote is durable before this one.
                ++stats_.flushes;
                const Status f = io_->flush();
                if (f != Status::ok) return f;
                unflushed_ = false;
            }
            any = true;
            stats_.writes += n;
            const Status s = io_->run(std::span<const BlockIo::Transfer>(batch, n));
            if (s != Status::ok) return s;
            for (unsigned k = 0; k < used; ++k) {
                picked[k]->dirty = false;
                --dirty_count_;
            }
            unflushed_ = true;
        }
    }
    return Status::ok;
}

Status SectorCache::sync() {
    Status s = write_back(kDir);
    if (s != Status::ok) return s;
    if (unflushed_) {
        ++stats_.flushes;
        s = io_->flush();
        if (s != Status::ok) return s;
        unflushed_ = false;
    }
    return Status::ok;
}

}  // namespace rtos::fs
