// The file commands of the shell: mount, umount, ls, cat, cp, mv, rm,
// mkdir, rmdir, df, sync, append, crc32, and fstest (the concurrency and
// power-cut workloads of tests/system/test_fs.py). Errors read
// "<command>: <path>: <why>" with the VFS's texts ("no such file",
// "not a directory", "no space left", "read-only", ...).
#include <rtos/console.hpp>
#include <rtos/crc32.hpp>
#include <rtos/format.hpp>
#include <rtos/heap.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

#include "fs/port.hpp"
#include "fs/vfs/vfs.hpp"
#include "shell/shell.hpp"

namespace rtos::fs {
namespace {

constexpr std::size_t kBuffer = 32 * 1024;

int fail(const char* cmd, const char* path, Status s) {
    printk("%s: %s: %s\n", cmd, path, error_text(s));
    return 1;
}

// A heap buffer for one command (the shell's stack is small).
struct Buffer {
    explicit Buffer(std::size_t n) : p(static_cast<uint8_t*>(heap::alloc_aligned(n, 64, false))) {}
    ~Buffer() {
        if (p) heap::free(p);
    }
    uint8_t* p;
};

void print_size(uint64_t bytes) {
    printk("%llu KiB", static_cast<unsigned long long>(bytes / 1024));
}

int cmd_mount(int argc, char** argv) {
    if (argc == 1) {
        MountInfo m;
        for (unsigned i = 0; vfs().mount_info(i, m); ++i) {
            printk("%s %s ", m.path, fat_type_name(m.type));
            print_size(m.size_bytes);
            printk(" %s\n", m.read_only ? "ro" : "rw");
        }
        return 0;
    }
    bool ro = false;
    const char* args[2];
    int n = 0;
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "-r")) ro = true;
        else if (n < 2) args[n++] = argv[i];
        else return shell::kUsage;
    }
    if (n == 0) return shell::kUsage;
    return mount_device(args[0], n == 2 ? args[1] : nullptr, ro) == Status::ok ? 0 : 1;
}

int cmd_umount(int argc, char** argv) {
    if (argc != 2) return shell::kUsage;
    const Status s = vfs().unmount(argv[1]);
    if (s != Status::ok) return fail("umount", argv[1], s);
    printk("fs: %s unmounted\n", argv[1]);
    return 0;
}

void print_entry(const DirEntry& e, bool lng) {
    if (lng) {
        const unsigned y = 1980 + (e.st.date >> 9), mo = e.st.date >> 5 & 15, d = e.st.date & 31;
        const unsigned h = e.st.time >> 11, mi = e.st.time >> 5 & 63;
        printk("%c %10u %04u-%02u-%02u %02u:%02u %s%s\n", e.st.directory ? 'd' : '-', e.st.size, y,
               mo, d, h, mi, e.name, e.st.directory ? "/" : "");
    } else {
        printk("%s%s\n", e.name, e.st.directory ? "/" : "");
    }
}

int cmd_ls(int argc, char** argv) {
    bool lng = false;
    const char* path = "/";
    for (int i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "-l")) lng = true;
        else if (path[0] == '/' && path[1] == '\0' && strcmp(argv[i], "/")) path = argv[i];
        else if (strcmp(argv[i], "/")) return shell::kUsage;
    }
    Stat st;
    Status s = vfs().stat(path, st);
    if (s != Status::ok) return fail("ls", path, s);
    if (!st.directory) {
        static DirEntry e;  // large: not on the shell's stack (one shell thread)
        const char* base = path;
        for (const char* p = path; *p; ++p)
            if (*p == '/' && p[1]) base = p + 1;
        snprintf(e.name, sizeof(e.name), "%s", base);
        e.st = st;
        print_entry(e, lng);
        return 0;
    }
    int dd;
    s = vfs().opendir(path, dd);
    if (s != Status::ok) return fail("ls", path, s);
    static DirEntry e;
    int result = 0;
    while ((s = vfs().readdir(dd, e)) == Status::ok) {
        if (shell::interrupted()) {
            result = shell::kInterrupted;
            break;
        }
        print_entry(e, lng);
    }
    if (s != Status::ok && s != Status::not_found) result = fail("ls", path, s);
    vfs().closedir(dd);
    return result;
}

// Runs fn(data, n) over the file's contents; 0, 1 (printed why) or kInterrupted.
template <typename F>
int for_contents(const char* cmd, const char* path, F fn) {
    int fd;
    Status s = vfs().open(path, kRead, fd);
    if (s != Status::ok) return fail(cmd, path, s);
    Buffer buf(kBuffer);
    int result = 0;
    if (!buf.p) {
        printk("%s: out of memory\n", cmd);
        result = 1;
    }
    while (!result) {
        if (shell::interrupted()) {
            result = shell::kInterrupted;
            break;
        }
        std::size_t done;
        s = vfs().read(fd, buf.p, kBuffer, done);
        if (s != Status::ok) {
            result = fail(cmd, path, s);
            break;
        }
        if (done == 0) break;
        fn(buf.p, done);
    }
    vfs().close(fd);
    return result;
}

int cmd_cat(int argc, char** argv) {
    if (argc < 2) return shell::kUsage;
    for (int i = 1; i < argc; ++i) {
        const int r = for_contents("cat", argv[i], [](const uint8_t* p, std::size_t n) {
            console::write(reinterpret_cast<const char*>(p), n);
        });
        if (r) return r;
    }
    return 0;
}

int crc_one(const char* path, const char* name) {
    uint32_t crc = 0;
    uint64_t size = 0;
    const int r = for_contents("crc32", path, [&](const uint8_t* p, std::size_t n) {
        crc = crc32(crc, p, n);
        size += n;
    });
    if (r) return r;
    printk("crc32=%08x size=%llu%s%s\n", crc, static_cast<unsigned long long>(size),
           name ? " " : "", name ? name : "");
    return 0;
}

// A file: its CRC. A directory: a line per file in it, with its name (names
// the console cannot type, non-ASCII ones, are checked this way).
int cmd_crc32(int argc, char** argv) {
    if (argc != 2) return shell::kUsage;
    Stat st;
    Status s = vfs().stat(argv[1], st);
    if (s != Status::ok) return fail("crc32", argv[1], s);
    if (!st.directory) return crc_one(argv[1], nullptr);
    int dd;
    s = vfs().opendir(argv[1], dd);
    if (s != Status::ok) return fail("crc32", argv[1], s);
    static DirEntry e;           // large: static, not on the shell's stack; the
    static char path[kPathMax];  // shell runs one command at a time
    int result = 0;
    while (!result && (s = vfs().readdir(dd, e)) == Status::ok) {
        if (e.st.directory) continue;
        snprintf(path, sizeof(path), "%s/%s", argv[1], e.name);
        result = crc_one(path, e.name);
    }
    vfs().closedir(dd);
    return result;
}

// dst, or dst/<last component of src> when dst is a directory.
const char* target_path(const char* src, const char* dst, char* buf) {
    Stat st;
    if (vfs().stat(dst, st) != Status::ok || !st.directory) return dst;
    const char* base = src;
    for (const char* p = src; *p; ++p)
        if (*p == '/' && p[1]) base = p + 1;
    snprintf(buf, kPathMax, "%s/%s", dst, base);
    return buf;
}

int copy(const char* cmd, const char* src, const char* dst) {
    int in, out;
    Status s = vfs().open(src, kRead, in);
    if (s != Status::ok) return fail(cmd, src, s);
    s = vfs().open(dst, kWrite | kCreate | kTruncate, out);
    if (s != Status::ok) {
        vfs().close(in);
        return fail(cmd, dst, s);
    }
    Buffer buf(kBuffer);
    int result = buf.p ? 0 : 1;
    while (!result) {
        if (shell::interrupted()) {
            result = shell::kInterrupted;
            break;
        }
        std::size_t got, put;
        s = vfs().read(in, buf.p, kBuffer, got);
        if (s != Status::ok) {
            result = fail(cmd, src, s);
            break;
        }
        if (got == 0) break;
        s = vfs().write(out, buf.p, got, put);
        if (s == Status::ok && put != got) s = Status::no_space;
        if (s != Status::ok) result = fail(cmd, dst, s);
    }
    vfs().close(in);
    const Status c = vfs().close(out);
    if (!result && c != Status::ok) result = fail(cmd, dst, c);
    if (result == shell::kInterrupted) {  // a part of the file must not pass for a copy
        s = vfs().unlink(dst);
        if (s == Status::ok) printk("%s: %s: the partial copy removed\n", cmd, dst);
        else fail(cmd, dst, s);
    }
    return result;
}

char path_buf[kPathMax];  // the shell runs one command at a time

int cmd_cp(int argc, char** argv) {
    if (argc != 3) return shell::kUsage;
    return copy("cp", argv[1], target_path(argv[1], argv[2], path_buf));
}

int cmd_mv(int argc, char** argv) {
    if (argc != 3) return shell::kUsage;
    const char* dst = target_path(argv[1], argv[2], path_buf);
    Status s = vfs().rename(argv[1], dst);
    if (s == Status::unsupported) {  // another volume: copy, then delete
        const int r = copy("mv", argv[1], dst);
        if (r) return r;
        s = vfs().unlink(argv[1]);
    }
    return s == Status::ok ? 0 : fail("mv", argv[1], s);
}

int cmd_rm(int argc, char** argv) {
    if (argc < 2) return shell::kUsage;
    for (int i = 1; i < argc; ++i) {
        const Status s = vfs().unlink(argv[i]);
        if (s != Status::ok) return fail("rm", argv[i], s);
    }
    return 0;
}

int cmd_mkdir(int argc, char** argv) {
    if (argc < 2) return shell::kUsage;
    for (int i = 1; i < argc; ++i) {
        const Status s = vfs().mkdir(argv[i]);
        if (s != Status::ok) return fail("mkdir", argv[i], s);
    }
    return 0;
}

int cmd_rmdir(int argc, char** argv) {
    if (argc < 2) return shell::kUsage;
    for (int i = 1; i < argc; ++i) {
        const Status s = vfs().rmdir(argv[i]);
        if (s != Status::ok) return fail("rmdir", argv[i], s);
    }
    return 0;
}

int cmd_df(int argc, char**) {
    if (argc != 1) return shell::kUsage;
    printk("%-12s %-6s %12s %12s %12s\n", "mounted on", "type", "size KiB", "used KiB", "free KiB");
    MountInfo m;
    for (unsigned i = 0; vfs().mount_info(i, m); ++i) {
        StatFs st;
        if (vfs().statfs(m.path, st) != Status::ok) continue;
        printk("%-12s %-6s %12llu %12llu %12llu\n", m.path, fat_type_name(st.type),
               static_cast<unsigned long long>(st.total_bytes / 1024),
               static_cast<unsigned long long>((st.total_bytes - st.free_bytes) / 1024),
               static_cast<unsigned long long>(st.free_bytes / 1024));
    }
    return 0;
}

int cmd_sync(int argc, char**) {
    if (argc != 1) return shell::kUsage;
    const Status s = vfs().sync();
    if (s != Status::ok) {
        printk("sync: %s\n", error_text(s));
        return 1;
    }
    return 0;
}

int cmd_append(int argc, char** argv) {
    if (argc < 3) return shell::kUsage;
    int fd;
    Status s = vfs().open(argv[1], kWrite | kCreate | kAppend, fd);
    if (s != Status::ok) return fail("append", argv[1], s);
    for (int i = 2; i < argc && s == Status::ok; ++i) {
        std::size_t done;
        s = vfs().write(fd, argv[i], strlen(argv[i]), done);
        if (s == Status::ok) s = vfs().write(fd, i + 1 < argc ? " " : "\n", 1, done);
        if (s == Status::ok && done != 1) s = Status::no_space;
    }
    const Status c = vfs().close(fd);
    if (s == Status::ok) s = c;
    return s == Status::ok ? 0 : fail("append", argv[1], s);
}

// --- fstest: workloads for the system tests ----------------------------------

// The bytes of test file `seed` (tests/system/test_fs.py computes the same).
void fill_pattern(uint8_t* p, std::size_t n, uint32_t seed, uint64_t offset, uint32_t& x) {
    if (offset == 0) x = seed * 2654435761u + 1;
    for (std::size_t i = 0; i < n; ++i) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = static_cast<uint8_t>(x);
    }
}

// Writes a file of `bytes` pattern bytes in `chunk`-sized writes; with
// `verify`, reads it back and compares. The number of errors.
unsigned write_file(const char* path, uint32_t seed, uint32_t bytes, uint32_t chunk, bool sync,
                    bool verify) {
    Buffer buf(chunk), back(chunk);
    if (!buf.p || !back.p) return 1;
    int fd;
    if (vfs().open(path, kWrite | kCreate | kTruncate, fd) != Status::ok) return 1;
    unsigned errors = 0;
    uint32_t x = 0;
    for (uint32_t at = 0; at < bytes && !errors && !shell::interrupted();) {
        const uint32_t n = bytes - at < chunk ? bytes - at : chunk;
        fill_pattern(buf.p, n, seed, at, x);
        std::size_t done;
        if (vfs().write(fd, buf.p, n, done) != Status::ok || done != n) ++errors;
        at += n;
    }
    if (sync && vfs().fsync(fd) != Status::ok) ++errors;
    if (vfs().close(fd) != Status::ok) ++errors;
    if (!verify || errors || shell::interrupted()) return errors;
    if (vfs().open(path, kRead, fd) != Status::ok) return errors + 1;
    for (uint32_t at = 0; at < bytes && !shell::interrupted();) {
        const uint32_t n = bytes - at < chunk ? bytes - at : chunk;
        fill_pattern(buf.p, n, seed, at, x);
        std::size_t done;
        if (vfs().read(fd, back.p, n, done) != Status::ok || done != n ||
            memcmp(buf.p, back.p, n)) {
            ++errors;
            break;
        }
        at += n;
    }
    vfs().close(fd);
    return errors;
}

struct Job {
    const char* dir;
    unsigned index, count;  // files (threads) or rounds (churn)
    uint32_t bytes;
    volatile unsigned errors;
    volatile CpuMask cpus;  // where the thread ran its file operations
};

void job_thread(void* arg) {
    auto* j = static_cast<Job*>(arg);
    char path[kPathMax];
    for (unsigned i = 0; i < j->count && !shell::interrupted(); ++i) {
        snprintf(path, sizeof(path), "%s/t%u-%u.bin", j->dir, j->index, i);
        j->cpus = j->cpus | cpu_mask(smp::cpu_id());
        // Odd chunk sizes: writes cross sectors and clusters unaligned.
        j->errors = j->errors + write_file(path, j->index * 1000 + i, j->bytes,
                                           1000 + 333 * (j->index % 4), false, true);
    }
}

// fstest churn: round r of thread t writes "t<t> r<r> <kChurnTmp>" (its
// first part, the pattern of seed t * 1000 + r, 700 + 37 r bytes), appends
// the pattern of seed t * 1000 + r + 500 (300 + 11 t bytes), renames it to
// "t<t> r<r> <kChurnFinal>", and in rounds r % 3 == 2 deletes round r - 1's
// file. Long names (several directory entries each, crossing sectors) and
// every thread in the same directory at once: entry slots freed and taken
// again by other threads (tests/system/test_fs.py checks the result).
constexpr const char* kChurnTmp = "a rather long temporary name, several entries.tmp";
constexpr const char* kChurnFinal = "renamed to its final and even longer name, with spaces.bin";

unsigned append_part(const char* path, uint32_t seed, uint32_t bytes) {
    Buffer buf(bytes ? bytes : 1);
    if (!buf.p) return 1;
    uint32_t x = 0;
    fill_pattern(buf.p, bytes, seed, 0, x);
    int fd;
    if (vfs().open(path, kWrite | kAppend, fd) != Status::ok) return 1;
    std::size_t done;
    unsigned errors = vfs().write(fd, buf.p, bytes, done) != Status::ok || done != bytes ? 1 : 0;
    if (vfs().close(fd) != Status::ok) ++errors;
    return errors;
}

void churn_thread(void* arg) {
    auto* j = static_cast<Job*>(arg);
    char tmp[kPathMax], final[kPathMax];
    const unsigned t = j->index;
    for (unsigned r = 0; r < j->count && !shell::interrupted(); ++r) {
        j->cpus = j->cpus | cpu_mask(smp::cpu_id());
        snprintf(tmp, sizeof(tmp), "%s/t%u r%u %s", j->dir, t, r, kChurnTmp);
        snprintf(final, sizeof(final), "%s/t%u r%u %s", j->dir, t, r, kChurnFinal);
        unsigned e = write_file(tmp, t * 1000 + r, 700 + 37 * r, 256 + 64 * t, false, false);
        if (!e) e = append_part(tmp, t * 1000 + r + 500, 300 + 11 * t);
        if (!e && vfs().rename(tmp, final) != Status::ok) e = 1;
        if (!e && r % 3 == 2) {
            snprintf(final, sizeof(final), "%s/t%u r%u %s", j->dir, t, r - 1, kChurnFinal);
            if (vfs().unlink(final) != Status::ok) e = 1;
        }
        if (e) {
            j->errors = j->errors + e;
            return;
        }
    }
}

// Threads pinned one per CPU (thread t on CPU t modulo the CPUs online), all
// in one directory; the line names the CPUs that ran them.
int fstest_run(char** a, const char* what, void (*body)(void*), uint32_t bytes) {
    unsigned long long threads, count;
    if (!shell::parse_u64(a[1], threads) || !shell::parse_u64(a[2], count) || threads == 0 ||
        threads > 16 || count > 100000)
        return shell::kUsage;
    Job jobs[16];
    Thread* workers[16];
    for (unsigned i = 0; i < threads; ++i)
        jobs[i] = {a[0], i, static_cast<unsigned>(count), bytes, 0, 0};
    const unsigned started =
        create_pinned("fstest", body, jobs, static_cast<unsigned>(threads), 16384, workers);
    unsigned errors = started == threads ? 0 : 1;
    CpuMask cpus = 0;
    for (unsigned i = 0; i < started; ++i) {
        workers[i]->join();
        errors += jobs[i].errors;
        cpus |= jobs[i].cpus;
    }
    printk("fstest: %s%u threads x %llu %s", shell::interrupted() ? "interrupted: " : "", started,
           count, what);
    if (body == job_thread) printk(" of %llu bytes", static_cast<unsigned long long>(bytes));
    printk(", %u errors, cpus 0x%x\n", errors, static_cast<unsigned>(cpus));
    if (shell::interrupted()) return shell::kInterrupted;
    return errors ? 1 : 0;
}

int fstest_threads(char** a) {
    unsigned long long bytes;
    if (!shell::parse_u64(a[3], bytes) || bytes > (64u << 20)) return shell::kUsage;
    return fstest_run(a, "files", job_thread, static_cast<uint32_t>(bytes));
}

// Files written and fsync'ed one after another, each announced once it is
// on the device: what a power cut must not lose.
int fstest_stream(char** a) {
    unsigned long long files, bytes;
    if (!shell::parse_u64(a[1], files) || !shell::parse_u64(a[2], bytes) || bytes > (16u << 20))
        return shell::kUsage;
    char path[kPathMax];
    for (unsigned i = 0; i < files; ++i) {
        if (shell::interrupted()) return shell::kInterrupted;
        snprintf(path, sizeof(path), "%s/s%u.bin", a[0], i);
        const unsigned errors =
            write_file(path, i, static_cast<uint32_t>(bytes), 4096 + 100, true, false);
        if (shell::interrupted()) return shell::kInterrupted;  // file i is not whole
        if (errors) {
            printk("fstest: %s: write failed\n", path);
            return 1;
        }
        printk("fstest: synced %u\n", i);
    }
    return 0;
}

int cmd_fstest(int argc, char** argv) {
    if (argc == 6 && !strcmp(argv[1], "threads")) return fstest_threads(argv + 2);
    if (argc == 5 && !strcmp(argv[1], "stream")) return fstest_stream(argv + 2);
    if (argc == 5 && !strcmp(argv[1], "churn"))
        return fstest_run(argv + 2, "rounds", churn_thread, 0);
    return shell::kUsage;
}

}  // namespace

SHELL_COMMAND(mount, "[<device>[<partition>] [<path>] [-r]]",
              "mount a FAT volume (default at /<device>); alone: list the mounts", cmd_mount);
SHELL_COMMAND(umount, "<path>", "write back and unmount a volume", cmd_umount);
SHELL_COMMAND(ls, "[-l] [<path>]", "list a directory (default /: the mounts)", cmd_ls);
SHELL_COMMAND(cat, "<file>...", "print files", cmd_cat);
SHELL_COMMAND(cp, "<from> <to>", "copy a file (into <to> when it is a directory)", cmd_cp);
SHELL_COMMAND(mv, "<from> <to>", "rename or move a file or directory", cmd_mv);
SHELL_COMMAND(rm, "<file>...", "delete files", cmd_rm);
SHELL_COMMAND(mkdir, "<dir>...", "create directories", cmd_mkdir);
SHELL_COMMAND(rmdir, "<dir>...", "delete empty directories", cmd_rmdir);
SHELL_COMMAND(df, "", "size and free space of each mounted volume", cmd_df);
SHELL_COMMAND(sync, "", "write every volume's cached changes to the device", cmd_sync);
SHELL_COMMAND(append, "<file> <text>...", "add a line of text to a file (created if missing)",
              cmd_append);
SHELL_COMMAND(crc32, "<file>|<dir>",
              "CRC-32 (zlib's) and size of a file (of each file in a directory)", cmd_crc32);
SHELL_COMMAND(fstest,
              "threads <dir> <threads> <files> <bytes> | churn <dir> <threads> <rounds> | "
              "stream <dir> <files> <bytes>",
              "file-system workloads: threads writing and verifying, threads creating, appending, "
              "renaming and deleting in one directory, fsync'ed stream",
              cmd_fstest);

}  // namespace rtos::fs
