// FatVolume over images made by mkfs.fat: what the library writes, mtools
// reads back byte for byte and fsck.fat -n finds clean; what mtools wrote,
// the library reads.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "fs/fat/fat_volume.hpp"
#include "mem_disk.hpp"

using namespace rtos;
using namespace rtos::fs;
using fstest::MemDisk;

namespace {

struct Kind {
    const char* name;
    const char* mkfs;  // mkfs.fat arguments
    unsigned mib;
};

const Kind kKinds[] = {
    {"fat12", "-F 12 -s 4", 4},
    {"fat16", "-F 16 -s 2", 8},
    {"fat32", "-F 32 -s 1", 36},
};

class Vol {
public:
    explicit Vol(std::vector<uint8_t> image, MountOptions opt = {}) : disk(std::move(image)) {
        const char* why;
        status = FatVolume::mount(disk, opt, v, why);
        if (why) this->why = why;
    }
    ~Vol() {
        if (v) v->destroy();
    }
    Status unmount() {
        const Status s = v->unmount();
        if (s == Status::ok) v = nullptr;
        return s;
    }
    Status put(const char* path, const std::string& data,
               unsigned flags = kWrite | kCreate | kTruncate) {
        FatFile* f;
        Status s = v->open(path, flags, f);
        if (s != Status::ok) return s;
        std::size_t done;
        s = v->write(f, data.data(), data.size(), done);
        if (s == Status::ok && done != data.size()) s = Status::no_space;
        const Status c = v->close(f);
        return s != Status::ok ? s : c;
    }
    Status get(const char* path, std::string& out, std::size_t chunk = 100000) {
        FatFile* f;
        Status s = v->open(path, kRead, f);
        if (s != Status::ok) return s;
        out.clear();
        std::vector<char> buf(chunk);
        for (;;) {
            std::size_t done;
            s = v->read(f, buf.data(), buf.size(), done);
            if (s != Status::ok || done == 0) break;
            out.append(buf.data(), done);
        }
        v->close(f);
        return s;
    }
    std::vector<std::string> list(const char* path) {
        std::vector<std::string> names;
        FatDir* d;
        if (v->opendir(path, d) != Status::ok) return names;
        DirEntry e;
        while (v->readdir(d, e) == Status::ok) names.push_back(e.name);
        v->closedir(d);
        return names;
    }

    MemDisk disk;
    FatVolume* v = nullptr;
    Status status;
    std::string why;
};

std::string fsck(const std::vector<uint8_t>& img) {
    std::string out;
    return fstest::fsck_clean(img, &out) ? std::string() : out;
}

class FatKinds : public ::testing::TestWithParam<Kind> {};

}  // namespace

TEST_P(FatKinds, MountsWhatMkfsMade) {
    const Kind k = GetParam();
    Vol vol(fstest::mkfs(k.mkfs, k.mib));
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    EXPECT_STREQ(fat_type_name(vol.v->type()), k.name);
    StatFs st;
    ASSERT_EQ(vol.v->statfs(st), Status::ok);
    EXPECT_GT(st.free_clusters, 0u);
    EXPECT_LE(st.free_clusters, st.clusters);
    EXPECT_TRUE(vol.list("").empty());
    const unsigned long writes = vol.disk.writes;
    ASSERT_EQ(vol.unmount(), Status::ok);
    EXPECT_EQ(vol.disk.writes, writes) << "an unmodified volume is never written";
}

TEST_P(FatKinds, WritesThatMtoolsAndFsckAccept) {
    const Kind k = GetParam();
    Vol vol(fstest::mkfs(k.mkfs, k.mib));
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    std::map<std::string, std::string> files = {
        {"empty", ""},
        {"README.TXT", "upper-case 8.3\n"},
        {"notes.txt", "lower-case 8.3\n"},
        {"My Notes.txt", fstest::pattern(1000, 1)},
        {"A file with a rather long name, longer than thirteen.bin", fstest::pattern(70000, 2)},
        {"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.dat", fstest::pattern(4097, 3)},
        {"sub/one.bin", fstest::pattern(512, 4)},
        {"sub/deeper/two.bin", fstest::pattern(2048 * 3 + 5, 5)},
    };
    ASSERT_EQ(vol.v->mkdir("sub"), Status::ok);
    ASSERT_EQ(vol.v->mkdir("sub/deeper"), Status::ok);
    EXPECT_EQ(vol.v->mkdir("sub"), Status::exists);
    for (auto& [path, data] : files) ASSERT_EQ(vol.put(path.c_str(), data), Status::ok) << path;
    // Many entries: the directory grows past one cluster (FAT32: 512-byte clusters).
    for (int i = 0; i < 40; ++i) {
        const std::string p = "sub/many file " + std::to_string(i) + ".txt";
        files[p] = "file " + std::to_string(i) + "\n";
        ASSERT_EQ(vol.put(p.c_str(), files[p]), Status::ok);
    }
    for (auto& [path, data] : files) {
        std::string back;
        ASSERT_EQ(vol.get(path.c_str(), back, 333), Status::ok) << path;
        EXPECT_EQ(back, data) << path;
    }
    // Lookups ignore case; the alias finds the file too.
    std::string back;
    EXPECT_EQ(vol.get("my notes.TXT", back), Status::ok);
    EXPECT_EQ(vol.get("MYNOTE~1.TXT", back), Status::ok);
    EXPECT_EQ(back, files["My Notes.txt"]);
    ASSERT_EQ(vol.v->sync(), Status::ok);
    EXPECT_EQ(fsck(vol.disk.data), "");
    for (auto& [path, data] : files) {
        std::string host;
        ASSERT_TRUE(fstest::mread(vol.disk.data, path, host)) << path << ": " << host;
        EXPECT_EQ(host, data) << path;
    }
    // Rename, append, delete; then again clean and readable.
    ASSERT_EQ(vol.v->rename("My Notes.txt", "sub/deeper/Renamed Notes.txt"), Status::ok);
    ASSERT_EQ(vol.v->rename("sub/deeper", "moved"), Status::ok);
    EXPECT_EQ(vol.v->rename("moved", "moved/deeper/x"), Status::not_found);
    EXPECT_EQ(vol.v->rename("sub", "sub/inside"), Status::invalid);
    ASSERT_EQ(vol.put("notes.txt", "more\n", kWrite | kAppend), Status::ok);
    ASSERT_EQ(vol.v->unlink("README.TXT"), Status::ok);
    EXPECT_EQ(vol.v->unlink("README.TXT"), Status::not_found);
    EXPECT_EQ(vol.v->rmdir("moved"), Status::not_empty);
    ASSERT_EQ(vol.unmount(), Status::ok);
    EXPECT_EQ(fsck(vol.disk.data), "");
    std::string host;
    ASSERT_TRUE(fstest::mread(vol.disk.data, "moved/Renamed Notes.txt", host)) << host;
    EXPECT_EQ(host, files["My Notes.txt"]);
    ASSERT_TRUE(fstest::mread(vol.disk.data, "moved/two.bin", host)) << host;
    EXPECT_EQ(host, files["sub/deeper/two.bin"]);
    ASSERT_TRUE(fstest::mread(vol.disk.data, "notes.txt", host));
    EXPECT_EQ(host, "lower-case 8.3\nmore\n");
    EXPECT_FALSE(fstest::mread(vol.disk.data, "README.TXT", host));
    std::string out;
    fstest::sh("MTOOLS_SKIP_CHECK=1 mdir -i " + fstest::save(vol.disk.data) + " ::moved", &out);
    EXPECT_NE(out.find("Renamed Notes.txt"), std::string::npos) << out;
}

TEST_P(FatKinds, ReadsWhatMtoolsWrote) {
    const Kind k = GetParam();
    const std::string img = fstest::save(fstest::mkfs(k.mkfs, k.mib));
    const std::string src = fstest::save(std::vector<uint8_t>());
    std::map<std::string, std::string> files = {
        {"Host File.txt", "from the host\n"},
        {"big.bin", fstest::pattern(300000, 9)},
        {"\xc3\xa9t\xc3\xa9.txt", "summer\n"},
    };
    fstest::sh("MTOOLS_SKIP_CHECK=1 mmd -i " + img + " ::dir");
    for (auto& [name, data] : files) {
        std::vector<uint8_t> bytes(data.begin(), data.end());
        const std::string tmp = fstest::save(bytes);
        std::string out;
        ASSERT_EQ(
            fstest::sh("MTOOLS_SKIP_CHECK=1 mcopy -i " + img + " " + tmp + " '::dir/" + name + "'",
                       &out),
            0)
            << out;
    }
    Vol vol(fstest::load(img));
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    auto names = vol.list("dir");
    EXPECT_EQ(names.size(), files.size());
    for (auto& [name, data] : files) {
        std::string back;
        ASSERT_EQ(vol.get(("dir/" + name).c_str(), back), Status::ok) << name;
        EXPECT_EQ(back, data) << name;
    }
    Stat st;
    ASSERT_EQ(vol.v->stat("dir/big.bin", st), Status::ok);
    EXPECT_EQ(st.size, 300000u);
    EXPECT_FALSE(st.directory);
    ASSERT_EQ(vol.v->stat("dir", st), Status::ok);
    EXPECT_TRUE(st.directory);
    EXPECT_EQ(vol.v->stat("dir/nothing", st), Status::not_found);
    EXPECT_EQ(vol.v->stat("dir/big.bin/x", st), Status::not_directory);
}

TEST_P(FatKinds, DiskFullFailsCleanly) {
    const Kind k = GetParam();
    Vol vol(fstest::mkfs(k.mkfs, k.mib));
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    FatFile* f;
    ASSERT_EQ(vol.v->open("fill.bin", kWrite | kCreate, f), Status::ok);
    std::string chunk = fstest::pattern(100000, 7);
    uint64_t written = 0;
    Status s = Status::ok;
    for (int i = 0; i < 10000 && s == Status::ok; ++i) {
        std::size_t done;
        s = vol.v->write(f, chunk.data(), chunk.size(), done);
        written += done;
    }
    EXPECT_EQ(s, Status::no_space);
    EXPECT_EQ(vol.v->close(f), Status::ok);
    StatFs st;
    ASSERT_EQ(vol.v->statfs(st), Status::ok);
    EXPECT_EQ(st.free_clusters, 0u);
    EXPECT_EQ(vol.put("another", "x"), Status::no_space);
    Stat fst;
    ASSERT_EQ(vol.v->stat("fill.bin", fst), Status::ok);
    EXPECT_EQ(fst.size, written);
    ASSERT_EQ(vol.unmount(), Status::ok);
    EXPECT_EQ(fsck(vol.disk.data), "");
    // Deleting gives the space back.
    Vol again(vol.disk.data);
    ASSERT_EQ(again.status, Status::ok);
    ASSERT_EQ(again.v->unlink("fill.bin"), Status::ok);
    ASSERT_EQ(again.put("another", "x"), Status::ok);
    ASSERT_EQ(again.unmount(), Status::ok);
    EXPECT_EQ(fsck(again.disk.data), "");
}

TEST_P(FatKinds, SeekAndGaps) {
    const Kind k = GetParam();
    Vol vol(fstest::mkfs(k.mkfs, k.mib));
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    FatFile* f;
    ASSERT_EQ(vol.v->open("sparse", kRead | kWrite | kCreate, f), Status::ok);
    uint64_t pos;
    ASSERT_EQ(vol.v->seek(f, 10000, 0, pos), Status::ok);
    std::size_t done;
    ASSERT_EQ(vol.v->write(f, "tail", 4, done), Status::ok);
    ASSERT_EQ(vol.v->seek(f, 100, 0, pos), Status::ok);
    ASSERT_EQ(vol.v->write(f, "mid", 3, done), Status::ok);
    ASSERT_EQ(vol.v->seek(f, -4, 2, pos), Status::ok);
    EXPECT_EQ(pos, 10000u);
    char buf[8] = {};
    ASSERT_EQ(vol.v->read(f, buf, sizeof(buf), done), Status::ok);
    EXPECT_EQ(done, 4u);
    EXPECT_EQ(std::string(buf, 4), "tail");
    EXPECT_EQ(vol.v->seek(f, -1, 0, pos), Status::invalid);
    ASSERT_EQ(vol.v->close(f), Status::ok);
    std::string back;
    ASSERT_EQ(vol.get("sparse", back), Status::ok);
    std::string want(10004, '\0');
    want.replace(100, 3, "mid");
    want.replace(10000, 4, "tail");
    EXPECT_EQ(back, want);
    ASSERT_EQ(vol.unmount(), Status::ok);
    EXPECT_EQ(fsck(vol.disk.data), "");
}

TEST_P(FatKinds, Errors) {
    const Kind k = GetParam();
    Vol vol(fstest::mkfs(k.mkfs, k.mib));
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    FatFile* f;
    EXPECT_EQ(vol.v->open("missing", kRead, f), Status::not_found);
    EXPECT_EQ(vol.v->open("no/such/dir/file", kWrite | kCreate, f), Status::not_found);
    ASSERT_EQ(vol.v->mkdir("d"), Status::ok);
    EXPECT_EQ(vol.v->open("d", kRead, f), Status::is_directory);
    EXPECT_EQ(vol.v->unlink("d"), Status::is_directory);
    ASSERT_EQ(vol.put("file", "x"), Status::ok);
    EXPECT_EQ(vol.v->mkdir("file/sub"), Status::not_directory);
    EXPECT_EQ(vol.v->open("file", kWrite | kCreate | kExclusive, f), Status::exists);
    EXPECT_EQ(vol.v->rmdir("file"), Status::not_directory);
    EXPECT_EQ(vol.v->mkdir("bad*name"), Status::invalid);
    EXPECT_EQ(vol.v->rename("file", "d"), Status::exists);
    ASSERT_EQ(vol.v->open("file", kRead, f), Status::ok);
    EXPECT_EQ(vol.v->unlink("file"), Status::busy);
    std::size_t done;
    EXPECT_EQ(vol.v->write(f, "y", 1, done), Status::invalid);  // opened for reading
    EXPECT_EQ(vol.unmount(), Status::busy);
    ASSERT_EQ(vol.v->close(f), Status::ok);
    ASSERT_EQ(vol.v->unlink("file"), Status::ok);
    ASSERT_EQ(vol.v->rmdir("d"), Status::ok);
    std::string long_name(256, 'n');
    EXPECT_NE(vol.put(long_name.c_str(), "x"), Status::ok);
    ASSERT_EQ(vol.unmount(), Status::ok);
    EXPECT_EQ(fsck(vol.disk.data), "");
}

TEST_P(FatKinds, ReadOnlyVolumeIsNeverWritten) {
    const Kind k = GetParam();
    MountOptions opt;
    opt.read_only = true;
    Vol vol(fstest::mkfs(k.mkfs, k.mib), opt);
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    EXPECT_EQ(vol.put("x", "y"), Status::read_only);
    EXPECT_EQ(vol.v->mkdir("d"), Status::read_only);
    ASSERT_EQ(vol.unmount(), Status::ok);
    EXPECT_EQ(vol.disk.writes, 0u);
}

TEST_P(FatKinds, DirtyBitWhileModified) {
    const Kind k = GetParam();
    if (std::string(k.name) == "fat12") GTEST_SKIP() << "FAT12 has no clean-shutdown bit";
    Vol vol(fstest::mkfs(k.mkfs, k.mib));
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    const bool fat32 = std::string(k.name) == "fat32";
    auto clean_bit = [&] {
        const uint32_t reserved = vol.disk.data[14] | vol.disk.data[15] << 8;
        const uint8_t* fat1 = vol.disk.data.data() + reserved * 512 + (fat32 ? 4 : 2);
        return fat32 ? (fat1[3] & 0x08) != 0 : (fat1[1] & 0x80) != 0;
    };
    EXPECT_TRUE(clean_bit());
    ASSERT_EQ(vol.put("f", "data"), Status::ok);
    EXPECT_FALSE(clean_bit());
    ASSERT_EQ(vol.v->sync(), Status::ok);
    EXPECT_TRUE(clean_bit());
    EXPECT_EQ(fsck(vol.disk.data), "");
}

TEST_P(FatKinds, PowerCutsLeaveARepairableVolume) {
    const Kind k = GetParam();
    const std::vector<uint8_t> base = fstest::mkfs(k.mkfs, k.mib);
    // A run without a cut counts the writes; then cut at points through it.
    auto scenario = [&](MemDisk& disk, FatVolume* v) {
        auto put = [&](const char* path, const std::string& data) {
            FatFile* f;
            if (v->open(path, kWrite | kCreate | kAppend, f) != Status::ok) return;
            std::size_t done;
            v->write(f, data.data(), data.size(), done);
            v->close(f);
        };
        put("synced.bin", fstest::pattern(20000, 1));
        v->mkdir("dir");
        put("dir/synced two.txt", "kept\n");
        v->sync();
        for (int i = 0; i < 6; ++i) {
            put(("dir/stream " + std::to_string(i)).c_str(), fstest::pattern(3000 * i + 1, i));
            put("log.txt", "line " + std::to_string(i) + "\n");
            if (i == 2) v->unlink("dir/stream 0");
            if (i % 2) v->sync();
        }
        (void)disk;
    };
    unsigned long total;
    {
        MemDisk disk(base);
        FatVolume* v;
        const char* why;
        ASSERT_EQ(FatVolume::mount(disk, {}, v, why), Status::ok);
        const unsigned long before = disk.writes;
        scenario(disk, v);
        total = disk.writes - before;
        v->destroy();
    }
    ASSERT_GT(total, 10u);
    for (unsigned long cut = 1; cut < total; cut += total / 12 + 1) {
        MemDisk disk(base);
        FatVolume* v;
        const char* why;
        ASSERT_EQ(FatVolume::mount(disk, {}, v, why), Status::ok);
        disk.cut_after = static_cast<long>(disk.writes + cut);
        scenario(disk, v);
        v->destroy();
        const std::string path = fstest::save(disk.data);
        std::string out;
        const int rc = fstest::sh("/usr/sbin/fsck.fat -a " + path, &out);
        EXPECT_TRUE(rc == 0 || rc == 1) << "cut " << cut << ": " << out;
        EXPECT_TRUE(fstest::fsck_clean(fstest::load(path), &out)) << "cut " << cut << ": " << out;
        // What a sync() finished before the cut is intact.
        const auto repaired = fstest::load(path);
        std::string host;
        if (fstest::mread(repaired, "dir/synced two.txt", host)) {
            EXPECT_EQ(host, "kept\n") << "cut " << cut;
            ASSERT_TRUE(fstest::mread(repaired, "synced.bin", host)) << "cut " << cut;
            EXPECT_EQ(host, fstest::pattern(20000, 1)) << "cut " << cut;
        }
    }
}

TEST_P(FatKinds, ThreadsWritingOneDirectory) {
    const Kind k = GetParam();
    Vol vol(fstest::mkfs(k.mkfs, k.mib));
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    ASSERT_EQ(vol.v->mkdir("shared"), Status::ok);
    constexpr int kThreads = 4, kFiles = 6;
    std::vector<std::thread> threads;
    std::vector<int> errors(kThreads, 0);
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kFiles; ++i) {
                const std::string path =
                    "shared/thread " + std::to_string(t) + " file " + std::to_string(i);
                const std::string data = fstest::pattern(1000 + 777 * i, t * 100 + i);
                FatFile* f;
                if (vol.v->open(path.c_str(), kWrite | kCreate, f) != Status::ok) {
                    ++errors[t];
                    continue;
                }
                for (std::size_t at = 0; at < data.size(); at += 301) {
                    std::size_t done;
                    const std::size_t n = std::min<std::size_t>(301, data.size() - at);
                    if (vol.v->write(f, data.data() + at, n, done) != Status::ok || done != n)
                        ++errors[t];
                }
                vol.v->close(f);
                std::string back;
                if (vol.get(path.c_str(), back, 97) != Status::ok || back != data) ++errors[t];
            }
        });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], 0) << "thread " << t;
    EXPECT_EQ(vol.list("shared").size(), size_t{kThreads * kFiles});
    ASSERT_EQ(vol.unmount(), Status::ok);
    EXPECT_EQ(fsck(vol.disk.data), "");
}

INSTANTIATE_TEST_SUITE_P(Fat, FatKinds, ::testing::ValuesIn(kKinds),
                         [](const auto& info) { return std::string(info.param.name); });
