// The VFS: a mount table of FAT volumes under "/<name>", a table of open
// files and directories, absolute paths ("." and ".." resolved here). The
// C++ API is rtos::fs::vfs(); the C API is fs/vfs/vfs.h. Errors are
// rtos::Status (the C API: negative errno values).
//
// Locks: table_lock_ guards the mount table and the open-file and
// open-directory tables (held briefly to find an entry and count a user);
// each volume's own lock (FatVolume) guards its structures during the
// operation. Order: table_lock_ is never held while a volume lock is taken.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fs/block_io.hpp"
#include "fs/fat/fat_volume.hpp"
#include "fs/platform.hpp"

namespace rtos::fs {

constexpr std::size_t kPathMax = 1024;  ///< bytes of a path, NUL included
constexpr unsigned kMaxMounts = 8;
constexpr unsigned kMaxOpenFiles = 32;  ///< over all volumes
constexpr unsigned kMaxOpenDirs = 8;

struct MountInfo {
    char path[16];  ///< "/vda"
    FatType type;
    bool read_only;
    uint64_t size_bytes;
};

class Vfs {
public:
    /// Called with `ctx` when a volume is unmounted, to release what
    /// mount() was given (the BlockIo).
    using Release = void (*)(void* ctx);

    constexpr Vfs() = default;
    Vfs(const Vfs&) = delete;
    Vfs& operator=(const Vfs&) = delete;

    /// Mounts the FAT volume on `io` at `path` ("/name", one level). On
    /// failure `why` says why (a volume refused was not written).
    Status mount(const char* path, BlockIo& io, const MountOptions& opt, Release release, void* ctx,
                 const char*& why);
    /// Writes everything back, marks the volume clean and forgets it;
    /// busy while it has open files or directories.
    Status unmount(const char* path);
    /// mount i's description; false past the last.
    bool mount_info(unsigned i, MountInfo& out);
    /// Writes back every volume.
    Status sync();

    Status open(const char* path, unsigned flags, int& fd);
    Status close(int fd);
    Status read(int fd, void* buf, std::size_t n, std::size_t& done);
    Status write(int fd, const void* buf, std::size_t n, std::size_t& done);
    Status seek(int fd, int64_t offset, int whence, uint64_t& pos);
    Status fsync(int fd);
    Status fstat(int fd, Stat& out);

    Status stat(const char* path, Stat& out);
    Status mkdir(const char* path);
    Status unlink(const char* path);
    Status rmdir(const char* path);
    /// Within one volume; the destination must not exist.
    Status rename(const char* from, const char* to);
    Status statfs(const char* path, StatFs& out);

    /// "/" lists the mount points (as directories).
    Status opendir(const char* path, int& dd);
    Status readdir(int dd, DirEntry& out);
    Status closedir(int dd);

    /// Canonical form of an absolute path: "/a/b" ("." and ".." resolved,
    /// repeated slashes dropped); invalid when relative, name_too_long.
    static Status normalize(const char* in, char* out, std::size_t cap);

private:
    struct Mount {
        char name[12];
        FatVolume* volume;
        Release release;
        void* ctx;
        unsigned users;  // operations running on it
        bool used;
    };
    struct File {
        FatFile* file;
        Mount* mount;
        unsigned users;
        bool used;
    };
    struct Dir {
        FatDir* dir;  // nullptr: the root listing of mounts
        Mount* mount;
        unsigned next;  // root listing: next mount index
        unsigned users;
        bool used;
    };

    // The mount a path is on (users counted; put() it back) and the path
    // inside it; `root` when the path is "/".
    Status get(const char* path, char* buf, Mount*& m, const char*& rest);
    void put(Mount* m);
    Status get_file(int fd, File*& f);
    void put_file(File* f);

    Lock table_lock_;  // guards mounts_, files_, dirs_ (see the top)
    Mount mounts_[kMaxMounts] = {};
    File files_[kMaxOpenFiles] = {};
    Dir dirs_[kMaxOpenDirs] = {};
};

/// The system's VFS.
Vfs& vfs();

/// A short text for the file-system statuses ("no such file", ...).
const char* error_text(Status s);
/// Status -> negative errno (0 for ok), for the C API.
int to_errno(Status s);

}  // namespace rtos::fs
