#include "blk_model.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace blk_test {

BlkModel::BlkModel(std::uint64_t sectors) : disk(sectors * 512, 0) {}

void BlkModel::write_config(fake::FakeMmioDevice& dev, std::uint64_t capacity,
                            std::uint32_t size_max, std::uint32_t seg_max, std::uint32_t blk_size) {
    std::uint8_t cfg[24] = {};
    for (int i = 0; i < 8; ++i) cfg[i] = static_cast<std::uint8_t>(capacity >> (8 * i));  // le64
    for (int i = 0; i < 4; ++i) {
        cfg[8 + i] = static_cast<std::uint8_t>(size_max >> (8 * i));
        cfg[12 + i] = static_cast<std::uint8_t>(seg_max >> (8 * i));
        cfg[20 + i] = static_cast<std::uint8_t>(blk_size >> (8 * i));
    }
    dev.change_config(0, cfg);
}

std::uint32_t BlkModel::serve(fake::Chain& chain) {
    // Readable bytes in order: the header, then (T_OUT) the data.
    std::vector<std::uint8_t> in;
    for (auto s : chain.readable) in.insert(in.end(), s.begin(), s.end());
    // Writable bytes in order: the data, then the status byte.
    std::vector<std::uint8_t*> out;
    for (auto s : chain.writable)
        for (auto& b : s) out.push_back(&b);

    if (in.size() < 16 || out.empty()) {
        errors.push_back("request without a header or a status byte");
        if (!out.empty()) *out.back() = S_IOERR;
        return out.empty() ? 0 : 1;
    }
    auto le = [&](std::size_t at, int n) {
        std::uint64_t v = 0;
        for (int i = n - 1; i >= 0; --i) v = (v << 8) | in[at + i];
        return v;
    };
    const auto type = static_cast<std::uint32_t>(le(0, 4));
    const auto reserved = static_cast<std::uint32_t>(le(4, 4));
    const std::uint64_t sector = le(8, 8);
    if (reserved != 0) errors.push_back("reserved header field not zero");
    if (chain.writable.back().size() != 1)
        errors.push_back("status byte does not have a descriptor of its own");
    std::uint8_t& status = *out.back();
    out.pop_back();  // `out` is the data-in area now
    const std::size_t out_data = in.size() - 16;

    // Data segments: readable bytes past the header, writable ones before
    // the status byte (a descriptor holding both counts with its data part).
    std::uint32_t segments = 0, largest = 0;
    auto count = [&](std::size_t data) {
        if (data == 0) return;
        ++segments;
        largest = std::max(largest, static_cast<std::uint32_t>(data));
    };
    std::size_t at = 0;
    for (auto s : chain.readable) {
        count(at + s.size() > 16 ? at + s.size() - std::max<std::size_t>(at, 16) : 0);
        at += s.size();
    }
    for (std::size_t i = 0; i < chain.writable.size(); ++i)
        count(chain.writable[i].size() - (i + 1 == chain.writable.size() ? 1 : 0));
    seen.push_back({type, sector, static_cast<std::uint32_t>(type == T_OUT ? out_data : out.size()),
                    segments, largest});
    // The limits the driver was given: breaking them fails the request and
    // the test (check errors()), loudly.
    auto limit = [&](const std::string& what) {
        errors.push_back(what);
        std::fprintf(stderr, "blk model: %s\n", what.c_str());
        status = S_IOERR;
        return 1u;
    };
    if (size_max && largest > size_max)
        return limit("data segment of " + std::to_string(largest) + " bytes > size_max " +
                     std::to_string(size_max));
    if (seg_max && segments > seg_max)
        return limit(std::to_string(segments) + " data segments > seg_max " +
                     std::to_string(seg_max));

    if (forced_count) {
        --forced_count;
        status = forced_status;
        return 1;
    }
    if (sector == ioerr_sector && (type == T_IN || type == T_OUT)) {
        status = S_IOERR;
        return 1;
    }
    auto in_range = [&](std::size_t bytes) {
        return bytes % 512 == 0 && sector <= sectors() && bytes / 512 <= sectors() - sector;
    };
    switch (type) {
    case T_IN:
        if (out_data != 0 || out.empty() || !in_range(out.size())) {
            errors.push_back("bad T_IN request");
            status = S_IOERR;
            return 1;
        }
        for (std::size_t i = 0; i < out.size(); ++i) *out[i] = disk[sector * 512 + i];
        status = S_OK;
        return static_cast<std::uint32_t>(out.size() + 1);
    case T_OUT:
        if (!out.empty() || out_data == 0 || !in_range(out_data)) {
            errors.push_back("bad T_OUT request");
            status = S_IOERR;
            return 1;
        }
        if (read_only) {
            status = S_IOERR;
            return 1;
        }
        std::memcpy(&disk[sector * 512], in.data() + 16, out_data);
        status = S_OK;
        return 1;
    case T_FLUSH:
        if (out_data != 0 || !out.empty()) errors.push_back("T_FLUSH with data");
        ++flushes;
        status = S_OK;
        return 1;
    case T_GET_ID: {
        if (out.size() != 20) errors.push_back("T_GET_ID buffer is not 20 bytes");
        const std::size_t n = std::min<std::size_t>(out.size(), 20);
        for (std::size_t i = 0; i < n; ++i) *out[i] = i < id.size() ? id[i] : 0;
        status = S_OK;
        return static_cast<std::uint32_t>(n + 1);
    }
    default: status = S_UNSUPP; return 1;
    }
}

}  // namespace blk_test
