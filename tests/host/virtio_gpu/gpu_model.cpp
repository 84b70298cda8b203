// The virtio-gpu device model (see gpu_model.hpp).
#include "gpu_model.hpp"

#include <cstring>

namespace gpu_test {

using namespace virtio::gpu;

namespace {
template <typename T>
T read_as(const std::vector<std::uint8_t>& req) {
    T t{};
    std::memcpy(&t, req.data(), std::min(sizeof(T), req.size()));
    return t;
}

template <typename T>
std::vector<std::uint8_t> bytes_of(const T& t) {
    std::vector<std::uint8_t> v(sizeof(T));
    std::memcpy(v.data(), &t, sizeof(T));
    return v;
}

CtrlHdr hdr(std::uint32_t type) { return CtrlHdr{type, 0, 0, 0, 0, {}}; }

void set_checksum(std::uint8_t* block) {
    std::uint8_t sum = 0;
    for (int i = 0; i < 127; ++i) sum = static_cast<std::uint8_t>(sum + block[i]);
    block[127] = static_cast<std::uint8_t>(0x100 - sum);
}
}  // namespace

GpuModel::GpuModel() { modes[0] = {1280, 800, true}; }

void GpuModel::write_config(fake::FakeMmioDevice& dev) const {
    std::uint8_t cfg[16] = {};
    std::memcpy(cfg + CFG_NUM_SCANOUTS, &num_scanouts, 4);
    dev.change_config(0, cfg);
}

std::vector<std::uint8_t> GpuModel::make_edid(std::uint32_t w, std::uint32_t h) {
    std::vector<std::uint8_t> e(128, 0);
    const std::uint8_t header[8] = {0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00};
    std::memcpy(e.data(), header, 8);
    e[18] = 1;
    e[19] = 4;  // EDID 1.4
    std::uint8_t* d = e.data() + 54;
    d[0] = 0x10;  // pixel clock, nonzero: a timing descriptor
    d[1] = 0x27;
    d[2] = w & 0xff;
    d[4] = static_cast<std::uint8_t>((w >> 8) << 4);
    d[5] = h & 0xff;
    d[7] = static_cast<std::uint8_t>((h >> 8) << 4);
    set_checksum(e.data());
    return e;
}

std::vector<std::uint8_t> GpuModel::make_edid_displayid(std::uint32_t w, std::uint32_t h,
                                                        std::uint8_t section_len) {
    std::vector<std::uint8_t> e = make_edid(0, 0);
    std::memset(e.data() + 54, 0, 18);  // no timing descriptor
    e[54 + 3] = 0x10;                   // a dummy display descriptor
    e[126] = 1;                         // one extension
    set_checksum(e.data());
    std::uint8_t b[128] = {0x70, 0x13, section_len, 0x03, 0x00, 0x03, 0x00, 20};
    std::uint8_t* t = b + 8;
    t[0] = 0x70;  // pixel clock - 1, any nonzero value
    t[4] = static_cast<std::uint8_t>((w - 1) & 0xff);
    t[5] = static_cast<std::uint8_t>((w - 1) >> 8);
    t[12] = static_cast<std::uint8_t>((h - 1) & 0xff);
    t[13] = static_cast<std::uint8_t>((h - 1) >> 8);
    set_checksum(b);
    e.insert(e.end(), b, b + 128);
    return e;
}

std::vector<std::uint8_t> GpuModel::answer(std::uint32_t type,
                                           const std::vector<std::uint8_t>& req) {
    const auto need = [&](std::size_t n) {
        if (req.size() >= n) return true;
        errors.push_back("command " + std::to_string(type) + " of " + std::to_string(req.size()) +
                         " bytes, needs " + std::to_string(n));
        return false;
    };
    switch (type) {
    case CMD_GET_DISPLAY_INFO: {
        RespDisplayInfo r{};
        r.hdr = hdr(RESP_OK_DISPLAY_INFO);
        for (std::uint32_t i = 0; i < MAX_SCANOUTS; ++i) {
            r.pmodes[i].r = {0, 0, modes[i].width, modes[i].height};
            r.pmodes[i].enabled = modes[i].enabled;
        }
        return bytes_of(r);
    }
    case CMD_GET_EDID: {
        if (!need(sizeof(GetEdid))) break;
        RespEdid r{};
        r.hdr = hdr(RESP_OK_EDID);
        r.size = edid_size_field ? edid_size_field : static_cast<std::uint32_t>(edid.size());
        std::memcpy(r.edid, edid.data(), std::min(edid.size(), sizeof(r.edid)));
        return bytes_of(r);
    }
    case CMD_RESOURCE_CREATE_2D: {
        if (!need(sizeof(ResourceCreate2d))) break;
        const auto c = read_as<ResourceCreate2d>(req);
        if (c.resource_id == 0 || resource.created)
            return bytes_of(hdr(RESP_ERR_INVALID_RESOURCE_ID));
        resource.created = true;
        resource.id = c.resource_id;
        resource.format = c.format;
        resource.width = c.width;
        resource.height = c.height;
        resource.host.assign(std::size_t{c.width} * c.height, 0xdeadbe);
        return bytes_of(hdr(RESP_OK_NODATA));
    }
    case CMD_RESOURCE_ATTACH_BACKING: {
        if (!need(sizeof(ResourceAttachBacking))) break;
        const auto a = read_as<ResourceAttachBacking>(req);
        if (a.resource_id != resource.id) return bytes_of(hdr(RESP_ERR_INVALID_RESOURCE_ID));
        if (a.nr_entries != 1 || !need(sizeof(ResourceAttachBacking) + sizeof(MemEntry))) {
            errors.push_back("attach backing with " + std::to_string(a.nr_entries) + " entries");
            return bytes_of(hdr(RESP_ERR_INVALID_PARAMETER));
        }
        MemEntry m;
        std::memcpy(&m, req.data() + sizeof(ResourceAttachBacking), sizeof(m));
        resource.addr = m.addr;
        resource.length = m.length;
        if (m.length < std::uint64_t{resource.width} * resource.height * 4)
            errors.push_back("backing smaller than the resource");
        return bytes_of(hdr(RESP_OK_NODATA));
    }
    case CMD_SET_SCANOUT: {
        if (!need(sizeof(SetScanout))) break;
        const auto s = read_as<SetScanout>(req);
        if (s.scanout_id >= num_scanouts) return bytes_of(hdr(RESP_ERR_INVALID_SCANOUT_ID));
        scanout_id = s.scanout_id;
        scanout_resource = s.resource_id;
        scanout_rect = s.r;
        return bytes_of(hdr(RESP_OK_NODATA));
    }
    case CMD_TRANSFER_TO_HOST_2D: {
        if (!need(sizeof(TransferToHost2d))) break;
        const auto t = read_as<TransferToHost2d>(req);
        if (t.resource_id != resource.id || resource.addr == 0)
            return bytes_of(hdr(RESP_ERR_INVALID_RESOURCE_ID));
        const std::uint64_t x1 = std::uint64_t{t.r.x} + t.r.width,
                            y1 = std::uint64_t{t.r.y} + t.r.height;
        if (x1 > resource.width || y1 > resource.height) {
            errors.push_back("transfer outside the resource");
            return bytes_of(hdr(RESP_ERR_INVALID_PARAMETER));
        }
        if (t.offset != (std::uint64_t{t.r.y} * resource.width + t.r.x) * 4)
            errors.push_back("transfer offset " + std::to_string(t.offset) +
                             " does not match its rectangle");
        // As QEMU does: rows of the resource's stride, starting at offset.
        const auto* mem = reinterpret_cast<const std::uint32_t*>(resource.addr);
        for (std::uint32_t y = t.r.y; y < y1; ++y)
            for (std::uint32_t x = t.r.x; x < x1; ++x)
                resource.host[std::size_t{y} * resource.width + x] =
                    mem[std::size_t{y} * resource.width + x];
        transfers.push_back(t.r);
        return bytes_of(hdr(RESP_OK_NODATA));
    }
    case CMD_RESOURCE_FLUSH: {
        if (!need(sizeof(ResourceFlush))) break;
        const auto f = read_as<ResourceFlush>(req);
        if (f.resource_id != resource.id) return bytes_of(hdr(RESP_ERR_INVALID_RESOURCE_ID));
        flushes.push_back(f.r);
        return bytes_of(hdr(RESP_OK_NODATA));
    }
    default: errors.push_back("unexpected command " + std::to_string(type)); break;
    }
    return bytes_of(hdr(RESP_ERR_UNSPEC));
}

std::uint32_t GpuModel::serve(std::uint16_t queue, fake::Chain& chain) {
    if (queue != 0) {
        errors.push_back("request on the cursor queue");
        return 0;
    }
    std::vector<std::uint8_t> req;
    for (auto r : chain.readable) req.insert(req.end(), r.begin(), r.end());
    if (req.size() < sizeof(CtrlHdr)) {
        errors.push_back("request shorter than a header");
        return 0;
    }
    const std::uint32_t type = read_as<CtrlHdr>(req).type;
    if (type == hold_cmd) {
        return fake::kNotYet;
    }
    commands.push_back(type);
    std::vector<std::uint8_t> resp = answer(type, req);
    if (type == error_cmd) resp = bytes_of(hdr(error_type));
    if (type == short_cmd) resp.resize(std::min<std::size_t>(short_len, resp.size()));
    std::size_t done = 0;
    for (auto w : chain.writable) {
        const std::size_t k = std::min(w.size(), resp.size() - done);
        std::memcpy(w.data(), resp.data() + done, k);
        done += k;
    }
    if (done < resp.size())
        errors.push_back("response buffer too small for command " + std::to_string(type));
    return static_cast<std::uint32_t>(done);
}

}  // namespace gpu_test
