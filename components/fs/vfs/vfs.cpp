#include "vfs.hpp"

#include <rtos/string.hpp>

namespace rtos::fs {
namespace {

constinit Vfs the_vfs;  // the system's: guarded by its own locks (vfs.hpp)

bool has_slash(const char* s) {
    for (; *s; ++s)
        if (*s == '/') return true;
    return false;
}

}  // namespace

Vfs& vfs() { return the_vfs; }

const char* error_text(Status s) {
    switch (s) {
    case Status::ok: return "ok";
    case Status::not_found: return "no such file";
    case Status::exists: return "file exists";
    case Status::not_directory: return "not a directory";
    case Status::is_directory: return "is a directory";
    case Status::no_space: return "no space left";
    case Status::read_only: return "read-only";
    case Status::not_empty: return "directory not empty";
    case Status::name_too_long: return "name too long";
    case Status::corrupt: return "file system damaged";
    case Status::too_many: return "too many open";
    case Status::busy: return "busy";
    case Status::invalid: return "invalid argument";
    case Status::no_memory: return "out of memory";
    case Status::io_error: return "I/O error";
    case Status::unsupported: return "not supported";
    case Status::timeout: return "timeout";
    default: return "error";
    }
}

int to_errno(Status s) {
    switch (s) {
    case Status::ok: return 0;
    case Status::not_found: return -2;       // ENOENT
    case Status::io_error: return -5;        // EIO
    case Status::no_memory: return -12;      // ENOMEM
    case Status::busy: return -16;           // EBUSY
    case Status::exists: return -17;         // EEXIST
    case Status::not_directory: return -20;  // ENOTDIR
    case Status::is_directory: return -21;   // EISDIR
    case Status::too_many: return -24;       // EMFILE
    case Status::no_space: return -28;       // ENOSPC
    case Status::read_only: return -30;      // EROFS
    case Status::name_too_long: return -36;  // ENAMETOOLONG
    case Status::not_empty: return -39;      // ENOTEMPTY
    case Status::unsupported: return -95;    // EOPNOTSUPP
    case Status::timeout: return -110;       // ETIMEDOUT
    case Status::corrupt: return -117;       // EUCLEAN
    default: return -22;                     // EINVAL
    }
}

Status Vfs::normalize(const char* in, char* out, std::size_t cap) {
    if (!in || in[0] != '/') return Status::invalid;
    std::size_t len = 0;
    const char* p = in;
    while (*p) {
        while (*p == '/') ++p;
        if (!*p) break;
        const char* end = p;
        while (*end && *end != '/') ++end;
        const std::size_t n = static_cast<std::size_t>(end - p);
        if (n == 1 && p[0] == '.') {
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            while (len > 0 && out[len - 1] != '/') --len;
            if (len > 0) --len;  // the slash
        } else {
            if (len + 1 + n + 1 > cap) return Status::name_too_long;
            out[len++] = '/';
            memcpy(out + len, p, n);
            len += n;
        }
        p = end;
    }
    if (len == 0) {
        if (cap < 2) return Status::name_too_long;
        out[len++] = '/';
    }
    out[len] = '\0';
    return Status::ok;
}

Status Vfs::get(const char* path, char* buf, Mount*& m, const char*& rest) {
    m = nullptr;
    Status s = normalize(path, buf, kPathMax);
    if (s != Status::ok) return s;
    if (buf[1] == '\0') return Status::is_directory;  // "/": the mount list
    const char* name = buf + 1;
    const char* end = name;
    while (*end && *end != '/') ++end;
    const std::size_t n = static_cast<std::size_t>(end - name);
    Guard g(table_lock_);
    for (Mount& mt : mounts_) {
        if (!mt.used || !mt.volume || strlen(mt.name) != n || strncmp(mt.name, name, n)) continue;
        ++mt.users;
        m = &mt;
        rest = *end ? end + 1 : end;
        return Status::ok;
    }
    return Status::not_found;
}

void Vfs::put(Mount* m) {
    Guard g(table_lock_);
    --m->users;
}

Status Vfs::mount(const char* path, BlockIo& io, const MountOptions& opt, Release release,
                  void* ctx, const char*& why) {
    why = nullptr;
    char buf[kPathMax];
    Status s = normalize(path, buf, sizeof(buf));
    const char* name = buf + 1;
    if (s != Status::ok || !*name || strlen(name) >= sizeof(Mount::name) || has_slash(name)) {
        why = "mount point must be /<name>, up to 11 characters";
        return Status::invalid;
    }
    Mount* slot = nullptr;
    {
        Guard g(table_lock_);
        for (Mount& m : mounts_) {
            if (m.used && !strcmp(m.name, name)) {
                why = "mount point in use";
                return Status::busy;
            }
            if (!m.used && !slot) slot = &m;
        }
        if (!slot) {
            why = "too many mounts";
            return Status::too_many;
        }
        *slot = {{}, nullptr, release, ctx, 1, true};  // reserved: users 1
        memcpy(slot->name, name, strlen(name) + 1);
    }
    FatVolume* v;
    s = FatVolume::mount(io, opt, v, why);
    Guard g(table_lock_);
    if (s != Status::ok) {
        slot->used = false;
        return s;
    }
    slot->volume = v;
    slot->users = 0;
    return Status::ok;
}

Status Vfs::unmount(const char* path) {
    char buf[kPathMax];
    Mount* m;
    const char* rest;
    Status s = get(path, buf, m, rest);
    if (s == Status::is_directory) return Status::invalid;
    if (s != Status::ok) return s;
    if (*rest) {
        put(m);
        return Status::invalid;  // not a mount point
    }
    {
        Guard g(table_lock_);
        --m->users;
        if (m->users) return Status::busy;
        for (const File& f : files_)
            if (f.used && f.mount == m) return Status::busy;
        for (const Dir& d : dirs_)
            if (d.used && d.mount == m) return Status::busy;
        ++m->users;  // ours until it is gone: nobody else gets in
    }
    s = m->volume->unmount();
    Guard g(table_lock_);
    if (s != Status::ok) {
        --m->users;
        return s;
    }
    if (m->release) m->release(m->ctx);
    m->used = false;
    m->users = 0;
    return Status::ok;
}

bool Vfs::mount_info(unsigned i, MountInfo& out) {
    Guard g(table_lock_);
    unsigned k = 0;
    for (Mount& m : mounts_) {
        if (!m.used || !m.volume) continue;
        if (k++ != i) continue;
        out.path[0] = '/';
        memcpy(out.path + 1, m.name, strlen(m.name) + 1);
        out.type = m.volume->type();
        out.read_only = m.volume->read_only();
        out.size_bytes = m.volume->size_bytes();
        return true;
    }
    return false;
}

Status Vfs::sync() {
    Status result = Status::ok;
    for (unsigned i = 0; i < kMaxMounts; ++i) {
        Mount* m;
        {
            Guard g(table_lock_);
            m = &mounts_[i];
            if (!m->used || !m->volume) continue;
            ++m->users;
        }
        const Status s = m->volume->sync();
        if (s != Status::ok && result == Status::ok) result = s;
        put(m);
    }
    return result;
}

Status Vfs::open(const char* path, unsigned flags, int& fd) {
    fd = -1;
    char buf[kPathMax];
    Mount* m;
    const char* rest;
    Status s = get(path, buf, m, rest);
    if (s != Status::ok) return s;
    if (!*rest) {
        put(m);
        return Status::is_directory;
    }
    File* slot = nullptr;
    {
        Guard g(table_lock_);
        for (File& f : files_)
            if (!f.used) {
                slot = &f;
                slot->used = true;
                slot->file = nullptr;
                slot->mount = m;
                slot->users = 1;  // not usable until opened
                break;
            }
    }
    if (!slot) {
        put(m);
        return Status::too_many;
    }
    FatFile* file;
    s = m->volume->open(rest, flags, file);
    Guard g(table_lock_);
    --m->users;
    if (s != Status::ok) {
        slot->used = false;
        return s;
    }
    slot->file = file;
    slot->users = 0;
    fd = static_cast<int>(slot - files_);
    return Status::ok;
}

Status Vfs::get_file(int fd, File*& f) {
    if (fd < 0 || fd >= static_cast<int>(kMaxOpenFiles)) return Status::invalid;
    Guard g(table_lock_);
    f = &files_[fd];
    if (!f->used || !f->file) return Status::invalid;
    ++f->users;
    return Status::ok;
}

void Vfs::put_file(File* f) {
    Guard g(table_lock_);
    --f->users;
}

Status Vfs::close(int fd) {
    if (fd < 0 || fd >= static_cast<int>(kMaxOpenFiles)) return Status::invalid;
    FatFile* file;
    Mount* m;
    {
        Guard g(table_lock_);
        File& f = files_[fd];
        if (!f.used || !f.file) return Status::invalid;
        if (f.users) return Status::busy;  // another thread is using it
        file = f.file;
        m = f.mount;
        f.file = nullptr;  // nobody gets it any more
        f.users = 1;
    }
    const Status s = m->volume->close(file);
    Guard g(table_lock_);
    files_[fd].used = false;
    files_[fd].users = 0;
    return s;
}

Status Vfs::read(int fd, void* buf, std::size_t n, std::size_t& done) {
    done = 0;
    File* f;
    Status s = get_file(fd, f);
    if (s != Status::ok) return s;
    s = f->mount->volume->read(f->file, buf, n, done);
    put_file(f);
    return s;
}

Status Vfs::write(int fd, const void* buf, std::size_t n, std::size_t& done) {
    done = 0;
    File* f;
    Status s = get_file(fd, f);
    if (s != Status::ok) return s;
    s = f->mount->volume->write(f->file, buf, n, done);
    put_file(f);
    return s;
}

Status Vfs::seek(int fd, int64_t offset, int whence, uint64_t& pos) {
    File* f;
    Status s = get_file(fd, f);
    if (s != Status::ok) return s;
    s = f->mount->volume->seek(f->file, offset, whence, pos);
    put_file(f);
    return s;
}

Status Vfs::fsync(int fd) {
    File* f;
    Status s = get_file(fd, f);
    if (s != Status::ok) return s;
    s = f->mount->volume->fsync(f->file);
    put_file(f);
    return s;
}

Status Vfs::fstat(int fd, Stat& out) {
    File* f;
    Status s = get_file(fd, f);
    if (s != Status::ok) return s;
    s = f->mount->volume->fstat(f->file, out);
    put_file(f);
    return s;
}

// The operations on one path: find the mount, run, put it back.
#define VFS_PATH_OP(path, root_status, call)           \
    char buf[kPathMax];                                \
    Mount* m;                                          \
    const char* rest;                                  \
    Status s = get(path, buf, m, rest);                \
    if (s == Status::is_directory) return root_status; \
    if (s != Status::ok) return s;                     \
    s = m->volume->call;                               \
    put(m);                                            \
    return s

Status Vfs::stat(const char* path, Stat& out) {
    char buf[kPathMax];
    Mount* m;
    const char* rest;
    Status s = get(path, buf, m, rest);
    if (s == Status::is_directory) {
        out = {0, true, true, 0x10, 0, 0, 0};
        return Status::ok;
    }
    if (s != Status::ok) return s;
    s = m->volume->stat(rest, out);
    put(m);
    return s;
}

Status Vfs::mkdir(const char* path) { VFS_PATH_OP(path, Status::exists, mkdir(rest)); }
Status Vfs::unlink(const char* path) { VFS_PATH_OP(path, Status::is_directory, unlink(rest)); }
Status Vfs::rmdir(const char* path) { VFS_PATH_OP(path, Status::busy, rmdir(rest)); }
Status Vfs::statfs(const char* path, StatFs& out) {
    VFS_PATH_OP(path, Status::invalid, statfs(out));
}

Status Vfs::rename(const char* from, const char* to) {
    char buf[kPathMax], buf2[kPathMax];
    Mount *m, *m2;
    const char *rest, *rest2;
    Status s = get(from, buf, m, rest);
    if (s == Status::is_directory) return Status::busy;
    if (s != Status::ok) return s;
    s = get(to, buf2, m2, rest2);
    if (s != Status::ok) {
        put(m);
        return s == Status::is_directory ? Status::exists : s;
    }
    if (m != m2) s = Status::unsupported;  // across volumes: copy and delete
    else if (!*rest) s = Status::busy;     // a mount point
    else s = m->volume->rename(rest, rest2);
    put(m2);
    put(m);
    return s;
}

Status Vfs::opendir(const char* path, int& dd) {
    dd = -1;
    char buf[kPathMax];
    Mount* m = nullptr;
    const char* rest;
    Status s = get(path, buf, m, rest);
    if (s != Status::ok && s != Status::is_directory) return s;
    Dir* slot = nullptr;
    {
        Guard g(table_lock_);
        for (Dir& d : dirs_)
            if (!d.used) {
                slot = &d;
                *slot = {nullptr, m, 0, 1, true};
                break;
            }
    }
    if (!slot) {
        if (m) put(m);
        return Status::too_many;
    }
    FatDir* dir = nullptr;
    if (m) s = m->volume->opendir(rest, dir);
    Guard g(table_lock_);
    if (m) --m->users;
    if (s != Status::ok && m) {
        slot->used = false;
        return s;
    }
    slot->dir = dir;
    slot->users = 0;
    dd = static_cast<int>(slot - dirs_);
    return Status::ok;
}

Status Vfs::readdir(int dd, DirEntry& out) {
    if (dd < 0 || dd >= static_cast<int>(kMaxOpenDirs)) return Status::invalid;
    Dir* d;
    {
        Guard g(table_lock_);
        d = &dirs_[dd];
        if (!d->used) return Status::invalid;
        if (!d->mount) {  // "/": the mounts
            unsigned k = 0;
            for (const Mount& m : mounts_) {
                if (!m.used || !m.volume) continue;
                if (k++ < d->next) continue;
                ++d->next;
                memcpy(out.name, m.name, strlen(m.name) + 1);
                out.st = {0, true, m.volume->read_only(), 0x10, 0, 0, 0};
                return Status::ok;
            }
            return Status::not_found;
        }
        ++d->users;
    }
    const Status s = d->mount->volume->readdir(d->dir, out);
    Guard g(table_lock_);
    --d->users;
    return s;
}

Status Vfs::closedir(int dd) {
    if (dd < 0 || dd >= static_cast<int>(kMaxOpenDirs)) return Status::invalid;
    FatDir* dir;
    Mount* m;
    {
        Guard g(table_lock_);
        Dir& d = dirs_[dd];
        if (!d.used || d.users) return d.used ? Status::busy : Status::invalid;
        dir = d.dir;
        m = d.mount;
        d.users = 1;
    }
    const Status s = m ? m->volume->closedir(dir) : Status::ok;
    Guard g(table_lock_);
    dirs_[dd].used = false;
    dirs_[dd].users = 0;
    return s;
}

}  // namespace rtos::fs
