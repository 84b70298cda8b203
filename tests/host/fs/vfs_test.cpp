// The VFS over in-memory volumes: mount table, paths, open files, the C
// API's errno mapping; partition tables made by sfdisk (MBR types, GPT).
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "fs/partition.hpp"
#include "fs/vfs/vfs.hpp"
#include "mem_disk.hpp"

using namespace rtos;
using namespace rtos::fs;
using fstest::MemDisk;

namespace {

std::string norm(const char* in) {
    char out[kPathMax];
    const Status s = Vfs::normalize(in, out, sizeof(out));
    return s == Status::ok ? std::string(out) : "<" + std::string(error_text(s)) + ">";
}

struct Fixture : ::testing::Test {
    MemDisk a{fstest::mkfs("-F 12", 2)};
    MemDisk b{fstest::mkfs("-F 16 -s 2", 8)};
    Vfs v;
    static void released(void* ctx) { ++*static_cast<int*>(ctx); }
    int releases = 0;

    void SetUp() override {
        const char* why;
        ASSERT_EQ(v.mount("/a", a, {}, released, &releases, why), Status::ok);
        ASSERT_EQ(v.mount("/b", b, {}, released, &releases, why), Status::ok);
    }
    void TearDown() override {
        v.unmount("/a");
        v.unmount("/b");
    }
    Status put(const char* path, const std::string& data) {
        int fd;
        Status s = v.open(path, kWrite | kCreate | kTruncate, fd);
        if (s != Status::ok) return s;
        std::size_t done;
        s = v.write(fd, data.data(), data.size(), done);
        const Status c = v.close(fd);
        return s != Status::ok ? s : c;
    }
    std::string get(const char* path) {
        int fd;
        if (v.open(path, kRead, fd) != Status::ok) return "<none>";
        std::string out(100000, '\0');
        std::size_t done;
        v.read(fd, out.data(), out.size(), done);
        v.close(fd);
        out.resize(done);
        return out;
    }
};

}  // namespace

TEST(VfsPaths, Normalize) {
    EXPECT_EQ(norm("/"), "/");
    EXPECT_EQ(norm("//vda///x/"), "/vda/x");
    EXPECT_EQ(norm("/vda/./a/../b"), "/vda/b");
    EXPECT_EQ(norm("/../.."), "/");
    EXPECT_EQ(norm("/vda/a/b/../../.."), "/");
    EXPECT_EQ(norm("relative"), "<invalid argument>");
    EXPECT_EQ(norm(std::string(2000, 'x').insert(0, "/").c_str()), "<name too long>");
}

TEST_F(Fixture, MountTable) {
    const char* why;
    EXPECT_EQ(v.mount("/a", a, {}, nullptr, nullptr, why), Status::busy);
    EXPECT_EQ(v.mount("/x/y", a, {}, nullptr, nullptr, why), Status::invalid);
    MemDisk junk(std::vector<uint8_t>(1 << 20, 0));
    EXPECT_EQ(v.mount("/junk", junk, {}, nullptr, nullptr, why), Status::unsupported);
    EXPECT_STREQ(why, "no FAT boot sector");
    MountInfo m;
    ASSERT_TRUE(v.mount_info(0, m));
    EXPECT_STREQ(m.path, "/a");
    EXPECT_EQ(m.type, FatType::fat12);
    ASSERT_TRUE(v.mount_info(1, m));
    EXPECT_STREQ(m.path, "/b");
    EXPECT_FALSE(v.mount_info(2, m));
    // "/" lists the mount points.
    int dd;
    ASSERT_EQ(v.opendir("/", dd), Status::ok);
    DirEntry e;
    std::vector<std::string> names;
    while (v.readdir(dd, e) == Status::ok) names.push_back(e.name);
    EXPECT_EQ(v.closedir(dd), Status::ok);
    EXPECT_EQ(names, (std::vector<std::string>{"a", "b"}));
    Stat st;
    ASSERT_EQ(v.stat("/", st), Status::ok);
    EXPECT_TRUE(st.directory);
    EXPECT_EQ(v.stat("/nothing/x", st), Status::not_found);
}

TEST_F(Fixture, FilesAcrossVolumes) {
    ASSERT_EQ(v.mkdir("/a/dir"), Status::ok);
    ASSERT_EQ(put("/a/dir/../dir/./f.txt", "hello\n"), Status::ok);
    EXPECT_EQ(get("/a/dir/f.txt"), "hello\n");
    EXPECT_EQ(v.rename("/a/dir/f.txt", "/b/f.txt"), Status::unsupported);  // across volumes
    ASSERT_EQ(v.rename("/a/dir/f.txt", "/a/g.txt"), Status::ok);
    EXPECT_EQ(get("/a/g.txt"), "hello\n");
    EXPECT_EQ(v.unlink("/a/dir/f.txt"), Status::not_found);
    int fd;
    ASSERT_EQ(v.open("/a/g.txt", kRead | kWrite, fd), Status::ok);
    EXPECT_EQ(v.unmount("/a"), Status::busy);
    uint64_t pos;
    ASSERT_EQ(v.seek(fd, 0, 2, pos), Status::ok);
    EXPECT_EQ(pos, 6u);
    std::size_t done;
    ASSERT_EQ(v.write(fd, "more\n", 5, done), Status::ok);
    ASSERT_EQ(v.fsync(fd), Status::ok);
    Stat st;
    ASSERT_EQ(v.fstat(fd, st), Status::ok);
    EXPECT_EQ(st.size, 11u);
    ASSERT_EQ(v.close(fd), Status::ok);
    EXPECT_EQ(v.close(fd), Status::invalid);
    EXPECT_EQ(v.read(fd, nullptr, 0, done), Status::invalid);
    StatFs sf;
    ASSERT_EQ(v.statfs("/b", sf), Status::ok);
    EXPECT_EQ(sf.type, FatType::fat16);
    ASSERT_EQ(v.unmount("/a"), Status::ok);
    EXPECT_EQ(releases, 1);
    EXPECT_EQ(get("/a/g.txt"), "<none>");
    EXPECT_TRUE(fstest::fsck_clean(a.data));
    std::string host;
    ASSERT_TRUE(fstest::mread(a.data, "g.txt", host));
    EXPECT_EQ(host, "hello\nmore\n");
}

TEST_F(Fixture, OpenFileTableLimits) {
    std::vector<int> fds;
    Status s = Status::ok;
    for (int i = 0; i < 100 && s == Status::ok; ++i) {
        int fd;
        s = v.open(("/b/f" + std::to_string(i)).c_str(), kWrite | kCreate, fd);
        if (s == Status::ok) fds.push_back(fd);
    }
    EXPECT_EQ(s, Status::too_many);
    for (int fd : fds) EXPECT_EQ(v.close(fd), Status::ok);
    EXPECT_EQ(put("/b/after", "x"), Status::ok);
}

TEST_F(Fixture, ErrnoMapping) {
    EXPECT_EQ(to_errno(Status::ok), 0);
    EXPECT_EQ(to_errno(Status::not_found), -2);
    EXPECT_EQ(to_errno(Status::no_space), -28);
    EXPECT_EQ(to_errno(Status::read_only), -30);
    EXPECT_EQ(to_errno(Status::corrupt), -117);
    EXPECT_STREQ(error_text(Status::not_directory), "not a directory");
}

TEST_F(Fixture, ThreadsOnTwoVolumes) {
    std::vector<std::thread> threads;
    std::vector<int> errors(4, 0);
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 5; ++i) {
                const std::string path = std::string(t % 2 ? "/a/" : "/b/") + "t" +
                                         std::to_string(t) + "-" + std::to_string(i);
                const std::string data = fstest::pattern(3000 + i * 100, t * 10 + i);
                if (put(path.c_str(), data) != Status::ok || get(path.c_str()) != data) ++errors[t];
            }
        });
    for (auto& th : threads) th.join();
    for (int e : errors) EXPECT_EQ(e, 0);
    ASSERT_EQ(v.sync(), Status::ok);
    EXPECT_TRUE(fstest::fsck_clean(a.data));
    EXPECT_TRUE(fstest::fsck_clean(b.data));
}

namespace {

// An image with a partition table written by sfdisk; partitions found.
std::vector<Partition> parts_of(const std::string& table, unsigned mib) {
    const std::string path = fstest::save(std::vector<uint8_t>(std::size_t{mib} << 20, 0));
    std::string out;
    EXPECT_EQ(fstest::sh("printf '" + table + "' | /usr/sbin/sfdisk --quiet " + path, &out), 0)
        << out;
    MemDisk disk(fstest::load(path));
    Partition parts[8];
    const int n = find_partitions(disk, disk.data.data(), parts, 8);
    return n < 0 ? std::vector<Partition>{} : std::vector<Partition>(parts, parts + n);
}

}  // namespace

TEST(Partitions, MbrFatTypes) {
    auto p = parts_of(
        "label: dos\\nstart=2048, size=2048, type=1\\nsize=2048, type=4\\n"
        "size=2048, type=83\\nsize=2048, type=c\\n",
        8);
    ASSERT_EQ(p.size(), 3u);  // 0x83 (Linux) is not FAT
    EXPECT_EQ(p[0].number, 1u);
    EXPECT_EQ(p[0].start, 2048u);
    EXPECT_EQ(p[0].count, 2048u);
    EXPECT_EQ(p[0].type, 0x01);
    EXPECT_EQ(p[1].type, 0x04);
    EXPECT_EQ(p[2].number, 4u);
    EXPECT_EQ(p[2].type, 0x0c);
    p = parts_of("label: dos\\nstart=2048, type=6\\n", 4);
    ASSERT_EQ(p.size(), 1u);
    p = parts_of("label: dos\\nstart=2048, size=1024, type=b\\nsize=1024, type=e\\n", 4);
    ASSERT_EQ(p.size(), 2u);
    EXPECT_EQ(p[1].type, 0x0e);
}

TEST(Partitions, Gpt) {
    auto p = parts_of(
        "label: gpt\\nstart=2048, size=4096, type=EBD0A0A2-B9E5-4433-87C0-68B6B72699C7\\n"
        "size=2048, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\\n",
        8);
    ASSERT_EQ(p.size(), 1u);
    EXPECT_EQ(p[0].start, 2048u);
    EXPECT_EQ(p[0].count, 4096u);
}

TEST(Partitions, UntrustedTables) {
    std::vector<uint8_t> s(512, 0);
    MemDisk disk(std::vector<uint8_t>(1 << 20, 0));
    Partition parts[4];
    EXPECT_EQ(find_partitions(disk, s.data(), parts, 4), -1);  // no signature
    s[510] = 0x55;
    s[511] = 0xaa;
    EXPECT_EQ(find_partitions(disk, s.data(), parts, 4), -1);  // no entries
    s[446] = 0x80;
    s[446 + 4] = 0x0c;
    s[446 + 8] = 0x00, s[446 + 9] = 0x08;    // start 2048
    s[446 + 12] = 0x00, s[446 + 13] = 0x10;  // 4096 sectors: past the 2048-sector disk
    EXPECT_EQ(find_partitions(disk, s.data(), parts, 4), 0);
    s[446] = 0x12;  // a bad status byte: not a partition table
    EXPECT_EQ(find_partitions(disk, s.data(), parts, 4), -1);
}
