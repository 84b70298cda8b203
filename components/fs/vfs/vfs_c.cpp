// The C API (vfs.h) over the VFS.
#include "vfs.h"

#include <rtos/string.hpp>

#include "vfs.hpp"

using rtos::Status;
using namespace rtos::fs;

namespace {

unsigned open_flags(int flags) {
    unsigned f = 0;
    switch (flags & 3) {
    case VFS_O_RDONLY: f = kRead; break;
    case VFS_O_WRONLY: f = kWrite; break;
    default: f = kRead | kWrite; break;
    }
    if (flags & VFS_O_CREAT) f |= kCreate;
    if (flags & VFS_O_EXCL) f |= kExclusive;
    if (flags & VFS_O_TRUNC) f |= kTruncate;
    if (flags & VFS_O_APPEND) f |= kAppend;
    return f;
}

void to_c(const Stat& s, struct vfs_stat& out) {
    out.size = s.size;
    out.is_dir = s.directory;
    out.read_only = s.read_only;
}

}  // namespace

extern "C" {

int vfs_open(const char* path, int flags) {
    int fd;
    const Status s = vfs().open(path, open_flags(flags), fd);
    return s == Status::ok ? fd : to_errno(s);
}

long vfs_read(int fd, void* buf, size_t n) {
    std::size_t done;
    const Status s = vfs().read(fd, buf, n, done);
    return s == Status::ok ? static_cast<long>(done) : to_errno(s);
}

long vfs_write(int fd, const void* buf, size_t n) {
    std::size_t done;
    const Status s = vfs().write(fd, buf, n, done);
    return s == Status::ok ? static_cast<long>(done) : to_errno(s);
}

long long vfs_lseek(int fd, long long offset, int whence) {
    uint64_t pos;
    const Status s = vfs().seek(fd, offset, whence, pos);
    return s == Status::ok ? static_cast<long long>(pos) : to_errno(s);
}

int vfs_fsync(int fd) { return to_errno(vfs().fsync(fd)); }
int vfs_close(int fd) { return to_errno(vfs().close(fd)); }

int vfs_stat(const char* path, struct vfs_stat* st) {
    Stat s;
    const Status r = vfs().stat(path, s);
    if (r == Status::ok && st) to_c(s, *st);
    return to_errno(r);
}

int vfs_mkdir(const char* path) { return to_errno(vfs().mkdir(path)); }
int vfs_unlink(const char* path) { return to_errno(vfs().unlink(path)); }
int vfs_rmdir(const char* path) { return to_errno(vfs().rmdir(path)); }
int vfs_rename(const char* from, const char* to) { return to_errno(vfs().rename(from, to)); }

int vfs_statfs(const char* path, struct vfs_statfs* st) {
    StatFs s;
    const Status r = vfs().statfs(path, s);
    if (r == Status::ok && st) {
        st->total_bytes = s.total_bytes;
        st->free_bytes = s.free_bytes;
        st->cluster_size = s.cluster_size;
        st->fat_bits = static_cast<int>(s.type);
    }
    return to_errno(r);
}

int vfs_opendir(const char* path) {
    int dd;
    const Status s = vfs().opendir(path, dd);
    return s == Status::ok ? dd : to_errno(s);
}

int vfs_readdir(int dd, struct vfs_dirent* out) {
    DirEntry e;
    const Status s = vfs().readdir(dd, e);
    if (s == Status::not_found) return 0;
    if (s != Status::ok) return to_errno(s);
    static_assert(sizeof(out->name) == sizeof(e.name));
    memcpy(out->name, e.name, sizeof(e.name));
    to_c(e.st, out->st);
    return 1;
}

int vfs_closedir(int dd) { return to_errno(vfs().closedir(dd)); }
int vfs_sync(void) { return to_errno(vfs().sync()); }

const char* vfs_strerror(int err) {
    static constexpr Status kAll[] = {
        Status::not_found, Status::io_error,      Status::no_memory,    Status::busy,
        Status::exists,    Status::not_directory, Status::is_directory, Status::invalid,
        Status::too_many,  Status::no_space,      Status::read_only,    Status::name_too_long,
        Status::not_empty, Status::unsupported,   Status::timeout,      Status::corrupt};
    if (err == 0) return "ok";
    for (Status s : kAll)
        if (to_errno(s) == err) return error_text(s);
    return "error";
}

}  // extern "C"
