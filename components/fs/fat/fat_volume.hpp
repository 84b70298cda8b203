// FAT12/16/32 with VFAT long names, over a BlockIo: portable C++ (no kernel
// call; the lock and memory come from fs/platform.hpp), so the host tests
// run it over an in-memory disk under ASan/UBSan.
//
// Everything read from the disk is untrusted: the BPB is checked before a
// mount (a volume refused is never written), cluster chains are followed
// with a step bound and range checks, directory entries and long-name runs
// are validated. Damage found later fails the operation with
// Status::corrupt and, from then on, refuses every modification.
//
// Write order (crash consistency): file data, then the FAT (every copy),
// then the directory entry (SectorCache classes), flushed in between; the
// FAT[1] "clean shutdown" bit (FAT16/32) is cleared on the device before
// the first modification and set again by sync()/unmount().
//
// Paths given to a volume are relative to its root, '/'-separated, without
// "." or ".." components (the VFS resolves those).
#pragma once

#include <cstddef>
#include <cstdint>

#include "fs/block_io.hpp"
#include "fs/platform.hpp"
#include "fs/sector_cache.hpp"

namespace rtos::fs {

/// Longest name in UTF-8 bytes (255 UTF-16 units, up to 3 bytes each), + NUL.
constexpr std::size_t kNameMax = 768;

enum OpenFlags : unsigned {
    kRead = 1,
    kWrite = 2,
    kCreate = 4,     ///< create the file when it does not exist
    kTruncate = 8,   ///< empty it when opened for writing
    kAppend = 16,    ///< every write goes to the end
    kExclusive = 32  ///< with kCreate: fail with exists when it exists
};

enum class FatType : uint8_t { fat12 = 12, fat16 = 16, fat32 = 32 };

struct Stat {
    uint32_t size;
    bool directory;
    bool read_only;  ///< the FAT read-only attribute
    uint8_t attr;    ///< the raw FAT attribute byte
    uint16_t date;   ///< last write, DOS format
    uint16_t time;
    uint32_t cluster;  ///< first cluster (0: none)
};

struct DirEntry {
    char name[kNameMax];  ///< UTF-8
    Stat st;
};

struct StatFs {
    FatType type;
    uint32_t cluster_size;  ///< bytes
    uint32_t clusters;      ///< data clusters
    uint32_t free_clusters;
    uint64_t total_bytes, free_bytes;
    bool read_only;
    char label[12];
};

struct MountOptions {
    bool read_only = false;
    unsigned cache_sectors = 64;
    unsigned readahead_sectors = 16;
    unsigned max_files = 16;  ///< open files at once on this volume
};

class FatVolume;
struct FatNode;

/// An open file. Obtained from FatVolume::open(), given back with close().
struct FatFile {
    FatVolume* volume;
    FatNode* node;
    unsigned flags;
    uint32_t pos;
    uint32_t cl_index;  // cl is the cl_index-th cluster of the file (0: none yet)
    uint32_t cl;
    bool used;
};

/// An open directory (opendir); read() yields entries without "." and "..".
struct FatDir {
    uint32_t first;  // first cluster, 0: the FAT12/16 fixed root
    uint32_t index;  // next entry
    uint32_t cl_index, cl;
    bool used;
};

class FatVolume {
public:
    /// Reads and checks the boot sector (and FSInfo, and counts the free
    /// clusters); on failure `why` says what is wrong and nothing was
    /// written. The volume object is allocated; destroy() frees it.
    static Status mount(BlockIo& io, const MountOptions& opt, FatVolume*& out, const char*& why);
    /// Writes everything back and marks the volume clean, then frees it.
    /// busy while files or directories are open (nothing is done).
    Status unmount();
    /// Frees the volume without writing (after a device failure).
    void destroy();

    Status sync();
    Status statfs(StatFs& out);
    FatType type() const { return type_; }
    bool read_only() const { return read_only_; }
    bool damaged() const { return damaged_; }
    uint64_t size_bytes() const { return uint64_t{clusters_} * cluster_size_; }
    SectorCache::Stats cache_stats();
    /// FAT entries followed so far (chain walks): what a read costs beyond
    /// its device requests (tests, benchmarks).
    uint64_t chain_steps();

    Status stat(const char* path, Stat& out);
    Status open(const char* path, unsigned flags, FatFile*& out);
    Status close(FatFile* f);
    Status read(FatFile* f, void* buf, std::size_t n, std::size_t& done);
    Status write(FatFile* f, const void* buf, std::size_t n, std::size_t& done);
    /// whence: 0 set, 1 current, 2 end. Positions past the end are allowed
    /// (a write there fills the gap with zeros), up to 4 GiB - 1.
    Status seek(FatFile* f, int64_t offset, int whence, uint64_t& pos);
    Status fsync(FatFile* f);
    Status fstat(FatFile* f, Stat& out);

    Status opendir(const char* path, FatDir*& out);
    /// ok with the next entry, not_found at the end.
    Status readdir(FatDir* d, DirEntry& out);
    Status closedir(FatDir* d);

    Status mkdir(const char* path);
    Status unlink(const char* path);
    Status rmdir(const char* path);
    Status rename(const char* from, const char* to);

    struct Loc;    // a directory entry's place on the disk
    struct Found;  // a directory entry found by a scan
    struct Walk;   // a position in a directory's cluster chain

private:
    FatVolume() = default;

    uint32_t fat_mask() const;
    uint32_t eoc_min() const;
    Status fat_get(uint32_t n, uint32_t& value);
    Status fat_set(uint32_t n, uint32_t value);
    Status next_cluster(uint32_t c, uint32_t& next, bool& end);
    Status count_free();
    Status fail(Status s);
    Status begin_modify();
    Status set_clean_bit(bool clean);
    Status alloc_cluster(uint32_t prev, uint32_t& out);
    Status free_chain(uint32_t first, uint32_t max);
    struct Checked;
    Status check_chain(uint32_t first, uint32_t size, const Checked** known = nullptr);
    Status walk_chain(uint32_t first, uint32_t size, Checked* learn = nullptr);
    uint64_t cluster_lba(uint32_t c) const;
    uint32_t clusters_for(uint32_t size) const;
    Status write_cluster_direct(uint32_t c, const uint8_t* data);
    uint32_t root_dir() const;
    Status entry_loc(Walk& w, uint32_t index, Loc& loc);
    Status entry_at(Walk& w, uint32_t index, uint8_t*& e, Loc& loc);
    Status next_entry(Walk& w, uint32_t& index, Found& f, bool dots);
    uint32_t entry_first(const uint8_t* e) const;
    void to_stat(const uint8_t* e, Stat& st) const;
    Status find_in(uint32_t dir, const uint16_t* name, int n, Found& f);
    Status dir_of(const Found& f, uint32_t& dir);
    Status resolve_parent(const char* path, uint32_t& dir, const char*& leaf, Found& f);
    Status lookup(const char* path, uint32_t& parent, Found& f, bool& is_root);
    Status unique_sfn(uint32_t dir, const uint8_t* basis, bool lossless, uint8_t* out);
    Status extend_dir(uint32_t dir);
    Status add_entry(uint32_t dir, const uint16_t* name, int n, const uint8_t* sfn_entry,
                     Found& out);
    Status remove_entry(uint32_t dir, const Found& f);
    Status update_entry(const Loc& loc, uint32_t first, uint32_t size);
    Status sync_locked();
    FatNode* node_at(const Loc& loc);
    Status truncate_node(FatNode* node);
    Status seek_cluster(FatFile* f, uint32_t index, bool grow);
    Status contiguous(FatFile* f, uint32_t sector_in_cluster, uint32_t want, uint32_t& got);
    void jump_in_run(FatFile* f, std::size_t bytes);
    Status read_direct(FatFile* f, uint8_t* out, std::size_t bytes, std::size_t& got);
    Status write_locked(FatFile* f, const uint8_t* in, std::size_t n, std::size_t& done);
    Status grow_for(FatFile* f, uint32_t sectors);

    // Geometry (from the checked BPB; constant while mounted).
    BlockIo* io_ = nullptr;
    FatType type_ = FatType::fat32;
    uint32_t sectors_per_cluster_ = 0, cluster_size_ = 0, cluster_shift_ = 0;
    uint32_t fat_start_ = 0, fat_sectors_ = 0, fat_count_ = 0, active_fat_ = 0;
    bool mirror_ = true;
    uint32_t root_start_ = 0, root_entries_ = 0;  // FAT12/16 fixed root
    uint32_t root_cluster_ = 0;                   // FAT32
    uint32_t data_start_ = 0, clusters_ = 0;
    uint32_t fsinfo_sector_ = 0;  // 0: none
    char label_[12] = {};
    uint32_t readahead_ = 0;

    // Guarded by lock_: everything below, the cache, the node/file/dir tables.
    mutable Lock lock_;
    SectorCache cache_;
    uint32_t free_count_ = 0, next_free_ = 2;
    // The FAT sector last read (FAT16/32), while the cache's epoch holds:
    // chain walks read it without a cache lookup.
    const uint8_t* fat_hot_ = nullptr;
    // Chains check_chain() found sound since the FAT last changed (a file
    // opened again is not walked again): first cluster and size, and the
    // longest run of consecutive clusters the walk saw (clusters run_index..
    // run_index + run_len - 1 of the file are run_cluster.. on the disk): a
    // file opened again reads that run without following the FAT.
    struct Checked {
        uint32_t first, size;
        uint32_t run_index, run_cluster, run_len;
    };
    Checked checked_[4] = {};
    unsigned checked_count_ = 0;
    uint32_t fat_gen_ = 1;  // changes with every FAT change (FatNode's run)
    uint64_t chain_steps_ = 0;
    uint64_t fat_hot_lba_ = 0;
    uint32_t fat_hot_epoch_ = 0;
    bool read_only_ = false, damaged_ = false;
    bool dirty_on_disk_ = false;  // the FAT[1] clean bit is cleared on the device
    bool fsinfo_stale_ = false;
    uint8_t* zero_cluster_ = nullptr;  // scratch: one cluster
    FatNode* nodes_ = nullptr;
    FatFile* files_ = nullptr;
    FatDir dirs_[8] = {};
    unsigned max_files_ = 0;
};

/// FAT name of the type ("fat12"...).
const char* fat_type_name(FatType t);

}  // namespace rtos::fs
