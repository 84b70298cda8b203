/* Boot log on a FAT volume, through the VFS's C API: every boot appends
 * "boot <n>" to the log file (n = the lines already there + 1), fsyncs it
 * (the line is on the disk before the boot goes on), then prints the file.
 * The volume was mounted at boot (CONFIG_FS_AUTOMOUNT); the host makes the
 * image with mkfs.fat and reads the log with mtools (docs/filesystem.md). */
/* CONFIG_ values reach the compiler as -D options (docs/build.md) */

#include "fs/vfs/vfs.h"

int printk(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

static char text[4096];

void files_log_run(void) {
    const char* path = CONFIG_EXAMPLE_FILES_PATH;
    /* What earlier boots wrote (nothing the first time). */
    long have = 0;
    int fd = vfs_open(path, VFS_O_RDONLY);
    if (fd >= 0) {
        have = vfs_read(fd, text, sizeof(text) - 64);
        vfs_close(fd);
        if (have < 0) {
            printk("files: %s: %s\n", path, vfs_strerror((int)have));
            return;
        }
    } else if (fd != -VFS_ENOENT) {
        printk("files: %s: %s\n", path, vfs_strerror(fd));
        return;
    }
    unsigned boots = 0;
    for (long i = 0; i < have; ++i)
        if (text[i] == '\n') ++boots;

    char line[32];
    int n = 0;
    unsigned v = boots + 1, div = 1;
    const char* prefix = "boot ";
    while (prefix[n]) line[n] = prefix[n], ++n;
    while (v / div >= 10) div *= 10;
    for (; div; div /= 10) line[n++] = (char)('0' + v / div % 10);
    line[n++] = '\n';

    fd = vfs_open(path, VFS_O_WRONLY | VFS_O_CREAT | VFS_O_APPEND);
    long wrote = fd >= 0 ? vfs_write(fd, line, (size_t)n) : fd;
    int synced = fd >= 0 && wrote == n ? vfs_fsync(fd) : -VFS_EIO;
    if (fd >= 0) vfs_close(fd);
    if (wrote != n || synced) {
        printk("files: %s: %s\n", path, vfs_strerror(wrote < 0 ? (int)wrote : synced));
        return;
    }
    for (int i = 0; i < n; ++i) text[have + i] = line[i];
    text[have + n] = '\0'; /* room kept: at most sizeof(text) - 64 were read */
    printk("files: %s holds %u line%s:\n%s", path, boots + 1, boots ? "s" : "", text);
    printk("files: boot %u logged to %s\n", boots + 1, path);
}
