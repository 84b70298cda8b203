// Fuzz target: the FAT layer: partition tables, boot sector, FAT chains, directories, long names.
//
// The file system of components/fs (partition.cpp, fat/fat_volume.cpp,
// fat/fat_name.cpp, sector_cache.cpp) over a disk whose contents are the
// input: the image starts at the input's first byte (so an image made by
// mkfs.fat is a seed as it is), the disk is as large as its BPB (or the
// input) says and reads as zeros past the input; writes land in an overlay.
// The last bytes of the input pick the mount options and a few operations
// after a recursive walk of every directory (stat, open, read every file):
// create, write, mkdir, rename, unlink, rmdir, sync, statfs. Checked: a
// volume refused at mount was never written; names are terminated and hold
// no control character; a read returns no more than asked and no file more
// than its size; and nothing is read or written outside its buffer.
#include <array>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "fs/block_io.hpp"
#include "fs/fat/fat_volume.hpp"
#include "fs/partition.hpp"
#include "harness.hpp"

using namespace rtos;
using namespace rtos::fs;

namespace {

constexpr std::uint64_t kMaxSectors = 1u << 22;  // 2 GiB: FAT32 sizes, sparse

class FuzzDisk final : public BlockIo {
public:
    FuzzDisk(const std::vector<std::uint8_t>& image, std::uint64_t sectors)
        : image_(image), sectors_(sectors) {}
    uint64_t sectors() const override { return sectors_; }
    bool read_only() const override { return false; }
    Status run(std::span<const Transfer> transfers) override {
        for (const Transfer& t : transfers) {
            if (t.lba >= sectors_ || t.count > sectors_ - t.lba) return Status::out_of_range;
            auto* buf = static_cast<std::uint8_t*>(t.buf);
            for (std::uint32_t i = 0; i < t.count; ++i, buf += kSectorSize) {
                if (t.write) {
                    std::memcpy(written_[t.lba + i].data(), buf, kSectorSize);
                    ++writes;
                } else {
                    read_sector(t.lba + i, buf);
                }
            }
        }
        return Status::ok;
    }
    Status flush() override { return Status::ok; }
    unsigned long writes = 0;

private:
    void read_sector(std::uint64_t lba, std::uint8_t* out) const {
        auto w = written_.find(lba);
        if (w != written_.end()) return (void)std::memcpy(out, w->second.data(), kSectorSize);
        std::memset(out, 0, kSectorSize);
        const std::uint64_t at = lba * kSectorSize;
        if (at < image_.size())
            std::memcpy(out, image_.data() + at,
                        std::min<std::uint64_t>(kSectorSize, image_.size() - at));
    }
    const std::vector<std::uint8_t>& image_;
    std::uint64_t sectors_;
    std::map<std::uint64_t, std::array<std::uint8_t, kSectorSize>> written_;
};

std::uint32_t le(const std::vector<std::uint8_t>& b, std::size_t at, unsigned bytes) {
    std::uint32_t v = 0;
    for (unsigned i = 0; i < bytes && at + i < b.size(); ++i)
        v |= std::uint32_t{b[at + i]} << (8 * i);
    return v;
}

struct Walk {
    explicit Walk(FatVolume& volume) : v(volume) {}
    FatVolume& v;
    unsigned entries = 0;
    std::vector<std::string> files, dirs;
    std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(4096);

    void file(const std::string& path) {
        FatFile* f = nullptr;
        if (v.open(path.c_str(), kRead, f) != Status::ok) return;
        // The entry open() found: the first of the name (a damaged directory
        // may hold it twice), as stat() finds it.
        Stat st, named;
        const bool sized = v.fstat(f, st) == Status::ok;
        if (sized && v.stat(path.c_str(), named) == Status::ok) FUZZ_CHECK(st.size == named.size);
        std::uint64_t total = 0;
        for (unsigned i = 0; i < 64; ++i) {
            std::size_t done = 0;
            if (v.read(f, buf.data(), buf.size(), done) != Status::ok || done == 0) break;
            FUZZ_CHECK(done <= buf.size());
            total += done;
        }
        if (sized) FUZZ_CHECK(total <= st.size);
        v.close(f);
    }

    void dir(const std::string& path, unsigned depth) {
        FatDir* d = nullptr;
        if (depth > 4 || v.opendir(path.empty() ? "/" : path.c_str(), d) != Status::ok) return;
        static DirEntry e;  // 768-byte name: not on the stack of every level
        std::vector<std::pair<std::string, Stat>> found;
        while (entries < 200 && v.readdir(d, e) == Status::ok) {
            ++entries;
            const std::size_t n = strnlen(e.name, kNameMax);
            FUZZ_CHECK(n < kNameMax && n > 0);
            for (std::size_t i = 0; i < n; ++i)  // no line break or escape from a disk
                FUZZ_CHECK(static_cast<unsigned char>(e.name[i]) >= 0x20 && e.name[i] != 0x7f);
            found.emplace_back(path + "/" + std::string(e.name, n), e.st);
        }
        v.closedir(d);
        for (auto& [p, st] : found) {
            Stat again;
            (void)v.stat(p.c_str(), again);
            if (st.directory) {
                dirs.push_back(p);
                dir(p, depth + 1);
            } else {
                files.push_back(p);
                file(p);
            }
        }
    }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::begin_input();
    FuzzedDataProvider in(data, size);
    // From the end: the options and the operations; the rest, from the
    // front, is the image.
    const std::uint8_t flags = in.ConsumeIntegral<std::uint8_t>();
    std::vector<std::uint8_t> ops(in.ConsumeIntegralInRange<std::size_t>(0, 12));
    for (auto& op : ops) op = in.ConsumeIntegral<std::uint8_t>();
    const std::vector<std::uint8_t> image = in.ConsumeRemainingBytes<std::uint8_t>();

    // The disk: as large as the BPB says (16- or 32-bit total), or the input.
    std::uint64_t sectors = (image.size() + 511) / 512;
    const std::uint64_t bpb = le(image, 19, 2) ? le(image, 19, 2) : le(image, 32, 4);
    if (bpb > sectors) sectors = std::min<std::uint64_t>(bpb, kMaxSectors);
    if (sectors == 0) return 0;
    FuzzDisk disk(image, sectors);

    // A partition table picks the volume, as the automount does.
    std::uint8_t sector0[512];
    (void)disk.read(0, 1, sector0);
    Partition parts[4];
    const int np = find_partitions(disk, sector0, parts, 4);
    FUZZ_CHECK(np <= 4);
    for (int i = 0; i < np; ++i)
        FUZZ_CHECK(parts[i].start < sectors && parts[i].count <= sectors - parts[i].start);
    PartitionIo part(disk, np > 0 ? parts[0].start : 0, np > 0 ? parts[0].count : sectors);
    BlockIo& io = np > 0 ? static_cast<BlockIo&>(part) : disk;

    MountOptions opt;
    opt.read_only = (flags & 1) != 0;
    opt.cache_sectors = 4 + (flags >> 1 & 31);
    opt.max_files = 4;
    FatVolume* v = nullptr;
    const char* why = nullptr;
    const bool debug = std::getenv("FUZZ_DEBUG") != nullptr;
    if (FatVolume::mount(io, opt, v, why) != Status::ok) {
        if (debug) std::fprintf(stderr, "fat: mount refused: %s\n", why ? why : "?");
        FUZZ_CHECK(why != nullptr);
        FUZZ_CHECK(disk.writes == 0);  // a volume refused is never written
        return 0;
    }
    Walk w(*v);
    w.dir("", 0);
    if (debug)
        std::fprintf(stderr, "fat: FAT%u, %u entries, %zu files, %zu directories\n",
                     static_cast<unsigned>(v->type()), w.entries, w.files.size(), w.dirs.size());
    StatFs st;
    if (v->statfs(st) == Status::ok) FUZZ_CHECK(st.free_clusters <= st.clusters);

    const std::vector<std::uint8_t> payload(5000, 0x6b);
    for (std::size_t i = 0; i < ops.size(); ++i) {
        const std::string some = !w.files.empty() ? w.files[ops[i] % w.files.size()] : "/f";
        const std::string dir = !w.dirs.empty() ? w.dirs[ops[i] % w.dirs.size()] : "";
        const std::string fresh =
            dir + "/A new file with a long name " + std::to_string(i) + ".txt";
        switch (ops[i] % 8) {
        case 0: {
            FatFile* f = nullptr;
            if (v->open(fresh.c_str(), kWrite | kCreate, f) != Status::ok) break;
            std::size_t done = 0;
            (void)v->write(f, payload.data(), 1 + ops[i] * 19u % payload.size(), done);
            v->close(f);
            break;
        }
        case 1: {
            FatFile* f = nullptr;
            if (v->open(some.c_str(), kWrite | kAppend, f) != Status::ok) break;
            std::size_t done = 0;
            (void)v->write(f, payload.data(), 700, done);
            std::uint64_t pos = 0;
            (void)v->seek(f, ops[i], 0, pos);
            v->close(f);
            break;
        }
        case 2: (void)v->mkdir((dir + "/New Folder " + std::to_string(i)).c_str()); break;
        case 3: (void)v->rename(some.c_str(), fresh.c_str()); break;
        case 4: (void)v->unlink(some.c_str()); break;
        case 5: (void)v->rmdir(dir.c_str()); break;
        case 6: (void)v->sync(); break;
        case 7: {
            Walk again(*v);
            again.dir("", 0);
            break;
        }
        }
    }
    if (v->unmount() != Status::ok) v->destroy();  // a write-back that failed: freed unwritten
    return 0;
}
