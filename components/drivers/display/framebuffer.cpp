// Drawing and damage tracking of the framebuffer API (framebuffer.hpp).
#include "drivers/display/framebuffer.hpp"

namespace rtos::display {
namespace {
Framebuffer* the_primary = nullptr;

std::uint32_t min_u32(std::uint32_t a, std::uint32_t b) { return a < b ? a : b; }
}  // namespace

Framebuffer* primary() { return the_primary; }
void set_primary(Framebuffer* fb) { the_primary = fb; }

Rect unite(const Rect& a, const Rect& b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    const std::uint64_t x0 = min_u32(a.x, b.x), y0 = min_u32(a.y, b.y);
    const std::uint64_t x1a = std::uint64_t{a.x} + a.w, x1b = std::uint64_t{b.x} + b.w;
    const std::uint64_t y1a = std::uint64_t{a.y} + a.h, y1b = std::uint64_t{b.y} + b.h;
    const std::uint64_t x1 = x1a > x1b ? x1a : x1b, y1 = y1a > y1b ? y1a : y1b;
    return {static_cast<std::uint32_t>(x0), static_cast<std::uint32_t>(y0),
            static_cast<std::uint32_t>(x1 - x0), static_cast<std::uint32_t>(y1 - y0)};
}

Rect Framebuffer::clip(const Rect& r) const {
    if (r.x >= width_ || r.y >= height_) return {};
    return {r.x, r.y, min_u32(r.w, width_ - r.x), min_u32(r.h, height_ - r.y)};
}

void Framebuffer::damage(const Rect& r) { damage_ = unite(damage_, clip(r)); }

void Framebuffer::fill(const Rect& r, Color c) {
    const Rect k = clip(r);
    if (k.empty()) return;
    for (std::uint32_t y = k.y; y < k.y + k.h; ++y) {
        std::uint32_t* row = pixels_ + std::size_t{y} * stride_;
        for (std::uint32_t x = k.x; x < k.x + k.w; ++x) row[x] = c & 0xffffff;
    }
    damage_ = unite(damage_, k);
}

void Framebuffer::blit(std::uint32_t x, std::uint32_t y, const std::uint32_t* src, std::uint32_t w,
                       std::uint32_t h, std::uint32_t src_stride) {
    const Rect k = clip({x, y, w, h});
    if (k.empty() || src == nullptr) return;
    for (std::uint32_t j = 0; j < k.h; ++j) {
        const std::uint32_t* from = src + std::size_t{j} * src_stride;
        std::uint32_t* to = pixels_ + std::size_t{k.y + j} * stride_ + k.x;
        for (std::uint32_t i = 0; i < k.w; ++i) to[i] = from[i] & 0xffffff;
    }
    damage_ = unite(damage_, k);
}

std::uint32_t Framebuffer::text(std::uint32_t x, std::uint32_t y, const char* s, Color fg,
                                std::uint32_t scale) {
    if (s == nullptr || scale == 0 || scale > kMaxScale) return 0;
    std::uint32_t n = 0;
    while (s[n]) ++n;
    for (std::uint32_t i = 0; i < n; ++i) {
        const std::uint64_t cx = std::uint64_t{x} + std::uint64_t{i} * kGlyphWidth * scale;
        if (cx >= width_ || y >= height_) break;  // the rest is off the screen
        const std::uint8_t* g = glyph(s[i]);
        for (std::uint32_t row = 0; row < kGlyphHeight; ++row)
            for (std::uint32_t col = 0; col < kGlyphWidth; ++col)
                if (g[row] & (1u << col))
                    fill({static_cast<std::uint32_t>(cx) + col * scale, y + row * scale, scale,
                          scale},
                         fg);
    }
    return n * kGlyphWidth * scale;
}

Status Framebuffer::flush(StopFn stop) {
    if (damage_.empty()) return Status::ok;
    if (flush_ == nullptr) return Status::unsupported;
    const Status s = flush_(context_, damage_, stop);
    if (s == Status::ok) damage_ = {};
    return s;
}

}  // namespace rtos::display
