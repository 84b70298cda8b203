#include "mem_disk.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace fstest {

rtos::Status MemDisk::run(std::span<const Transfer> transfers) {
    ++batches;
    for (const Transfer& t : transfers) {
        if (fail_io) return rtos::Status::io_error;
        if (t.lba >= sectors() || t.count > sectors() - t.lba || !t.buf)
            return rtos::Status::out_of_range;
        auto* at = data.data() + t.lba * 512;
        if (t.write) {
            if (ro) return rtos::Status::unsupported;
            for (uint32_t i = 0; i < t.count; ++i, ++writes)
                if (cut_after < 0 || static_cast<long>(writes) < cut_after)
                    std::memcpy(at + i * 512, static_cast<uint8_t*>(t.buf) + i * 512, 512);
        } else {
            ++reads;
            std::memcpy(t.buf, at, std::size_t{t.count} * 512);
        }
    }
    return rtos::Status::ok;
}

int sh(const std::string& cmd, std::string* out) {
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return -1;
    std::string text;
    char buf[4096];
    std::size_t n;
    while ((n = fread(buf, 1, sizeof(buf), p)) > 0) text.append(buf, n);
    const int status = pclose(p);
    if (out) *out = text;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

namespace {

std::vector<std::string>& temp_files() {
    static std::vector<std::string> files;
    static struct Cleanup {
        ~Cleanup() {
            for (const auto& f : temp_files()) std::remove(f.c_str());
        }
    } cleanup;
    return files;
}

std::string temp_path() {
    char tmpl[] = "/tmp/fs_test_XXXXXX";
    const int fd = mkstemp(tmpl);
    if (fd >= 0) close(fd);
    temp_files().push_back(tmpl);
    return tmpl;
}

}  // namespace

std::vector<uint8_t> load(const std::string& path) {
    std::ifstream f(path, std::ios::binary | std::ios::ate);
    std::vector<uint8_t> data(static_cast<std::size_t>(f.tellg()));
    f.seekg(0);
    f.read(reinterpret_cast<char*>(data.data()), static_cast<std::streamsize>(data.size()));
    return data;
}

std::string save(const std::vector<uint8_t>& image) {
    const std::string path = temp_path();
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(image.data()),
            static_cast<std::streamsize>(image.size()));
    return path;
}

std::vector<uint8_t> mkfs(const std::string& args, unsigned mib) {
    const std::string path = temp_path();
    std::remove(path.c_str());
    std::string out;
    if (sh("/usr/sbin/mkfs.fat -C " + args + " " + path + " " + std::to_string(mib * 1024), &out) !=
        0) {
        std::fprintf(stderr, "mkfs.fat failed: %s\n", out.c_str());
        std::abort();
    }
    return load(path);
}

bool fsck_clean(const std::vector<uint8_t>& image, std::string* out) {
    std::string text;
    const int rc = sh("/usr/sbin/fsck.fat -n " + save(image), &text);
    if (out) *out = text;
    return rc == 0;
}

bool mread(const std::vector<uint8_t>& image, const std::string& path, std::string& out) {
    const std::string img = save(image);
    const std::string dst = temp_path();
    std::string text;
    if (sh("MTOOLS_SKIP_CHECK=1 mcopy -n -o -i " + img + " '::" + path + "' " + dst, &text) != 0) {
        out = text;
        return false;
    }
    const auto bytes = load(dst);
    out.assign(bytes.begin(), bytes.end());
    return true;
}

std::string pattern(std::size_t size, uint32_t seed) {
    std::string s(size, '\0');
    uint32_t x = seed * 2654435761u + 1;
    for (auto& c : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        c = static_cast<char>(x);
    }
    return s;
}

}  // namespace fstest
