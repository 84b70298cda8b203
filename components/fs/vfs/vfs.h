/* The file API for C applications (and C++ ones that prefer it): absolute
 * paths under the mount points ("/vda/log.txt"), file descriptors, errors as
 * negative errno values (VFS_ENOENT...). The C++ API is fs/vfs/vfs.hpp;
 * docs/filesystem.md describes both. */
#ifndef TERN_FS_VFS_H
#define TERN_FS_VFS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Open flags (Linux's values). */
#define VFS_O_RDONLY 0x0000
#define VFS_O_WRONLY 0x0001
#define VFS_O_RDWR 0x0002
#define VFS_O_CREAT 0x0040
#define VFS_O_EXCL 0x0080
#define VFS_O_TRUNC 0x0200
#define VFS_O_APPEND 0x0400

#define VFS_SEEK_SET 0
#define VFS_SEEK_CUR 1
#define VFS_SEEK_END 2

/* Errors, returned negated (Linux's values). */
#define VFS_ENOENT 2
#define VFS_EIO 5
#define VFS_ENOMEM 12
#define VFS_EBUSY 16
#define VFS_EEXIST 17
#define VFS_ENOTDIR 20
#define VFS_EISDIR 21
#define VFS_EINVAL 22
#define VFS_EMFILE 24
#define VFS_ENOSPC 28
#define VFS_EROFS 30
#define VFS_ENAMETOOLONG 36
#define VFS_ENOTEMPTY 39
#define VFS_EOPNOTSUPP 95
#define VFS_ETIMEDOUT 110
#define VFS_EUCLEAN 117 /* the volume is damaged */

struct vfs_stat {
    uint32_t size;
    int is_dir;
    int read_only;
};

struct vfs_statfs {
    uint64_t total_bytes, free_bytes;
    uint32_t cluster_size;
    int fat_bits; /* 12, 16 or 32 */
};

struct vfs_dirent {
    char name[768]; /* UTF-8 */
    struct vfs_stat st;
};

int vfs_open(const char* path, int flags);
long vfs_read(int fd, void* buf, size_t n);
long vfs_write(int fd, const void* buf, size_t n);
long long vfs_lseek(int fd, long long offset, int whence);
int vfs_fsync(int fd); /* the file's data and entry are on the device */
int vfs_close(int fd);
int vfs_stat(const char* path, struct vfs_stat* st);
int vfs_mkdir(const char* path);
int vfs_unlink(const char* path);
int vfs_rmdir(const char* path);
int vfs_rename(const char* from, const char* to);
int vfs_statfs(const char* path, struct vfs_statfs* st);
int vfs_opendir(const char* path);
/* 1 with an entry, 0 at the end, < 0 on error. */
int vfs_readdir(int dd, struct vfs_dirent* out);
int vfs_closedir(int dd);
int vfs_sync(void);
/* "no such file", ... for a negative errno value. */
const char* vfs_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
