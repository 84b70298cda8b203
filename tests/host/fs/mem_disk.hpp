// An in-memory BlockIo for the file-system tests, and the host tools that
// make and check its images (mkfs.fat, fsck.fat, mtools, sfdisk).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fs/block_io.hpp"

namespace fstest {

class MemDisk final : public rtos::fs::BlockIo {
public:
    explicit MemDisk(std::vector<uint8_t> image) : data(std::move(image)) {}
    uint64_t sectors() const override { return data.size() / 512; }
    bool read_only() const override { return ro; }
    rtos::Status run(std::span<const Transfer> transfers) override;
    rtos::Status flush() override {
        ++flushes;
        return rtos::Status::ok;
    }

    std::vector<uint8_t> data;
    bool ro = false;
    unsigned long reads = 0, writes = 0, flushes = 0;
    unsigned long batches = 0;  // run() calls: transfers in flight together
    long cut_after = -1;        // >= 0: sector writes after this many are lost (a power cut)
    bool fail_io = false;
};

/// Runs a shell command; its exit status, stdout+stderr into `out`.
int sh(const std::string& cmd, std::string* out = nullptr);
/// A fresh image of `mib` MiB formatted by `mkfs.fat <args>`.
std::vector<uint8_t> mkfs(const std::string& args, unsigned mib);
/// Writes the image to a temporary file; its path (removed at exit).
std::string save(const std::vector<uint8_t>& image);
std::vector<uint8_t> load(const std::string& path);
/// fsck.fat -n: true when the volume is clean; the report into `out`.
bool fsck_clean(const std::vector<uint8_t>& image, std::string* out = nullptr);
/// mtools' view of a file (mcopy to stdout); false when it fails.
bool mread(const std::vector<uint8_t>& image, const std::string& path, std::string& out);
std::string pattern(std::size_t size, uint32_t seed);

}  // namespace fstest
