// FatVolume's read paths: whole sectors go from the device straight into
// the caller's buffer over runs of consecutive clusters (one request per
// run, up to 1 MiB), the rest through the sector cache. Both must give the
// same bytes: over sectors dirty in the cache, fragmented files, unaligned
// offsets and lengths, the end of the file; a damaged chain is a clean
// error. A file opened again reads its known run without following the FAT.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <string>
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
    std::size_t file;  // bytes of the big file
};

const Kind kKinds[] = {
    {"fat12", "-F 12 -s 4", 4, (1u << 20) + 3 * 512 + 77},
    {"fat16", "-F 16 -s 8", 32, (3u << 20) + 123},
    {"fat32", "-F 32 -s 1", 40, (3u << 20) + 4096 + 1},
};

struct Vol {
    explicit Vol(std::vector<uint8_t> image) : disk(std::move(image)) {
        const char* w = nullptr;
        status = FatVolume::mount(disk, {}, v, w);
        if (w) why = w;
    }
    ~Vol() {
        if (v) v->destroy();
    }
    Status put(const char* path, const std::string& data, std::size_t chunk = 1u << 20) {
        FatFile* f;
        Status s = v->open(path, kWrite | kCreate | kTruncate, f);
        if (s != Status::ok) return s;
        for (std::size_t at = 0; at < data.size() && s == Status::ok;) {
            const std::size_t n = std::min(chunk, data.size() - at);
            std::size_t done;
            s = v->write(f, data.data() + at, n, done);
            if (s == Status::ok && done != n) s = Status::no_space;
            at += n;
        }
        const Status c = v->close(f);
        return s != Status::ok ? s : c;
    }
    // The whole file read in `chunk`-byte reads.
    Status get(const char* path, std::string& out, std::size_t chunk) {
        FatFile* f;
        Status s = v->open(path, kRead, f);
        if (s != Status::ok) return s;
        s = drain(f, out, chunk);
        v->close(f);
        return s;
    }
    Status drain(FatFile* f, std::string& out, std::size_t chunk) {
        out.clear();
        std::vector<char> buf(chunk);
        for (;;) {
            std::size_t done;
            const Status s = v->read(f, buf.data(), buf.size(), done);
            if (s != Status::ok) return s;
            if (done == 0) return Status::ok;
            out.append(buf.data(), done);
        }
    }
    uint32_t cluster() {
        StatFs st;
        EXPECT_EQ(v->statfs(st), Status::ok);
        return st.cluster_size;
    }

    MemDisk disk;
    FatVolume* v = nullptr;
    Status status;
    std::string why;
};

class FatRead : public ::testing::TestWithParam<Kind> {};

const std::size_t kChunks[] = {1u << 20, 65536, 4096, 4095, 513, 512, 1};

}  // namespace

TEST_P(FatRead, LargeAndSmallReadsGiveTheSameBytes) {
    const Kind k = GetParam();
    Vol vol(fstest::mkfs(k.mkfs, k.mib));
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    const std::string data = fstest::pattern(k.file, 11);
    ASSERT_EQ(vol.put("big.bin", data), Status::ok);
    for (std::size_t chunk : kChunks) {
        if (chunk == 1 && k.file > (1u << 20) + 4096) continue;  // slow under ASan; fat12 has it
        std::string got;
        ASSERT_EQ(vol.get("big.bin", got, chunk), Status::ok) << chunk;
        EXPECT_TRUE(got == data) << "chunk " << chunk;
    }
    ASSERT_EQ(vol.v->unmount(), Status::ok);
    vol.v = nullptr;
    std::string host;
    ASSERT_TRUE(fstest::mread(vol.disk.data, "big.bin", host));
    EXPECT_TRUE(host == data);
}

// Bytes written into cached sectors and not yet on the device: a large
// read over them (straight from the device) sees them, as a small one does.
TEST_P(FatRead, LargeReadSeesSectorsDirtyInTheCache) {
    const Kind k = GetParam();
    Vol vol(fstest::mkfs(k.mkfs, k.mib));
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    std::string data = fstest::pattern(k.file, 12);
    ASSERT_EQ(vol.put("big.bin", data), Status::ok);
    ASSERT_EQ(vol.v->sync(), Status::ok);
    FatFile* f;
    ASSERT_EQ(vol.v->open("big.bin", kRead | kWrite, f), Status::ok);
    const std::size_t spots[] = {0, 700, 5000, 70000, k.file / 2 + 3, k.file - 50};
    for (std::size_t at : spots) {
        const std::string patch = fstest::pattern(100, static_cast<uint32_t>(at));
        uint64_t pos;
        ASSERT_EQ(vol.v->seek(f, static_cast<int64_t>(at), 0, pos), Status::ok);
        std::size_t done;
        ASSERT_EQ(vol.v->write(f, patch.data(), patch.size(), done), Status::ok);
        ASSERT_EQ(done, patch.size());
        data.replace(at, patch.size(), patch);
    }
    const unsigned long writes = vol.disk.writes;
    for (std::size_t chunk : {std::size_t{1} << 20, std::size_t{4096}, std::size_t{333}}) {
        uint64_t pos;
        ASSERT_EQ(vol.v->seek(f, 0, 0, pos), Status::ok);
        std::string got;
        ASSERT_EQ(vol.drain(f, got, chunk), Status::ok);
        EXPECT_TRUE(got == data) << "chunk " << chunk;
    }
    EXPECT_GT(vol.disk.writes, writes);  // the large read wrote the dirty sectors back first
    ASSERT_EQ(vol.v->close(f), Status::ok);
    ASSERT_EQ(vol.v->unmount(), Status::ok);
    vol.v = nullptr;
    std::string host;
    ASSERT_TRUE(fstest::mread(vol.disk.data, "big.bin", host));
    EXPECT_TRUE(host == data);
    std::string report;
    EXPECT_TRUE(fstest::fsck_clean(vol.disk.data, &report)) << report;
}

// Two files grown in turn, a few clusters at a time: their chains
// interleave, runs of 1 to 4 clusters. A large read puts up to 16 of them in
// flight together.
TEST_P(FatRead, FragmentedFiles) {
    const Kind k = GetParam();
    Vol vol(fstest::mkfs(k.mkfs, k.mib));
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    const std::size_t cl = vol.cluster();
    const std::size_t size = std::min<std::size_t>(k.file, 600 * cl + 99);
    const std::string a = fstest::pattern(size, 21), b = fstest::pattern(size + 7, 22);
    FatFile *fa, *fb;
    ASSERT_EQ(vol.v->open("a.bin", kWrite | kCreate, fa), Status::ok);
    ASSERT_EQ(vol.v->open("b.bin", kWrite | kCreate, fb), Status::ok);
    std::size_t at_a = 0, at_b = 0;
    for (unsigned turn = 0; at_a < a.size() || at_b < b.size(); ++turn) {
        std::size_t done;
        const std::size_t na = std::min(a.size() - at_a, (turn % 4 + 1) * cl);
        ASSERT_EQ(vol.v->write(fa, a.data() + at_a, na, done), Status::ok);
        at_a += na;
        const std::size_t nb = std::min(b.size() - at_b, ((turn + 2) % 3 + 1) * cl);
        ASSERT_EQ(vol.v->write(fb, b.data() + at_b, nb, done), Status::ok);
        at_b += nb;
    }
    ASSERT_EQ(vol.v->close(fa), Status::ok);
    ASSERT_EQ(vol.v->close(fb), Status::ok);
    // Large reads put many runs in flight together.
    const unsigned long reads = vol.disk.reads, batches = vol.disk.batches;
    std::string whole;
    ASSERT_EQ(vol.get("a.bin", whole, 1u << 20), Status::ok);
    EXPECT_TRUE(whole == a);
    EXPECT_GE(vol.disk.reads - reads, 8 * (vol.disk.batches - batches));
    for (int pass = 0; pass < 2; ++pass) {  // the second with the runs known
        for (std::size_t chunk : kChunks) {
            if (chunk == 1) continue;
            std::string got;
            ASSERT_EQ(vol.get("a.bin", got, chunk), Status::ok);
            EXPECT_TRUE(got == a) << "a.bin chunk " << chunk << " pass " << pass;
            ASSERT_EQ(vol.get("b.bin", got, chunk), Status::ok);
            EXPECT_TRUE(got == b) << "b.bin chunk " << chunk << " pass " << pass;
        }
    }
    ASSERT_EQ(vol.v->unmount(), Status::ok);
    vol.v = nullptr;
    std::string host;
    ASSERT_TRUE(fstest::mread(vol.disk.data, "a.bin", host));
    EXPECT_TRUE(host == a);
    ASSERT_TRUE(fstest::mread(vol.disk.data, "b.bin", host));
    EXPECT_TRUE(host == b);
}

// Seeks to odd places and reads odd lengths, some across the end.
TEST_P(FatRead, UnalignedOffsetsAndLengths) {
    const Kind k = GetParam();
    Vol vol(fstest::mkfs(k.mkfs, k.mib));
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    const std::string data = fstest::pattern(k.file, 31);
    ASSERT_EQ(vol.put("big.bin", data, 3000), Status::ok);
    FatFile* f;
    ASSERT_EQ(vol.v->open("big.bin", kRead, f), Status::ok);
    std::vector<char> buf(k.file + 2048);
    uint32_t rng = 0x1234567;
    auto next = [&rng] {
        rng ^= rng << 13;
        rng ^= rng >> 17;
        rng ^= rng << 5;
        return rng;
    };
    for (int i = 0; i < 200; ++i) {
        std::size_t at = next() % (k.file + 600);
        std::size_t len = i % 3 == 0 ? next() % (k.file / 2) : next() % 9000;
        if (i % 10 == 0) at = k.file - next() % 700;  // across the end
        if (i % 10 == 1) at = (next() % (k.file / 512)) * 512;
        uint64_t pos;
        ASSERT_EQ(vol.v->seek(f, static_cast<int64_t>(at), 0, pos), Status::ok);
        std::size_t done = 12345;
        ASSERT_EQ(vol.v->read(f, buf.data(), len, done), Status::ok);
        const std::size_t want = at >= k.file ? 0 : std::min(len, k.file - at);
        ASSERT_EQ(done, want) << "at " << at << " len " << len;
        EXPECT_TRUE(std::equal(buf.begin(), buf.begin() + static_cast<long>(done),
                               data.begin() + static_cast<long>(std::min(at, k.file))))
            << "at " << at << " len " << len;
    }
    ASSERT_EQ(vol.v->close(f), Status::ok);
}

// A contiguous file read again: one device request per MiB, no FAT entry
// followed (the run the chain check saw at open covers it).
TEST_P(FatRead, AFileReadAgainFollowsNoFatEntries) {
    const Kind k = GetParam();
    Vol vol(fstest::mkfs(k.mkfs, k.mib));
    ASSERT_EQ(vol.status, Status::ok) << vol.why;
    const std::size_t mib = k.file >> 20;
    const std::string data = fstest::pattern(mib << 20, 41);
    ASSERT_EQ(vol.put("big.bin", data), Status::ok);
    std::string got;
    ASSERT_EQ(vol.get("big.bin", got, 1u << 20), Status::ok);  // walks the chain once
    for (int pass = 0; pass < 3; ++pass) {
        const uint64_t steps = vol.v->chain_steps();
        const unsigned long reads = vol.disk.reads;
        ASSERT_EQ(vol.get("big.bin", got, 1u << 20), Status::ok);
        EXPECT_TRUE(got == data);
        EXPECT_EQ(vol.v->chain_steps() - steps, 0u) << "pass " << pass;
        EXPECT_EQ(vol.disk.reads - reads, mib) << "pass " << pass;
    }
}

INSTANTIATE_TEST_SUITE_P(Kinds, FatRead, ::testing::ValuesIn(kKinds),
                         [](const auto& info) { return std::string(info.param.name); });

// A big file's chain damaged in the middle of a run (a loop back into it,
// a link off the volume): refused at open, nothing read or written.
TEST(FatReadCorrupt, DamagedChainOfALargeFile) {
    struct Damage {
        uint32_t at;     // which cluster of the file (from its first)
        uint32_t value;  // what its FAT entry becomes (0: first + 5)
    };
    const Damage damages[] = {{200, 0}, {100, 0xfff0}, {300, 0}, {399, 0x7fff}, {50, 1}};
    for (const Damage& d : damages) {
        const std::string img = fstest::save(fstest::mkfs("-F 16 -s 8", 32));
        const std::string big = fstest::save(std::vector<uint8_t>(400 * 4096, 0x5a));
        std::string out;
        ASSERT_EQ(
            fstest::sh("MTOOLS_SKIP_CHECK=1 mcopy -i " + img + " " + big + " ::big.bin", &out), 0)
            << out;
        std::vector<uint8_t> data = fstest::load(img);
        const uint32_t reserved = data[14] | data[15] << 8, fat_sectors = data[22] | data[23] << 8;
        const uint32_t root = reserved + 2 * fat_sectors;
        uint32_t first = 0;
        for (std::size_t e = root * 512; e < root * 512 + 16384; e += 32)
            if (!std::memcmp(&data[e], "BIG     BIN", 11)) first = data[e + 26] | data[e + 27] << 8;
        ASSERT_GE(first, 2u);
        const uint32_t v = d.value ? d.value : first + 5;
        for (uint32_t copy = 0; copy < 2; ++copy) {
            const std::size_t at = (reserved + copy * fat_sectors) * 512 + (first + d.at) * 2;
            data[at] = static_cast<uint8_t>(v);
            data[at + 1] = static_cast<uint8_t>(v >> 8);
        }
        Vol vol(data);
        ASSERT_EQ(vol.status, Status::ok) << vol.why;
        std::string got;
        EXPECT_EQ(vol.get("big.bin", got, 1u << 20), Status::corrupt) << d.at;
        EXPECT_TRUE(got.empty());
        EXPECT_TRUE(vol.v->damaged());
        EXPECT_EQ(vol.disk.writes, 0u);
    }
}
