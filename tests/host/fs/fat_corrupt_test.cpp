// Damaged images: every value read from the disk is untrusted. A volume
// refused at mount is never written; damage found later (loops, chains off
// the volume, sizes the chain does not cover, broken long-name runs) is a
// clean error, never a crash, and nothing more is written.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "fs/fat/fat_volume.hpp"
#include "mem_disk.hpp"

using namespace rtos;
using namespace rtos::fs;
using fstest::MemDisk;

namespace {

// A FAT16 image (2 KiB clusters) holding big.bin (4 clusters) and a file
// with a long name, made by mkfs.fat and mcopy.
struct Image {
    std::vector<uint8_t> data;
    uint32_t reserved, fat_sectors, root_lba, data_lba;

    Image() {
        const std::string img = fstest::save(fstest::mkfs("-F 16 -s 4", 16));
        const std::string big = fstest::save(std::vector<uint8_t>(4 * 2048 - 100, 0x5a));
        const std::string small = fstest::save(std::vector<uint8_t>(10, 0x33));
        std::string out;
        EXPECT_EQ(
            fstest::sh("MTOOLS_SKIP_CHECK=1 mcopy -i " + img + " " + big + " ::big.bin", &out), 0)
            << out;
        EXPECT_EQ(fstest::sh("MTOOLS_SKIP_CHECK=1 mcopy -i " + img + " " + small +
                                 " '::A long name for a small file.txt'",
                             &out),
                  0)
            << out;
        data = fstest::load(img);
        reserved = u16(14);
        fat_sectors = u16(22);
        root_lba = reserved + 2 * fat_sectors;
        data_lba = root_lba + u16(17) * 32 / 512;
    }
    uint16_t u16(std::size_t at) const {
        return static_cast<uint16_t>(data[at] | data[at + 1] << 8);
    }
    void set16(std::size_t at, uint16_t v) {
        data[at] = static_cast<uint8_t>(v);
        data[at + 1] = static_cast<uint8_t>(v >> 8);
    }
    // The root entry whose short name is `sfn` (11 bytes): its offset.
    std::size_t entry(const char* sfn) const {
        for (std::size_t at = root_lba * 512; at < data_lba * 512; at += 32)
            if (!std::memcmp(&data[at], sfn, 11)) return at;
        ADD_FAILURE() << "no entry " << sfn;
        return 0;
    }
    uint16_t first_cluster(const char* sfn) const { return u16(entry(sfn) + 26); }
    // FAT entry n in both copies.
    void set_fat(uint32_t n, uint16_t v) {
        set16(reserved * 512 + n * 2, v);
        set16((reserved + fat_sectors) * 512 + n * 2, v);
    }
    uint16_t fat(uint32_t n) const { return u16(reserved * 512 + n * 2); }
};

struct Mounted {
    explicit Mounted(const std::vector<uint8_t>& image) : disk(image) {
        const char* w = nullptr;
        status = FatVolume::mount(disk, {}, v, w);
        if (w) why = w;
    }
    ~Mounted() {
        if (v) v->destroy();
    }
    MemDisk disk;
    FatVolume* v = nullptr;
    Status status;
    std::string why;
};

void expect_refused(const std::vector<uint8_t>& image, const char* why_part) {
    Mounted m(image);
    EXPECT_NE(m.status, Status::ok);
    EXPECT_EQ(m.v, nullptr);
    EXPECT_NE(m.why.find(why_part), std::string::npos) << m.why;
    EXPECT_EQ(m.disk.writes, 0u);
    EXPECT_EQ(m.disk.data, image);
}

// After damage was found: every change is refused and nothing is written.
void expect_no_more_writes(Mounted& m) {
    FatFile* f;
    EXPECT_EQ(m.v->open("new.txt", kWrite | kCreate, f), Status::corrupt);
    EXPECT_EQ(m.v->mkdir("dir"), Status::corrupt);
    EXPECT_EQ(m.v->sync(), Status::ok);
    EXPECT_EQ(m.v->unmount(), Status::ok);
    m.v = nullptr;
    EXPECT_EQ(m.disk.writes, 0u);
}

}  // namespace

TEST(FatCorrupt, TheImageIsGoodBeforeDamage) {
    Image img;
    Mounted m(img.data);
    ASSERT_EQ(m.status, Status::ok) << m.why;
    FatFile* f;
    ASSERT_EQ(m.v->open("big.bin", kRead, f), Status::ok);
    m.v->close(f);
    ASSERT_EQ(m.v->open("a long name for a small file.txt", kRead, f), Status::ok);
    m.v->close(f);
}

TEST(FatCorrupt, BadBootSectorsAreRefusedUnwritten) {
    Image good;
    auto with = [&](auto change) {
        Image img = good;
        change(img);
        return img.data;
    };
    expect_refused(with([](Image& i) { i.data[510] = 0; }), "no FAT boot sector");
    expect_refused(with([](Image& i) { i.set16(11, 4096); }), "sector size");
    expect_refused(with([](Image& i) { i.set16(11, 0); }), "no FAT boot sector");
    expect_refused(with([](Image& i) { i.data[13] = 3; }), "bad BPB");
    expect_refused(with([](Image& i) { i.data[16] = 0; }), "bad BPB");
    expect_refused(with([](Image& i) { i.set16(14, 0); }), "bad BPB");
    expect_refused(with([](Image& i) { i.set16(22, 0); }), "bad BPB");
    expect_refused(with([](Image& i) {
                       i.set16(19, 0);
                       i.data[32] = 0xff, i.data[33] = 0xff, i.data[34] = 0xff, i.data[35] = 0x0f;
                   }),
                   "larger than its device");
    expect_refused(with([](Image& i) { i.set16(22, 2); }),
                   "FAT smaller than the cluster count needs");
    expect_refused(with([](Image& i) { i.data[i.reserved * 512] = 0x12; }), "FAT[0]");
    expect_refused(with([](Image& i) { i.set16(14, 0xfff0); }), "bad BPB");
}

TEST(FatCorrupt, ChainThatLoops) {
    Image img;
    const uint16_t first = img.first_cluster("BIG     BIN");
    img.set_fat(first + 3, first);  // the last cluster points back to the first
    Mounted m(img.data);
    ASSERT_EQ(m.status, Status::ok) << m.why;
    FatFile* f;
    EXPECT_EQ(m.v->open("big.bin", kRead, f), Status::corrupt);
    EXPECT_EQ(m.v->unlink("big.bin"), Status::corrupt);
    EXPECT_TRUE(m.v->damaged());
    expect_no_more_writes(m);
}

TEST(FatCorrupt, ChainThatLeavesTheVolume) {
    for (uint16_t bad : {uint16_t{0xfff0}, uint16_t{0x0000}, uint16_t{0x0001}, uint16_t{0xfff7}}) {
        Image img;
        const uint16_t first = img.first_cluster("BIG     BIN");
        img.set_fat(first + 1, bad);
        Mounted m(img.data);
        ASSERT_EQ(m.status, Status::ok) << m.why;
        FatFile* f;
        EXPECT_EQ(m.v->open("big.bin", kRead, f), Status::corrupt) << std::hex << bad;
        expect_no_more_writes(m);
    }
}

TEST(FatCorrupt, SizeTheChainDoesNotCover) {
    Image img;
    const std::size_t e = img.entry("BIG     BIN");
    img.data[e + 30] = 0x01;  // 64 KiB more than its 4 clusters
    Mounted m(img.data);
    ASSERT_EQ(m.status, Status::ok);
    FatFile* f;
    EXPECT_EQ(m.v->open("big.bin", kRead | kWrite, f), Status::corrupt);
    expect_no_more_writes(m);
}

TEST(FatCorrupt, DirectoryClusterOffTheVolume) {
    Image img;
    std::string out;
    const std::string path = fstest::save(img.data);
    ASSERT_EQ(fstest::sh("MTOOLS_SKIP_CHECK=1 mmd -i " + path + " ::sub", &out), 0) << out;
    img.data = fstest::load(path);
    const std::size_t e = img.entry("SUB        ");
    img.set16(e + 26, 0xfff0);
    Mounted m(img.data);
    ASSERT_EQ(m.status, Status::ok);
    FatDir* d;
    EXPECT_EQ(m.v->opendir("sub", d), Status::corrupt);
    FatFile* f;
    EXPECT_EQ(m.v->open("sub/x", kRead, f), Status::corrupt);
    expect_no_more_writes(m);
}

TEST(FatCorrupt, BrokenLongNamesFallBackToShortNames) {
    // The long name's entries precede the short one: damage each way.
    for (int damage = 0; damage < 5; ++damage) {
        Image img;
        std::size_t sfn = 0;
        for (std::size_t at = img.root_lba * 512; at < img.data_lba * 512; at += 32)
            if (img.data[at + 11] != 0x0f && img.data[at] &&
                !std::memcmp(&img.data[at], "ALONGN", 6))
                sfn = at;
        ASSERT_NE(sfn, 0u);
        uint8_t* last = &img.data[sfn - 32];  // the long-name entry with ord 1
        switch (damage) {
        case 0: last[13] ^= 0xff; break;           // checksum mismatch
        case 1: last[0] = 0x05; break;             // order numbers out of sequence
        case 2: img.data[sfn - 64] = 0x55; break;  // first entry claims 21 parts
        case 3:                                    // a NUL in the middle of the name
            last[1] = 0;
            last[2] = 0;
            break;
        case 4:  // a line break (found by tests/fuzz fat: a disk's text reaching `ls`)
            last[1] = '\n';
            last[2] = 0;
            break;
        }
        Mounted m(img.data);
        ASSERT_EQ(m.status, Status::ok);
        std::vector<std::string> names;
        FatDir* d;
        ASSERT_EQ(m.v->opendir("", d), Status::ok);
        DirEntry e;
        while (m.v->readdir(d, e) == Status::ok) names.push_back(e.name);
        m.v->closedir(d);
        EXPECT_EQ(names.size(), 2u) << damage;
        bool short_name = false;
        for (auto& n : names) short_name |= n.rfind("ALONGN", 0) == 0;
        EXPECT_TRUE(short_name) << damage;
        EXPECT_EQ(m.disk.writes, 0u);
    }
}

TEST(FatCorrupt, ControlCharactersInShortNamesShowAsQuestionMarks) {
    Image img;
    const std::size_t at = img.entry("BIG     BIN");
    img.data[at + 1] = 0x1b;  // ESC: a terminal escape from the disk
    img.data[at + 2] = '\n';
    Mounted m(img.data);
    ASSERT_EQ(m.status, Status::ok);
    FatDir* d;
    ASSERT_EQ(m.v->opendir("", d), Status::ok);
    DirEntry e;
    bool seen = false;  // lower case: mcopy set the entry's lower-case flags
    while (m.v->readdir(d, e) == Status::ok) seen |= std::string(e.name) == "b??.bin";
    m.v->closedir(d);
    EXPECT_TRUE(seen);
}

TEST(FatCorrupt, BlankShortNamesAreNotListed) {
    // Found by tests/fuzz fat: a short name of eleven spaces (no long name)
    // reached readdir as an empty name, one no path can name.
    Image img;
    std::memset(&img.data[img.entry("BIG     BIN")], ' ', 11);
    Mounted m(img.data);
    ASSERT_EQ(m.status, Status::ok);
    FatDir* d;
    ASSERT_EQ(m.v->opendir("", d), Status::ok);
    DirEntry e;
    std::vector<std::string> names;
    while (m.v->readdir(d, e) == Status::ok) names.push_back(e.name);
    m.v->closedir(d);
    EXPECT_EQ(names, std::vector<std::string>{"A long name for a small file.txt"});
    EXPECT_EQ(m.disk.writes, 0u);
}

TEST(FatCorrupt, DeviceErrorsAreReturned) {
    Image img;
    Mounted m(img.data);
    ASSERT_EQ(m.status, Status::ok);
    m.disk.fail_io = true;
    FatFile* f;
    EXPECT_EQ(m.v->open("big.bin", kRead, f), Status::io_error);
    m.disk.fail_io = false;
    ASSERT_EQ(m.v->open("big.bin", kRead, f), Status::ok);
    char buf[4096];
    std::size_t done;
    m.disk.fail_io = true;
    EXPECT_EQ(m.v->read(f, buf, sizeof(buf), done), Status::io_error);
    m.disk.fail_io = false;
    m.v->close(f);
}
