#include <rtos/crc32.hpp>

namespace rtos {
namespace {

constexpr uint32_t kPoly = 0xedb88320u;

struct Table {
    uint32_t v[256];
    constexpr Table() : v() {
        for (uint32_t i = 0; i < 256; ++i) {
            uint32_t c = i;
            for (int k = 0; k < 8; ++k) c = (c & 1) ? kPoly ^ (c >> 1) : c >> 1;
            v[i] = c;
        }
    }
};

constexpr Table kTable;

}  // namespace

uint32_t crc32(uint32_t crc, const void* data, std::size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    crc = ~crc;
    while (n--) crc = kTable.v[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

}  // namespace rtos
