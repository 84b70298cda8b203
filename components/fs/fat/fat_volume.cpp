#include "fat_volume.hpp"

#include <new>

#include <rtos/string.hpp>

#include "fat_name.hpp"

namespace rtos::fs {

using fat::kLongNameMax;

// An open file's shared state: one per file however often it is open.
struct FatNode {
    uint64_t entry_lba;  // where its short-name entry is
    uint16_t entry_off;
    uint32_t first, size;
    uint8_t attr;
    unsigned refs;  // 0: slot free
    // A run of consecutive clusters of the file, known while the FAT has
    // not changed (run_gen == FatVolume::fat_gen_): clusters run_index..
    // run_index + run_len - 1 of the file are run_cluster.. on the disk.
    uint32_t run_index, run_cluster, run_len, run_gen;
};

// A 32-byte entry's place on the disk.
struct FatVolume::Loc {
    uint64_t lba;
    uint16_t off;
};

// A directory entry found in a scan: its run (long-name entries and the
// short one), a copy of the short entry, its name.
struct FatVolume::Found {
    uint32_t first_index, count;  // the run's first entry index and length
    Loc sfn;
    uint8_t raw[32];
    uint16_t name[kLongNameMax];
    int name_len;
};

// A position in a directory: its first cluster (0: the FAT12/16 fixed root)
// and the cluster last reached, so a scan walks the chain once.
struct FatVolume::Walk {
    uint32_t first;
    uint32_t cl_index, cl;
};

namespace {

constexpr uint8_t kAttrReadOnly = 0x01, kAttrVolume = 0x08, kAttrDir = 0x10, kAttrArchive = 0x20,
                  kAttrLongName = 0x0f;
constexpr uint32_t kMaxDirEntries = 65536;  // 2 MiB: the specification's limit
constexpr uint32_t kMaxFileSize = 0xffffffffu;
// The date of new entries: there is no wall clock. 2026-01-01 00:00.
constexpr uint16_t kDosDate = ((2026 - 1980) << 9) | (1 << 5) | 1;
constexpr uint16_t kDosTime = 0;

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t* p) {
    return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24;
}
void put16(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v);
    p[1] = static_cast<uint8_t>(v >> 8);
}
void put32(uint8_t* p, uint32_t v) {
    put16(p, v);
    put16(p + 2, v >> 16);
}

bool is_pow2(uint32_t v) { return v && !(v & (v - 1)); }

}  // namespace

const char* fat_type_name(FatType t) {
    switch (t) {
    case FatType::fat12: return "fat12";
    case FatType::fat16: return "fat16";
    case FatType::fat32: return "fat32";
    }
    return "fat?";
}

// --- mount ---------------------------------------------------------------

Status FatVolume::mount(BlockIo& io, const MountOptions& opt, FatVolume*& out, const char*& why) {
    out = nullptr;
    why = nullptr;
    alignas(8) uint8_t bs[512];
    if (io.sectors() < 1) {
        why = "empty device";
        return Status::invalid;
    }
    Status s = io.read(0, 1, bs);
    if (s != Status::ok) {
        why = "cannot read the boot sector";
        return s;
    }
    if (bs[510] != 0x55 || bs[511] != 0xaa || (bs[0] != 0xeb && bs[0] != 0xe9)) {
        why = "no FAT boot sector";
        return Status::unsupported;
    }
    const uint32_t bytes_per_sector = le16(bs + 11);
    const uint32_t spc = bs[13];
    const uint32_t reserved = le16(bs + 14);
    const uint32_t nfats = bs[16];
    const uint32_t root_entries = le16(bs + 17);
    const uint32_t total16 = le16(bs + 19), total32 = le32(bs + 32);
    const uint32_t fatsz16 = le16(bs + 22), fatsz32 = le32(bs + 36);
    if (bytes_per_sector != 512) {
        why = bytes_per_sector == 1024 || bytes_per_sector == 2048 || bytes_per_sector == 4096
                  ? "sector size other than 512 bytes (unsupported)"
                  : "no FAT boot sector";
        return Status::unsupported;
    }
    if (!is_pow2(spc) || spc > 128 || reserved == 0 || nfats == 0 || nfats > 4) {
        why = "bad BPB (cluster size, reserved sectors or FAT count)";
        return Status::corrupt;
    }
    const uint32_t fat_sectors = fatsz16 ? fatsz16 : fatsz32;
    const uint64_t total = total16 ? total16 : total32;
    if (fat_sectors == 0 || total == 0) {
        why = "bad BPB (FAT size or sector count is zero)";
        return Status::corrupt;
    }
    if (total > io.sectors()) {
        why = "volume larger than its device or partition";
        return Status::corrupt;
    }
    const uint64_t root_sectors = (uint64_t{root_entries} * 32 + 511) / 512;
    const uint64_t data_start = reserved + uint64_t{nfats} * fat_sectors + root_sectors;
    if (data_start >= total) {
        why = "bad BPB (no room for data)";
        return Status::corrupt;
    }
    const uint64_t clusters = (total - data_start) / spc;
    // FAT32 is told by its BPB (no 16-bit FAT size), as Linux and
    // dosfstools do: mkfs.fat makes small FAT32 volumes with fewer than
    // 65525 clusters. FAT12 and FAT16 by the cluster count (the spec's rule).
    const FatType type = fatsz16 == 0      ? FatType::fat32
                         : clusters < 4085 ? FatType::fat12
                                           : FatType::fat16;
    if (clusters == 0 || clusters > 0x0ffffff5u || (type != FatType::fat32 && clusters >= 65525)) {
        why = "bad BPB (cluster count)";
        return Status::corrupt;
    }
    if (type == FatType::fat32 && root_entries != 0) {
        why = "bad BPB (FAT32 with a fixed root directory)";
        return Status::corrupt;
    }
    // The FAT must hold an entry for every cluster (plus the two reserved).
    const uint64_t fat_bits = static_cast<uint64_t>(type);
    if ((clusters + 2) * fat_bits > uint64_t{fat_sectors} * 512 * 8) {
        why = "FAT smaller than the cluster count needs";
        return Status::corrupt;
    }
    uint32_t root_cluster = 0, fsinfo = 0, active = 0;
    bool mirror = true;
    if (type == FatType::fat32) {
        root_cluster = le32(bs + 44);
        const uint16_t flags = le16(bs + 40);
        if (le16(bs + 42) != 0) {
            why = "unknown FAT32 version";
            return Status::unsupported;
        }
        if (root_cluster < 2 || root_cluster >= clusters + 2) {
            why = "bad BPB (root directory cluster)";
            return Status::corrupt;
        }
        if (flags & 0x80) {
            mirror = false;
            active = flags & 0x0f;
            if (active >= nfats) {
                why = "bad BPB (active FAT)";
                return Status::corrupt;
            }
        }
        fsinfo = le16(bs + 48);
        if (fsinfo == 0 || fsinfo == 0xffff || fsinfo >= reserved) fsinfo = 0;
    }

    void* mem = mem_alloc(sizeof(FatVolume));
    if (!mem) {
        why = "out of memory";
        return Status::no_memory;
    }
    auto* v = new (mem) FatVolume();
    v->io_ = &io;
    v->type_ = type;
    v->sectors_per_cluster_ = spc;
    v->cluster_size_ = spc * 512;
    while ((1u << v->cluster_shift_) < v->cluster_size_) ++v->cluster_shift_;
    v->fat_start_ = reserved;
    v->fat_sectors_ = fat_sectors;
    v->fat_count_ = nfats;
    v->active_fat_ = active;
    v->mirror_ = mirror;
    v->root_start_ = static_cast<uint32_t>(reserved + nfats * fat_sectors);
    v->root_entries_ = root_entries;
    v->root_cluster_ = root_cluster;
    v->data_start_ = static_cast<uint32_t>(data_start);
    v->clusters_ = static_cast<uint32_t>(clusters);
    v->fsinfo_sector_ = fsinfo;
    v->read_only_ = opt.read_only || io.read_only();
    v->readahead_ = opt.readahead_sectors;
    const uint8_t* label = bs + (type == FatType::fat32 ? 71 : 43);
    const uint8_t sig = bs[type == FatType::fat32 ? 66 : 38];
    if (sig == 0x29) {
        for (int i = 0; i < 11; ++i)
            v->label_[i] = label[i] >= 0x20 && label[i] < 0x7f ? static_cast<char>(label[i]) : '?';
        for (int i = 10; i >= 0 && v->label_[i] == ' '; --i) v->label_[i] = '\0';
    }
    v->max_files_ = opt.max_files ? opt.max_files : 1;
    v->nodes_ = static_cast<FatNode*>(mem_alloc(sizeof(FatNode) * v->max_files_));
    v->files_ = static_cast<FatFile*>(mem_alloc(sizeof(FatFile) * v->max_files_));
    v->zero_cluster_ = static_cast<uint8_t*>(mem_alloc(v->cluster_size_));
    s = v->cache_.init(io, opt.cache_sectors, opt.readahead_sectors);
    if (mirror) v->cache_.set_mirror(reserved, fat_sectors, nfats, fat_sectors);
    if (s == Status::ok && (!v->nodes_ || !v->files_ || !v->zero_cluster_)) s = Status::no_memory;
    if (s != Status::ok) {
        why = "out of memory";
        v->destroy();
        return s;
    }
    // FAT[0] holds the media byte, FAT[1] the end-of-chain value: a check
    // that the FAT is where the BPB says.
    uint32_t f0 = 0;
    s = v->fat_get(0, f0);
    if (s != Status::ok || (f0 & 0xff) != bs[21] || bs[21] < 0xf0 || (f0 | 0xff) != v->fat_mask()) {
        why = s == Status::ok ? "FAT[0] does not match the media byte" : "cannot read the FAT";
        v->destroy();
        return s == Status::ok ? Status::corrupt : s;
    }
    s = v->count_free();
    if (s != Status::ok) {
        why = "cannot read the FAT";
        v->destroy();
        return s;
    }
    out = v;
    return Status::ok;
}

void FatVolume::destroy() {
    cache_.release();
    mem_free(nodes_);
    mem_free(files_);
    mem_free(zero_cluster_);
    this->~FatVolume();
    mem_free(this);
}

Status FatVolume::unmount() {
    {
        Guard g(lock_);
        for (unsigned i = 0; i < max_files_; ++i)
            if (files_[i].used) return Status::busy;
        for (const FatDir& d : dirs_)
            if (d.used) return Status::busy;
        const Status s = sync_locked();
        if (s != Status::ok && !damaged_) return s;
    }
    destroy();
    return Status::ok;
}

// --- the FAT -------------------------------------------------------------

uint32_t FatVolume::fat_mask() const {
    return type_ == FatType::fat12 ? 0xfff : type_ == FatType::fat16 ? 0xffff : 0x0fffffff;
}

uint32_t FatVolume::eoc_min() const { return fat_mask() & ~7u; }

// Byte offset of entry n in a FAT copy.
static uint64_t fat_offset(FatType t, uint32_t n) {
    return t == FatType::fat12   ? n + n / 2
           : t == FatType::fat16 ? uint64_t{n} * 2
                                 : uint64_t{n} * 4;
}

Status FatVolume::fat_get(uint32_t n, uint32_t& value) {
    const uint64_t off = fat_offset(type_, n);
    const uint64_t base = fat_start_ + uint64_t{active_fat_} * fat_sectors_;
    const uint32_t sector = static_cast<uint32_t>(off / 512);
    if (fat_hot_ && fat_hot_lba_ == base + sector && fat_hot_epoch_ == cache_.epoch() &&
        type_ != FatType::fat12) {
        value = type_ == FatType::fat16 ? le16(fat_hot_ + off % 512)
                                        : le32(fat_hot_ + off % 512) & 0x0fffffff;
        return Status::ok;
    }
    // Chains run forward: a miss fetches the following FAT sectors too.
    uint8_t* p;
    Status s = cache_.get(base + sector, p, true, fat_sectors_ - sector);
    if (s != Status::ok) return s;
    const uint32_t o = off % 512;
    if (type_ == FatType::fat12) {
        uint32_t lo = p[o], hi;
        if (o == 511) {
            s = cache_.get(base + off / 512 + 1, p);
            if (s != Status::ok) return s;
            hi = p[0];
        } else {
            hi = p[o + 1];
        }
        const uint32_t v = lo | hi << 8;
        value = n & 1 ? v >> 4 : v & 0xfff;
    } else if (type_ == FatType::fat16) {
        value = le16(p + o);
    } else {
        value = le32(p + o) & 0x0fffffff;
    }
    fat_hot_ = p;
    fat_hot_lba_ = base + sector;
    fat_hot_epoch_ = cache_.epoch();
    return Status::ok;
}

// Sets entry n in the active FAT; the sector cache writes it to every
// mirrored copy (SectorCache::set_mirror).
Status FatVolume::fat_set(uint32_t n, uint32_t value) {
    checked_count_ = 0;  // what was checked may have changed
    ++fat_gen_;          // and the runs files remember
    const uint64_t off = fat_offset(type_, n);
    const uint64_t base = fat_start_ + uint64_t{active_fat_} * fat_sectors_;
    const uint64_t lba = base + off / 512;
    const uint32_t o = off % 512;
    uint8_t* p;
    Status s = cache_.get(lba, p);
    if (s != Status::ok) return s;
    if (type_ == FatType::fat12) {
        const uint32_t v = value & 0xfff;
        if (n & 1) p[o] = static_cast<uint8_t>((p[o] & 0x0f) | (v << 4 & 0xf0));
        else p[o] = static_cast<uint8_t>(v);
        cache_.mark_dirty(lba, SectorCache::kFat);
        uint8_t* q = p;
        uint32_t qo = o + 1;
        uint64_t qlba = lba;
        if (o == 511) {  // the entry's other half is in the next sector
            qlba = lba + 1;
            s = cache_.get(qlba, q);
            if (s != Status::ok) return s;
            qo = 0;
        }
        if (n & 1) q[qo] = static_cast<uint8_t>(v >> 4);
        else q[qo] = static_cast<uint8_t>((q[qo] & 0xf0) | (v >> 8 & 0x0f));
        cache_.mark_dirty(qlba, SectorCache::kFat);
    } else if (type_ == FatType::fat16) {
        put16(p + o, value);
        cache_.mark_dirty(lba, SectorCache::kFat);
    } else {
        put32(p + o, (le32(p + o) & 0xf0000000) | (value & 0x0fffffff));
        cache_.mark_dirty(lba, SectorCache::kFat);
    }
    return Status::ok;
}

// The cluster after c in a chain: ok with `end` set at the end of the
// chain; corrupt when the entry is free, reserved, bad or off the volume.
Status FatVolume::next_cluster(uint32_t c, uint32_t& next, bool& end) {
    if (c < 2 || c >= clusters_ + 2) return fail(Status::corrupt);
    ++chain_steps_;
    uint32_t v;
    const Status s = fat_get(c, v);
    if (s != Status::ok) return s;
    end = v >= eoc_min();
    if (end) return Status::ok;
    if (v < 2 || v >= clusters_ + 2) return fail(Status::corrupt);
    next = v;
    return Status::ok;
}

// Once at mount (the FSInfo count is not trusted), the FAT read in large
// pieces past the cache. A FAT12 FAT (at most 12 sectors) fits one piece, so
// no entry straddles two.
Status FatVolume::count_free() {
    constexpr uint32_t kPiece = 64;  // sectors
    auto* buf = static_cast<uint8_t*>(mem_alloc(kPiece * 512 + 1));
    if (!buf) return Status::no_memory;
    const uint64_t base = fat_start_ + uint64_t{active_fat_} * fat_sectors_;
    uint32_t free = 0, first_free = 0;
    uint32_t piece_start = 0, piece_len = 0;  // sectors of the FAT in buf
    Status s = Status::ok;
    for (uint32_t c = 2; c < clusters_ + 2 && s == Status::ok; ++c) {
        const uint64_t off = fat_offset(type_, c);
        const uint32_t sector = static_cast<uint32_t>(off / 512);
        const uint64_t last_byte = off + (type_ == FatType::fat32 ? 3 : 1);
        if (sector < piece_start || last_byte >= uint64_t{piece_start + piece_len} * 512) {
            piece_start = sector;
            piece_len = fat_sectors_ - sector < kPiece ? fat_sectors_ - sector : kPiece;
            s = io_->read(base + piece_start, piece_len, buf);
            if (s != Status::ok) break;
        }
        const uint8_t* p = buf + (off - uint64_t{piece_start} * 512);
        uint32_t v;
        if (type_ == FatType::fat12)
            v = c & 1 ? (p[0] | p[1] << 8) >> 4 : (p[0] | p[1] << 8) & 0xfff;
        else if (type_ == FatType::fat16) v = le16(p);
        else v = le32(p) & 0x0fffffff;
        if (v == 0) {
            ++free;
            if (!first_free) first_free = c;
        }
    }
    mem_free(buf);
    if (s != Status::ok) return s;
    free_count_ = free;
    next_free_ = first_free ? first_free : 2;
    return Status::ok;
}

Status FatVolume::fail(Status s) {
    if (s == Status::corrupt) damaged_ = true;
    return s;
}

// Before the first change: the volume must be writable and undamaged, and
// the device learns it is being modified (FAT[1]'s clean bit cleared in
// every copy and flushed, before anything else is written).
Status FatVolume::begin_modify() {
    if (read_only_) return Status::read_only;
    if (damaged_) return Status::corrupt;
    if (dirty_on_disk_) return Status::ok;
    Status s = set_clean_bit(false);
    if (s != Status::ok) return s;
    dirty_on_disk_ = true;
    fsinfo_stale_ = fsinfo_sector_ != 0;
    return Status::ok;
}

Status FatVolume::set_clean_bit(bool clean) {
    if (type_ == FatType::fat12) return Status::ok;  // FAT12 has none
    const uint32_t bit = type_ == FatType::fat16 ? 0x8000 : 0x08000000;
    uint32_t v;
    Status s = fat_get(1, v);
    if (s != Status::ok) return s;
    s = fat_set(1, clean ? v | bit : v & ~bit);
    if (s != Status::ok) return s;
    // Written through now (to every copy): nothing else is dirty (the
    // volume was clean, or everything was written back).
    s = cache_.write_back_range(fat_start_ + uint64_t{active_fat_} * fat_sectors_, 1);
    if (s != Status::ok) return s;
    return cache_.sync();
}

Status FatVolume::alloc_cluster(uint32_t prev, uint32_t& out) {
    if (free_count_ == 0) return Status::no_space;
    for (uint32_t i = 0; i < clusters_; ++i) {
        const uint32_t c = 2 + (next_free_ - 2 + i) % clusters_;
        uint32_t v;
        Status s = fat_get(c, v);
        if (s != Status::ok) return s;
        if (v != 0) continue;
        s = fat_set(c, fat_mask());
        if (s == Status::ok && prev) s = fat_set(prev, c);
        if (s != Status::ok) return s;
        --free_count_;
        next_free_ = c + 1 < clusters_ + 2 ? c + 1 : 2;
        fsinfo_stale_ = fsinfo_sector_ != 0;
        out = c;
        return Status::ok;
    }
    free_count_ = 0;  // the count was wrong
    return Status::no_space;
}

// Frees a chain of at most `max` clusters, checked whole before the first
// change (a damaged chain is reported, not half freed).
Status FatVolume::free_chain(uint32_t first, uint32_t max) {
    if (!first) return Status::ok;
    uint32_t c = first, n = 0;
    for (;;) {
        uint32_t next = 0;
        bool end = false;
        Status s = next_cluster(c, next, end);
        if (s != Status::ok) return s;
        if (++n > max) return fail(Status::corrupt);
        if (end) break;
        c = next;
    }
    c = first;
    for (uint32_t i = 0; i < n; ++i) {
        uint32_t next = 0;
        bool end = false;
        Status s = next_cluster(c, next, end);
        if (s == Status::ok) s = fat_set(c, 0);
        if (s != Status::ok) return s;
        ++free_count_;
        if (c < next_free_) next_free_ = c;
        c = next;
    }
    fsinfo_stale_ = fsinfo_sector_ != 0;
    return Status::ok;
}

// The chain of a file of `size` bytes must have exactly the clusters the
// size needs: a loop, a chain off the volume, too short or too long is
// damage.
Status FatVolume::check_chain(uint32_t first, uint32_t size, const Checked** known) {
    if (known) *known = nullptr;
    for (unsigned i = 0; i < checked_count_; ++i) {
        if (checked_[i].first == first && checked_[i].size == size) {
            if (known) *known = &checked_[i];
            return Status::ok;
        }
    }
    Checked c{first, size, 0, 0, 0};
    const Status s = walk_chain(first, size, &c);
    if (s == Status::ok && first) {
        Checked& slot = checked_[checked_count_ < 4 ? checked_count_++ : first % 4];
        slot = c;
        if (known) *known = &slot;
    }
    return s;
}

// Follows the whole chain; `learn` (when given) gets its longest run.
Status FatVolume::walk_chain(uint32_t first, uint32_t size, Checked* learn) {
    const uint32_t need =
        static_cast<uint32_t>((uint64_t{size} + cluster_size_ - 1) >> cluster_shift_);
    if (!first) return need ? fail(Status::corrupt) : Status::ok;
    if (!need) return fail(Status::corrupt);
    uint32_t c = first, run_index = 0, run_cluster = first;
    for (uint32_t i = 1;; ++i) {
        uint32_t next = 0;
        bool end = false;
        const Status s = next_cluster(c, next, end);
        if (s != Status::ok) return s;
        if (end || next != c + 1) {  // the run run_index..i - 1 ends at c
            if (learn && i - run_index > learn->run_len) {
                learn->run_index = run_index;
                learn->run_cluster = run_cluster;
                learn->run_len = i - run_index;
            }
            run_index = i;
            run_cluster = next;
        }
        if (end) return i == need ? Status::ok : fail(Status::corrupt);
        if (i >= need) return fail(Status::corrupt);
        c = next;
    }
}

// The clusters a file of `size` bytes has.
uint32_t FatVolume::clusters_for(uint32_t size) const {
    return static_cast<uint32_t>((uint64_t{size} + cluster_size_ - 1) >> cluster_shift_);
}

uint64_t FatVolume::cluster_lba(uint32_t c) const {
    return data_start_ + (uint64_t{c - 2} << (cluster_shift_ - 9));
}

Status FatVolume::write_cluster_direct(uint32_t c, const uint8_t* data) {
    const uint64_t lba = cluster_lba(c);
    cache_.drop_range(lba, sectors_per_cluster_);
    const Status s = io_->write(lba, sectors_per_cluster_, data);
    cache_.note_direct_write();
    return s;
}

// --- directories ---------------------------------------------------------

uint32_t FatVolume::root_dir() const { return type_ == FatType::fat32 ? root_cluster_ : 0; }

// The place of entry `index` of the directory; not_found past its end.
Status FatVolume::entry_loc(Walk& w, uint32_t index, Loc& loc) {
    if (w.first == 0) {
        if (index >= root_entries_) return Status::not_found;
        loc = {root_start_ + index / 16, static_cast<uint16_t>(index % 16 * 32)};
        return Status::ok;
    }
    if (index >= kMaxDirEntries) return Status::not_found;
    const uint32_t per_cluster = cluster_size_ / 32;
    const uint32_t k = index / per_cluster;
    if (w.cl == 0 || k < w.cl_index) {
        w.cl = w.first;
        w.cl_index = 0;
    }
    while (w.cl_index < k) {
        uint32_t next = 0;
        bool end = false;
        const Status s = next_cluster(w.cl, next, end);
        if (s != Status::ok) return s;
        if (end) return Status::not_found;
        w.cl = next;
        ++w.cl_index;
    }
    const uint32_t in = index % per_cluster;
    loc = {cluster_lba(w.cl) + in / 16, static_cast<uint16_t>(in % 16 * 32)};
    return Status::ok;
}

Status FatVolume::entry_at(Walk& w, uint32_t index, uint8_t*& e, Loc& loc) {
    Status s = entry_loc(w, index, loc);
    if (s != Status::ok) return s;
    uint8_t* p;
    s = cache_.get(loc.lba, p);
    if (s != Status::ok) return s;
    e = p + loc.off;
    return Status::ok;
}

// The next entry of the directory from `index` on: its long name when a
// valid run precedes it, else its short name. Skips free, deleted and
// volume-label entries and orphaned long-name entries; `dots`: also "." and
// "..". not_found at the end; index then points past what was read.
Status FatVolume::next_entry(Walk& w, uint32_t& index, Found& f, bool dots) {
    int lfn_next = 0;  // the order number the next long-name entry must have, 0: none
    uint8_t lfn_sum = 0;
    uint32_t run_start = 0;
    int lfn_len = 0;
    for (;; ++index) {
        uint8_t* e;
        Loc loc;
        const Status s = entry_at(w, index, e, loc);
        if (s != Status::ok) return s;
        if (e[0] == 0x00) return Status::not_found;
        if (e[0] == 0xe5) {
            lfn_next = 0;
            continue;
        }
        if ((e[11] & 0x3f) == kAttrLongName) {
            const int ord = e[0] & 0x3f;
            if (e[0] & 0x40) {
                if (ord == 0 || ord > 20) {
                    lfn_next = 0;
                    continue;
                }
                lfn_next = ord;
                lfn_sum = e[13];
                run_start = index;
                lfn_len = ord * 13;
            } else if (lfn_next == 0 || ord != lfn_next - 1 || e[13] != lfn_sum || ord == 0) {
                lfn_next = 0;
                continue;
            } else {
                lfn_next = ord;
            }
            // The 13 characters of this entry.
            static constexpr uint8_t kPos[13] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
            uint16_t chars[13];
            for (int i = 0; i < 13; ++i) chars[i] = le16(e + kPos[i]);
            const int base = (ord - 1) * 13;
            for (int i = 0; i < 13; ++i) {
                if (base + i >= kLongNameMax) {
                    if (chars[i] != 0 && chars[i] != 0xffff) lfn_next = 0;  // too long
                    if (base + i < lfn_len) lfn_len = base + i;
                    continue;
                }
                f.name[base + i] = chars[i];
                if (chars[i] == 0 && base + i < lfn_len) lfn_len = base + i;
            }
            continue;
        }
        // A short entry.
        if (e[11] & kAttrVolume) {
            lfn_next = 0;
            continue;
        }
        const bool dot = e[0] == '.' && (e[1] == ' ' || (e[1] == '.' && e[2] == ' '));
        if (dot && !dots) {
            lfn_next = 0;
            continue;
        }
        memcpy(f.raw, e, 32);
        f.sfn = loc;
        if (lfn_next == 1 && lfn_len > 0 && fat::sfn_checksum(e) == lfn_sum) {
            f.first_index = run_start;
            f.count = index - run_start + 1;
            // A name no FAT driver writes (a NUL, a control character: a
            // hostile disk's line breaks and terminal escapes): the short name.
            f.name_len = fat::valid_long_name(f.name, lfn_len) ? lfn_len : 0;
        } else {
            f.name_len = 0;
        }
        if (f.name_len == 0) {
            f.first_index = index;
            f.count = 1;
            f.name_len = fat::sfn_to_utf16(e, f.name);
        }
        ++index;
        return Status::ok;
    }
}

uint32_t FatVolume::entry_first(const uint8_t* e) const {
    uint32_t c = le16(e + 26);
    if (type_ == FatType::fat32) c |= uint32_t{le16(e + 20)} << 16;
    return c;
}

void FatVolume::to_stat(const uint8_t* e, Stat& st) const {
    st.attr = e[11];
    st.directory = e[11] & kAttrDir;
    st.read_only = e[11] & kAttrReadOnly;
    st.size = st.directory ? 0 : le32(e + 28);
    st.date = le16(e + 24);
    st.time = le16(e + 22);
    st.cluster = entry_first(e);
}

// Looks `name` (UTF-16) up in directory `dir`.
Status FatVolume::find_in(uint32_t dir, const uint16_t* name, int n, Found& f) {
    Walk w{dir, 0, 0};
    uint32_t index = 0;
    for (;;) {
        const Status s = next_entry(w, index, f, false);
        if (s != Status::ok) return s;
        if (fat::same_name(name, n, f.name, f.name_len)) return Status::ok;
        // The short name matches too (an alias typed by the user).
        uint16_t sfn[12];
        const int sn = fat::sfn_to_utf16(f.raw, sfn);
        if (fat::same_name(name, n, sfn, sn)) return Status::ok;
    }
}

// The first cluster of the directory a found entry is (checked).
Status FatVolume::dir_of(const Found& f, uint32_t& dir) {
    if (!(f.raw[11] & kAttrDir)) return Status::not_directory;
    dir = entry_first(f.raw);
    if (dir == 0) return f.raw[0] == '.' ? (dir = root_dir(), Status::ok) : fail(Status::corrupt);
    if (dir < 2 || dir >= clusters_ + 2) return fail(Status::corrupt);
    return Status::ok;
}

// Resolves every component of `path` but the last: `dir` is the directory
// that holds the last one, `leaf` points at it (empty for the root).
Status FatVolume::resolve_parent(const char* path, uint32_t& dir, const char*& leaf, Found& f) {
    dir = root_dir();
    const char* p = path;
    while (*p == '/') ++p;
    for (;;) {
        const char* end = p;
        while (*end && *end != '/') ++end;
        const char* next = end;
        while (*next == '/') ++next;
        if (!*next) {
            leaf = p;
            return Status::ok;
        }
        char comp[kNameMax];
        const std::size_t len = static_cast<std::size_t>(end - p);
        if (len >= sizeof(comp)) return Status::name_too_long;
        memcpy(comp, p, len);
        comp[len] = '\0';
        uint16_t name[kLongNameMax];
        const int n = fat::utf8_to_utf16(comp, name, kLongNameMax);
        if (n < 0) return Status::name_too_long;
        Status s = find_in(dir, name, n, f);
        if (s != Status::ok) return s;
        s = dir_of(f, dir);
        if (s != Status::ok) return s;
        p = next;
    }
}

// The leaf's name as UTF-16 (up to a '/' or the end).
static int leaf_name(const char* leaf, uint16_t* name) {
    char comp[kNameMax];
    std::size_t len = 0;
    while (leaf[len] && leaf[len] != '/') {
        if (len + 1 >= sizeof(comp)) return -1;
        comp[len] = leaf[len];
        ++len;
    }
    comp[len] = '\0';
    return fat::utf8_to_utf16(comp, name, kLongNameMax);
}

// Looks a whole path up; `parent` gets the directory holding it. An empty
// leaf is the root: `is_root` set, f untouched.
Status FatVolume::lookup(const char* path, uint32_t& parent, Found& f, bool& is_root) {
    const char* leaf;
    is_root = false;
    Status s = resolve_parent(path, parent, leaf, f);
    if (s != Status::ok) return s;
    is_root = !*leaf;
    if (is_root) return Status::ok;
    uint16_t name[kLongNameMax];
    const int n = leaf_name(leaf, name);
    if (n < 0) return Status::name_too_long;
    return find_in(parent, name, n, f);
}

// A short name not used in the directory yet: the basis itself when it is
// lossless, else with numeric tails.
Status FatVolume::unique_sfn(uint32_t dir, const uint8_t* basis, bool lossless, uint8_t* out) {
    Found f;
    for (unsigned n = lossless ? 0 : 1; n < 1000000; ++n) {
        if (n == 0) memcpy(out, basis, 11);
        else fat::sfn_with_tail(basis, n, out);
        Walk w{dir, 0, 0};
        uint32_t index = 0;
        bool taken = false;
        for (;;) {
            const Status s = next_entry(w, index, f, true);
            if (s == Status::not_found) break;
            if (s != Status::ok) return s;
            if (!memcmp(f.raw, out, 11)) {
                taken = true;
                break;
            }
        }
        if (!taken) return Status::ok;
    }
    return Status::exists;
}

// Appends a zeroed cluster to directory `dir` (not the fixed root).
Status FatVolume::extend_dir(uint32_t dir) {
    if (dir == 0) return Status::no_space;  // the fixed root is full
    uint32_t last = dir, n = 0;
    for (;;) {
        uint32_t next = 0;
        bool end = false;
        Status s = next_cluster(last, next, end);
        if (s != Status::ok) return s;
        if (end) break;
        if (++n >= kMaxDirEntries * 32 / cluster_size_) return Status::no_space;
        last = next;
    }
    if (free_count_ == 0) return Status::no_space;
    // Zeroed on the device before the FAT links it in.
    memset(zero_cluster_, 0, cluster_size_);
    uint32_t c = 0;
    Status s = alloc_cluster(0, c);
    if (s != Status::ok) return s;
    s = write_cluster_direct(c, zero_cluster_);
    if (s == Status::ok) s = fat_set(last, c);
    return s;
}

// Writes a new entry run (long-name entries and the short entry `sfn_entry`
// whose name bytes are replaced) for `name` into directory `dir`.
Status FatVolume::add_entry(uint32_t dir, const uint16_t* name, int n, const uint8_t* sfn_entry,
                            Found& out) {
    if (!fat::valid_long_name(name, n)) return Status::invalid;
    uint8_t basis[11], sfn[11];
    bool lossless;
    const bool exact = fat::sfn_basis(name, n, basis, lossless);
    Status s = unique_sfn(dir, basis, lossless, sfn);
    if (s != Status::ok) return s;
    const uint32_t lfn_count = exact ? 0 : static_cast<uint32_t>((n + 12) / 13);
    const uint32_t need = lfn_count + 1;
    // A run of free entries; the directory grows when there is none.
    Walk w{dir, 0, 0};
    uint32_t run = 0, start = 0;
    for (uint32_t index = 0;; ++index) {
        uint8_t* e;
        Loc loc;
        s = entry_at(w, index, e, loc);
        if (s == Status::not_found) {
            s = extend_dir(dir);
            if (s != Status::ok) return s;
            s = entry_at(w, index, e, loc);
        }
        if (s != Status::ok) return s;
        if (e[0] == 0x00 || e[0] == 0xe5) {
            if (run++ == 0) start = index;
            if (run == need) break;
        } else {
            run = 0;
        }
    }
    const uint8_t sum = fat::sfn_checksum(sfn);
    static constexpr uint8_t kPos[13] = {1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30};
    for (uint32_t i = 0; i < need; ++i) {
        uint8_t* e;
        Loc loc;
        s = entry_at(w, start + i, e, loc);
        if (s != Status::ok) return s;
        memset(e, 0, 32);
        if (i < lfn_count) {
            const uint32_t ord = lfn_count - i;  // stored last part first
            e[0] = static_cast<uint8_t>(ord | (i == 0 ? 0x40 : 0));
            e[11] = kAttrLongName;
            e[13] = sum;
            for (int k = 0; k < 13; ++k) {
                const int at = static_cast<int>((ord - 1) * 13) + k;
                const uint16_t c = at < n ? name[at] : at == n ? 0 : 0xffff;
                put16(e + kPos[k], c);
            }
        } else {
            memcpy(e, sfn_entry, 32);
            memcpy(e, sfn, 11);
            e[12] = 0;  // no lower-case flags: the long name has the case
            out.sfn = loc;
            memcpy(out.raw, e, 32);
        }
        cache_.mark_dirty(loc.lba, SectorCache::kDir);
    }
    out.first_index = start;
    out.count = need;
    return Status::ok;
}

Status FatVolume::remove_entry(uint32_t dir, const Found& f) {
    Walk w{dir, 0, 0};
    for (uint32_t i = 0; i < f.count; ++i) {
        uint8_t* e;
        Loc loc;
        const Status s = entry_at(w, f.first_index + i, e, loc);
        if (s != Status::ok) return s;
        e[0] = 0xe5;
        cache_.mark_dirty(loc.lba, SectorCache::kDir);
    }
    return Status::ok;
}

// Rewrites a short entry in place (size, first cluster, attributes).
Status FatVolume::update_entry(const Loc& loc, uint32_t first, uint32_t size) {
    uint8_t* p;
    const Status s = cache_.get(loc.lba, p);
    if (s != Status::ok) return s;
    uint8_t* e = p + loc.off;
    put16(e + 26, first);
    put16(e + 20, type_ == FatType::fat32 ? first >> 16 : 0);
    if (!(e[11] & kAttrDir)) put32(e + 28, size);
    put16(e + 22, kDosTime);
    put16(e + 24, kDosDate);
    put16(e + 18, kDosDate);
    cache_.mark_dirty(loc.lba, SectorCache::kDir);
    return Status::ok;
}

static void new_sfn_entry(uint8_t* e, uint8_t attr, uint32_t first, bool fat32) {
    memset(e, 0, 32);
    memset(e, ' ', 11);
    e[11] = attr;
    put16(e + 14, kDosTime);
    put16(e + 16, kDosDate);
    put16(e + 18, kDosDate);
    put16(e + 22, kDosTime);
    put16(e + 24, kDosDate);
    put16(e + 26, first);
    put16(e + 20, fat32 ? first >> 16 : 0);
}

// --- public operations -------------------------------------------------------

Status FatVolume::sync() {
    Guard g(lock_);
    return sync_locked();
}

Status FatVolume::sync_locked() {
    if (read_only_) return Status::ok;
    // The directory entries of files being written hold their sizes.
    Status s = Status::ok;
    if (fsinfo_stale_ && fsinfo_sector_ && !damaged_) {
        uint8_t* p;
        s = cache_.get(fsinfo_sector_, p);
        if (s != Status::ok) return s;
        if (le32(p) == 0x41615252 && le32(p + 484) == 0x61417272) {
            put32(p + 488, free_count_);
            put32(p + 492, next_free_);
            cache_.mark_dirty(fsinfo_sector_, SectorCache::kDir);
        }
        fsinfo_stale_ = false;
    }
    s = cache_.sync();
    if (s != Status::ok) return s;
    if (dirty_on_disk_ && !damaged_) {
        s = set_clean_bit(true);
        if (s != Status::ok) return s;
        dirty_on_disk_ = false;
    }
    return Status::ok;
}

Status FatVolume::statfs(StatFs& out) {
    Guard g(lock_);
    out.type = type_;
    out.cluster_size = cluster_size_;
    out.clusters = clusters_;
    out.free_clusters = free_count_;
    out.total_bytes = uint64_t{clusters_} * cluster_size_;
    out.free_bytes = uint64_t{free_count_} * cluster_size_;
    out.read_only = read_only_;
    memcpy(out.label, label_, sizeof(out.label));
    return Status::ok;
}

SectorCache::Stats FatVolume::cache_stats() {
    Guard g(lock_);
    return cache_.stats();
}

uint64_t FatVolume::chain_steps() {
    Guard g(lock_);
    return chain_steps_;
}

Status FatVolume::stat(const char* path, Stat& out) {
    Guard g(lock_);
    uint32_t parent;
    Found f;
    bool root = false;
    const Status s = lookup(path, parent, f, root);
    if (s != Status::ok) return s;
    if (root) {
        out = {0, true, false, kAttrDir, 0, 0, root_dir()};
        return Status::ok;
    }
    to_stat(f.raw, out);
    // An open file's size is its node's (ahead of the entry until synced).
    for (unsigned i = 0; i < max_files_; ++i)
        if (nodes_[i].refs && nodes_[i].entry_lba == f.sfn.lba && nodes_[i].entry_off == f.sfn.off)
            out.size = nodes_[i].size;
    return Status::ok;
}

FatNode* FatVolume::node_at(const Loc& loc) {
    for (unsigned i = 0; i < max_files_; ++i)
        if (nodes_[i].refs && nodes_[i].entry_lba == loc.lba && nodes_[i].entry_off == loc.off)
            return &nodes_[i];
    return nullptr;
}

Status FatVolume::open(const char* path, unsigned flags, FatFile*& out) {
    Guard g(lock_);
    out = nullptr;
    if (!(flags & (kRead | kWrite))) return Status::invalid;
    const bool writing = flags & (kWrite | kCreate | kTruncate | kAppend);
    if (writing && read_only_) return Status::read_only;
    FatFile* file = nullptr;
    for (unsigned i = 0; i < max_files_ && !file; ++i)
        if (!files_[i].used) file = &files_[i];
    if (!file) return Status::too_many;
    uint32_t parent;
    Found f;
    bool root = false;
    Status s = lookup(path, parent, f, root);
    if (root) return Status::is_directory;
    if (s == Status::not_found && (flags & kCreate)) {
        // The parent exists (lookup reached the leaf): create the file.
        const char* leaf;
        Found pf;
        s = resolve_parent(path, parent, leaf, pf);
        if (s != Status::ok) return s;
        uint16_t name[kLongNameMax];
        const int n = leaf_name(leaf, name);
        if (n < 0) return Status::name_too_long;
        s = begin_modify();
        if (s != Status::ok) return s;
        uint8_t e[32];
        new_sfn_entry(e, kAttrArchive, 0, type_ == FatType::fat32);
        s = add_entry(parent, name, n, e, f);
        if (s != Status::ok) return s;
    } else if (s != Status::ok) {
        return s;
    } else {
        if (f.raw[11] & kAttrDir) return Status::is_directory;
        if ((flags & kCreate) && (flags & kExclusive)) return Status::exists;
        if (writing && (f.raw[11] & kAttrReadOnly)) return Status::read_only;
    }
    FatNode* node = node_at(f.sfn);
    if (!node) {
        for (unsigned i = 0; i < max_files_ && !node; ++i)
            if (!nodes_[i].refs) node = &nodes_[i];
        if (!node) return Status::too_many;  // cannot happen: as many nodes as files
        const uint32_t first = entry_first(f.raw), size = le32(f.raw + 28);
        const Checked* known;
        s = check_chain(first, size, &known);
        if (s != Status::ok) return s;
        *node = {f.sfn.lba, f.sfn.off, first, size, f.raw[11], 0, 0, 0, 0, 0};
        if (known && known->run_len) {  // the run the chain check saw
            node->run_index = known->run_index;
            node->run_cluster = known->run_cluster;
            node->run_len = known->run_len;
            node->run_gen = fat_gen_;
        }
    }
    if ((flags & kTruncate) && (flags & kWrite) && (node->size || node->first)) {
        s = begin_modify();
        if (s == Status::ok) s = truncate_node(node);
        if (s != Status::ok) return s;
    }
    ++node->refs;
    *file = {this, node, flags, 0, 0, 0, true};
    out = file;
    return Status::ok;
}

// Empties a file: the entry first (written back), then its clusters freed.
Status FatVolume::truncate_node(FatNode* node) {
    const uint32_t first = node->first, size = node->size;
    Status s = update_entry({node->entry_lba, node->entry_off}, 0, 0);
    if (s == Status::ok) s = cache_.write_back();
    if (s != Status::ok) return s;
    node->first = 0;
    node->size = 0;
    for (unsigned i = 0; i < max_files_; ++i)
        if (files_[i].used && files_[i].node == node) files_[i].cl = files_[i].cl_index = 0;
    const uint32_t max =
        static_cast<uint32_t>((uint64_t{size} + cluster_size_ - 1) >> cluster_shift_);
    return free_chain(first, max ? max : 1);
}

Status FatVolume::close(FatFile* f) {
    if (!f || f->volume != this) return Status::invalid;
    Guard g(lock_);
    if (!f->used) return Status::invalid;
    f->used = false;
    --f->node->refs;
    return Status::ok;
}

// Makes f->cl the index-th cluster of the file, appending clusters when
// `grow` and the chain ends before it.
Status FatVolume::seek_cluster(FatFile* f, uint32_t index, bool grow) {
    FatNode* node = f->node;
    if (node->first == 0) {
        if (!grow) return fail(Status::corrupt);
        uint32_t c;
        Status s = alloc_cluster(0, c);
        if (s != Status::ok) return s;
        node->first = c;
        s = update_entry({node->entry_lba, node->entry_off}, node->first, node->size);
        if (s != Status::ok) return s;
        f->cl = c;
        f->cl_index = 0;
    }
    // Inside the node's known run: the cluster by arithmetic.
    if (node->run_len && node->run_gen == fat_gen_ && index >= node->run_index &&
        index - node->run_index < node->run_len) {
        f->cl = node->run_cluster + (index - node->run_index);
        f->cl_index = index;
        return Status::ok;
    }
    if (f->cl == 0 || index < f->cl_index) {
        f->cl = node->first;
        f->cl_index = 0;
    }
    while (f->cl_index < index) {
        uint32_t next = 0;
        bool end = false;
        Status s = next_cluster(f->cl, next, end);
        if (s != Status::ok) return s;
        if (end) {
            if (!grow) return fail(Status::corrupt);
            s = alloc_cluster(f->cl, next);
            if (s != Status::ok) return s;
        }
        f->cl = next;
        ++f->cl_index;
    }
    return Status::ok;
}

// After a transfer of `bytes` (> 0) from f->pos over clusters contiguous()
// found consecutive: f->cl moves to the cluster of the transfer's last byte
// by arithmetic, not by walking the chain again (f->pos is not moved).
void FatVolume::jump_in_run(FatFile* f, std::size_t bytes) {
    const uint32_t from = f->pos >> cluster_shift_;
    const uint32_t last = static_cast<uint32_t>((uint64_t{f->pos} + bytes - 1) >> cluster_shift_);
    f->cl += last - from;
    f->cl_index += last - from;
}

// How many sectors from f's current cluster on are contiguous on the disk,
// up to `want` (the chain followed without moving f).
Status FatVolume::contiguous(FatFile* f, uint32_t offset_in_cluster_sectors, uint32_t want,
                             uint32_t& got) {
    got = sectors_per_cluster_ - offset_in_cluster_sectors;
    uint32_t c = f->cl, index = f->cl_index;
    FatNode* n = f->node;
    // Inside the node's known run: no FAT lookups up to its end.
    const bool in_run = n->run_len && n->run_gen == fat_gen_ && index >= n->run_index &&
                        index - n->run_index < n->run_len &&
                        n->run_cluster + (index - n->run_index) == c;
    if (in_run) {
        const uint32_t more = n->run_index + n->run_len - 1 - index;
        if (got + uint64_t{more} * sectors_per_cluster_ >= want) {
            got = want;
            return Status::ok;
        }
        got += more * sectors_per_cluster_;
        c += more;
        index += more;
    }
    while (got < want) {
        uint32_t next = 0;
        bool end = false;
        const Status s = next_cluster(c, next, end);
        if (s != Status::ok) return s;
        if (end || next != c + 1) break;
        c = next;
        ++index;
        got += sectors_per_cluster_;
    }
    // Remember the run: grown from the known one when it started in it or
    // right after it (f got here through the run's last link, so the known
    // run and this one are one run).
    const bool follows = !in_run && n->run_len && n->run_gen == fat_gen_ &&
                         f->cl_index == n->run_index + n->run_len &&
                         f->cl == n->run_cluster + n->run_len;
    const bool grows = in_run || follows;
    const uint32_t start = grows ? n->run_index : f->cl_index;
    const uint32_t len = index - start + 1;
    if (grows || n->run_gen != fat_gen_ || len > n->run_len) {
        n->run_cluster = grows ? n->run_cluster : f->cl;
        n->run_index = start;
        n->run_len = len;
        n->run_gen = fat_gen_;
    }
    if (got > want) got = want;
    return Status::ok;
}

// Whole sectors of f from f->pos (a sector boundary), at most `bytes` (>= 512,
// within the file): one request per run of consecutive clusters (up to
// 1 MiB), straight into `out`, up to kBatch of them in flight together (a
// fragmented file); dirty cached sectors among them are written back first.
// f->pos moves by `got`. ok with got > 0, or the failure with nothing moved.
Status FatVolume::read_direct(FatFile* f, uint8_t* out, std::size_t bytes, std::size_t& got) {
    constexpr uint32_t kMaxRequest = 2048;  // sectors: 1 MiB
    constexpr unsigned kBatch = 16;
    BlockIo::Transfer batch[kBatch];
    unsigned k = 0;
    const uint32_t pos0 = f->pos, cl0 = f->cl, index0 = f->cl_index;
    got = 0;
    Status s = Status::ok;
    while (k < kBatch && bytes - got >= 512) {
        // A damaged chain past the first run: what was gathered is read,
        // the next call meets the damage.
        if (got && seek_cluster(f, f->pos >> cluster_shift_, false) != Status::ok) break;
        const uint32_t sector_in_cluster = (f->pos & (cluster_size_ - 1)) / 512;
        const uint64_t lba = cluster_lba(f->cl) + sector_in_cluster;
        const std::size_t left = (bytes - got) / 512;
        uint32_t sectors;
        s = contiguous(f, sector_in_cluster,
                       left < kMaxRequest ? static_cast<uint32_t>(left) : kMaxRequest, sectors);
        if (s == Status::ok) s = cache_.write_back_range(lba, sectors);
        if (s != Status::ok) break;
        batch[k++] = {false, lba, sectors, out + got};
        jump_in_run(f, std::size_t{sectors} * 512);
        f->pos += sectors * 512;
        got += std::size_t{sectors} * 512;
    }
    if (k) s = io_->run(std::span<const BlockIo::Transfer>(batch, k));
    if (s != Status::ok || !k) {
        f->pos = pos0;
        f->cl = cl0;
        f->cl_index = index0;
        got = 0;
        return s != Status::ok ? s : Status::corrupt;
    }
    return Status::ok;
}

Status FatVolume::read(FatFile* f, void* buf, std::size_t n, std::size_t& done) {
    done = 0;
    if (!f || f->volume != this || !buf) return Status::invalid;
    Guard g(lock_);
    if (!f->used || !(f->flags & kRead)) return Status::invalid;
    FatNode* node = f->node;
    auto* out = static_cast<uint8_t*>(buf);
    while (done < n && f->pos < node->size) {
        std::size_t left = n - done;
        if (left > node->size - f->pos) left = node->size - f->pos;
        Status s = seek_cluster(f, f->pos >> cluster_shift_, false);
        if (s != Status::ok) return done ? Status::ok : s;
        const uint32_t in_cluster = f->pos & (cluster_size_ - 1);
        const uint32_t in_sector = in_cluster % 512;
        std::size_t step = 0;
        if (in_sector == 0 && left >= 512) {
            s = read_direct(f, out + done, left, step);
            if (s != Status::ok) return done ? Status::ok : s;
            done += step;
            continue;  // f->pos moved; the loop finds its cluster
        }
        const uint32_t sector_in_cluster = in_cluster / 512;
        const uint64_t lba = cluster_lba(f->cl) + sector_in_cluster;
        uint8_t* p;
        uint32_t ahead;
        s = contiguous(f, sector_in_cluster, readahead_, ahead);
        if (s == Status::ok) s = cache_.read_ahead(lba, ahead);
        if (s == Status::ok) s = cache_.get(lba, p);
        if (s != Status::ok) return done ? Status::ok : s;
        step = 512 - in_sector < left ? 512 - in_sector : left;
        memcpy(out + done, p + in_sector, step);
        // Advance; the cluster position follows when a step crosses clusters.
        const uint32_t old_index = f->pos >> cluster_shift_;
        f->pos += static_cast<uint32_t>(step);
        done += step;
        const uint32_t new_index = f->pos >> cluster_shift_;
        if (new_index != old_index && f->pos < node->size) {
            s = seek_cluster(f, new_index, false);
            if (s != Status::ok) return Status::ok;
        }
    }
    return Status::ok;
}

Status FatVolume::write(FatFile* f, const void* buf, std::size_t n, std::size_t& done) {
    done = 0;
    if (!f || f->volume != this || (!buf && n)) return Status::invalid;
    Guard g(lock_);
    if (!f->used || !(f->flags & kWrite)) return Status::invalid;
    if (n == 0) return Status::ok;
    Status s = begin_modify();
    if (s != Status::ok) return s;
    FatNode* node = f->node;
    if (f->flags & kAppend) f->pos = node->size;
    if (uint64_t{f->pos} + n > kMaxFileSize) {
        if (f->pos >= kMaxFileSize) return Status::no_space;
        n = kMaxFileSize - f->pos;
    }
    // A gap past the end is filled with zeros first.
    if (f->pos > node->size) {
        const uint32_t target = f->pos;
        f->pos = node->size;
        memset(zero_cluster_, 0, cluster_size_);
        while (s == Status::ok && f->pos < target) {
            const std::size_t z = target - f->pos < cluster_size_ ? target - f->pos : cluster_size_;
            std::size_t d;
            s = write_locked(f, zero_cluster_, z, d);
        }
        if (s != Status::ok) {
            update_entry({node->entry_lba, node->entry_off}, node->first, node->size);
            return s;
        }
    }
    s = write_locked(f, static_cast<const uint8_t*>(buf), n, done);
    const Status u = update_entry({node->entry_lba, node->entry_off}, node->first, node->size);
    if (s == Status::no_space && done) s = Status::ok;  // a short write; the next one fails
    return s != Status::ok ? s : u;
}

Status FatVolume::write_locked(FatFile* f, const uint8_t* in, std::size_t n, std::size_t& done) {
    FatNode* node = f->node;
    done = 0;
    constexpr uint32_t kMaxDirect = 2048;
    while (done < n) {
        const std::size_t left = n - done;
        Status s = seek_cluster(f, f->pos >> cluster_shift_, true);
        if (s != Status::ok) return s;
        const uint32_t in_cluster = f->pos & (cluster_size_ - 1);
        const uint32_t sector_in_cluster = in_cluster / 512;
        const uint64_t lba = cluster_lba(f->cl) + sector_in_cluster;
        const uint32_t in_sector = in_cluster % 512;
        std::size_t step = 0;
        if (in_sector == 0 && left >= 512) {
            // Whole sectors straight to the device, over the clusters that
            // are allocated and contiguous (allocating ahead when the file
            // grows keeps them contiguous on a fresh volume).
            uint32_t want =
                static_cast<uint32_t>(left / 512 < kMaxDirect ? left / 512 : kMaxDirect);
            uint32_t got;
            s = grow_for(f, want);
            if (s != Status::ok && s != Status::no_space) return s;
            s = contiguous(f, sector_in_cluster, want, got);
            if (s != Status::ok) return s;
            cache_.drop_range(lba, got);
            s = io_->write(lba, got, in + done);
            cache_.note_direct_write();
            if (s != Status::ok) return s;
            step = std::size_t{got} * 512;
            jump_in_run(f, step);
        } else {
            uint8_t* p;
            // Nothing of the file is in a sector that starts at or past its end.
            const bool fresh = in_sector == 0 && f->pos >= node->size;
            s = cache_.get(lba, p, !fresh);
            if (s != Status::ok) return s;
            if (fresh) memset(p, 0, 512);
            step = 512 - in_sector < left ? 512 - in_sector : left;
            memcpy(p + in_sector, in + done, step);
            cache_.mark_dirty(lba, SectorCache::kData);
        }
        f->pos += static_cast<uint32_t>(step);
        done += step;
        if (f->pos > node->size) node->size = f->pos;
        // Leave f on the cluster holding pos - 1 until more is written: the
        // next cluster is only allocated when data goes into it.
        const uint32_t index = (f->pos - 1) >> cluster_shift_;
        if (index != f->cl_index) {
            s = seek_cluster(f, index, false);
            if (s != Status::ok) return s;
        }
    }
    return Status::ok;
}

// Makes sure the clusters that `sectors` more sectors from f->pos need
// exist (allocated at the end of the chain, normally contiguous).
Status FatVolume::grow_for(FatFile* f, uint32_t sectors) {
    const uint64_t last_byte = uint64_t{f->pos} + uint64_t{sectors} * 512 - 1;
    const uint32_t have = clusters_for(f->node->size);
    const uint32_t need = static_cast<uint32_t>(last_byte >> cluster_shift_) + 1;
    if (!sectors || need <= have) return Status::ok;
    // Walk to the end and append from there, then come back to pos's
    // cluster (where the caller's seek_cluster() left f). The chain may now
    // run past the size until the data lands: fsck.fat repairs that. From
    // f's cluster on (walking back to the start of the chain would make long
    // writes quadratic): it is pos's, at or past the last but one.
    const uint32_t saved_cl = f->cl, saved_index = f->cl_index;
    uint32_t from = have ? have - 1 : 0;
    if (f->cl && f->cl_index > from) from = f->cl_index;
    Status s = Status::ok;
    for (uint32_t i = from; s == Status::ok && i < need; ++i) s = seek_cluster(f, i, true);
    f->cl = saved_cl;
    f->cl_index = saved_index;
    return s;
}

Status FatVolume::seek(FatFile* f, int64_t offset, int whence, uint64_t& pos) {
    if (!f || f->volume != this) return Status::invalid;
    Guard g(lock_);
    if (!f->used) return Status::invalid;
    int64_t base = whence == 0 ? 0 : whence == 1 ? f->pos : whence == 2 ? f->node->size : -1;
    if (base < 0) return Status::invalid;
    const int64_t p = base + offset;
    if (p < 0 || p > int64_t{kMaxFileSize}) return Status::invalid;
    f->pos = static_cast<uint32_t>(p);
    pos = f->pos;
    return Status::ok;
}

Status FatVolume::fsync(FatFile* f) {
    if (!f || f->volume != this) return Status::invalid;
    Guard g(lock_);
    if (!f->used) return Status::invalid;
    return sync_locked();
}

Status FatVolume::fstat(FatFile* f, Stat& out) {
    if (!f || f->volume != this) return Status::invalid;
    Guard g(lock_);
    if (!f->used) return Status::invalid;
    out = {f->node->size, false,    bool(f->node->attr & kAttrReadOnly),
           f->node->attr, kDosDate, kDosTime,
           f->node->first};
    return Status::ok;
}

Status FatVolume::opendir(const char* path, FatDir*& out) {
    Guard g(lock_);
    out = nullptr;
    uint32_t parent, dir;
    Found f;
    bool root = false;
    Status s = lookup(path, parent, f, root);
    if (s != Status::ok) return s;
    if (root) {
        dir = root_dir();
    } else {
        s = dir_of(f, dir);
        if (s != Status::ok) return s;
    }
    for (FatDir& d : dirs_) {
        if (d.used) continue;
        d = {dir, 0, 0, 0, true};
        out = &d;
        return Status::ok;
    }
    return Status::too_many;
}

Status FatVolume::readdir(FatDir* d, DirEntry& out) {
    if (!d) return Status::invalid;
    Guard g(lock_);
    if (!d->used) return Status::invalid;
    Walk w{d->first, d->cl_index, d->cl};
    Found f;
    Status s;
    // A short name of blanks only (its first byte may not be a space: a
    // damaged entry) with no long name has no name to show or open: skipped.
    do s = next_entry(w, d->index, f, false);
    while (s == Status::ok && f.name_len == 0);
    d->cl_index = w.cl_index;
    d->cl = w.cl;
    if (s != Status::ok) return s;
    if (!fat::utf16_to_utf8(f.name, f.name_len, out.name, sizeof(out.name)))
        return fail(Status::corrupt);
    to_stat(f.raw, out.st);
    if (FatNode* node = node_at(f.sfn)) out.st.size = node->size;
    return Status::ok;
}

Status FatVolume::closedir(FatDir* d) {
    if (!d) return Status::invalid;
    Guard g(lock_);
    if (!d->used) return Status::invalid;
    d->used = false;
    return Status::ok;
}

Status FatVolume::mkdir(const char* path) {
    Guard g(lock_);
    uint32_t parent;
    Found f;
    bool root = false;
    Status s = lookup(path, parent, f, root);
    if (root || s == Status::ok) return Status::exists;
    if (s != Status::not_found) return s;
    const char* leaf;
    s = resolve_parent(path, parent, leaf, f);
    if (s != Status::ok) return s;
    uint16_t name[kLongNameMax];
    const int n = leaf_name(leaf, name);
    if (n < 0) return Status::name_too_long;
    if (!fat::valid_long_name(name, n)) return Status::invalid;
    s = begin_modify();
    if (s != Status::ok) return s;
    if (free_count_ == 0) return Status::no_space;
    // The new directory's cluster: "." and "..", the rest zeros, on the
    // device before the FAT and the parent's entry point to it.
    uint32_t c;
    s = alloc_cluster(0, c);
    if (s != Status::ok) return s;
    memset(zero_cluster_, 0, cluster_size_);
    const bool fat32 = type_ == FatType::fat32;
    new_sfn_entry(zero_cluster_, kAttrDir, c, fat32);
    zero_cluster_[0] = '.';
    new_sfn_entry(zero_cluster_ + 32, kAttrDir, parent == root_dir() ? 0 : parent, fat32);
    zero_cluster_[32] = zero_cluster_[33] = '.';
    s = write_cluster_direct(c, zero_cluster_);
    if (s != Status::ok) return s;
    uint8_t e[32];
    new_sfn_entry(e, kAttrDir, c, fat32);
    Found created;
    s = add_entry(parent, name, n, e, created);
    if (s != Status::ok) {
        free_chain(c, 1);  // give the cluster back
        return s;
    }
    return Status::ok;
}

Status FatVolume::unlink(const char* path) {
    Guard g(lock_);
    uint32_t parent;
    Found f;
    bool root = false;
    Status s = lookup(path, parent, f, root);
    if (root) return Status::is_directory;
    if (s != Status::ok) return s;
    if (f.raw[11] & kAttrDir) return Status::is_directory;
    if (node_at(f.sfn)) return Status::busy;
    const uint32_t first = entry_first(f.raw), size = le32(f.raw + 28);
    s = check_chain(first, size);
    if (s != Status::ok) return s;
    s = begin_modify();
    if (s != Status::ok) return s;
    // The entry goes first (on the device), then its clusters are freed:
    // a crash in between leaves lost clusters, never a cross-link.
    s = remove_entry(parent, f);
    if (s == Status::ok) s = cache_.write_back();
    if (s != Status::ok) return s;
    const uint32_t max =
        static_cast<uint32_t>((uint64_t{size} + cluster_size_ - 1) >> cluster_shift_);
    return free_chain(first, max ? max : 1);
}

Status FatVolume::rmdir(const char* path) {
    Guard g(lock_);
    uint32_t parent, dir;
    Found f;
    bool root = false;
    Status s = lookup(path, parent, f, root);
    if (root) return Status::busy;
    if (s != Status::ok) return s;
    s = dir_of(f, dir);
    if (s != Status::ok) return s;
    for (const FatDir& d : dirs_)
        if (d.used && d.first == dir) return Status::busy;
    // Empty: nothing but "." and "..".
    Walk w{dir, 0, 0};
    uint32_t index = 0;
    Found child;
    s = next_entry(w, index, child, false);
    if (s == Status::ok) return Status::not_empty;
    if (s != Status::not_found) return s;
    s = begin_modify();
    if (s != Status::ok) return s;
    s = remove_entry(parent, f);
    if (s == Status::ok) s = cache_.write_back();
    if (s != Status::ok) return s;
    return free_chain(dir, kMaxDirEntries * 32 / cluster_size_);
}

Status FatVolume::rename(const char* from, const char* to) {
    Guard g(lock_);
    uint32_t src_parent, dst_parent;
    Found src, dst;
    bool root = false;
    Status s = lookup(from, src_parent, src, root);
    if (root) return Status::busy;
    if (s != Status::ok) return s;
    s = lookup(to, dst_parent, dst, root);
    if (root) return Status::exists;
    if (s == Status::ok) {
        if (dst.sfn.lba == src.sfn.lba && dst.sfn.off == src.sfn.off) {
            // The same entry: only the case of the name may change; keep it simple.
            return Status::ok;
        }
        return Status::exists;
    }
    if (s != Status::not_found) return s;
    const char* leaf;
    Found pf;
    s = resolve_parent(to, dst_parent, leaf, pf);
    if (s != Status::ok) return s;
    uint16_t name[kLongNameMax];
    const int n = leaf_name(leaf, name);
    if (n < 0) return Status::name_too_long;
    const bool is_dir = src.raw[11] & kAttrDir;
    uint32_t moved = 0;
    if (is_dir) {
        s = dir_of(src, moved);
        if (s != Status::ok) return s;
        // Not into itself: no ancestor of the destination is the directory.
        uint32_t d = dst_parent;
        for (unsigned depth = 0; d != root_dir(); ++depth) {
            if (d == moved) return Status::invalid;
            if (depth > 1000) return fail(Status::corrupt);
            Walk w{d, 0, 0};
            uint8_t* e;
            Loc loc;
            s = entry_at(w, 1, e, loc);  // ".."
            if (s != Status::ok) return s == Status::not_found ? fail(Status::corrupt) : s;
            if (e[0] != '.' || e[1] != '.') return fail(Status::corrupt);
            d = entry_first(e);
            if (d == 0) d = root_dir();
        }
    }
    s = begin_modify();
    if (s != Status::ok) return s;
    Found created;
    s = add_entry(dst_parent, name, n, src.raw, created);
    if (s != Status::ok) return s;
    // Open files follow their entry.
    if (FatNode* node = node_at(src.sfn)) {
        node->entry_lba = created.sfn.lba;
        node->entry_off = created.sfn.off;
    }
    s = remove_entry(src_parent, src);
    if (s != Status::ok) return s;
    if (is_dir && dst_parent != src_parent) {
        Walk w{moved, 0, 0};
        uint8_t* e;
        Loc loc;
        s = entry_at(w, 1, e, loc);
        if (s != Status::ok) return s;
        if (e[0] == '.' && e[1] == '.') {
            const uint32_t p = dst_parent == root_dir() ? 0 : dst_parent;
            put16(e + 26, p);
            put16(e + 20, type_ == FatType::fat32 ? p >> 16 : 0);
            cache_.mark_dirty(loc.lba, SectorCache::kDir);
        }
    }
    return Status::ok;
}

}  // namespace rtos::fs
