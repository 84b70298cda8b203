// The device-independent framebuffer API (components/drivers/display/):
// drawing into memory the display scans out, and telling the display which
// rectangle changed. A display driver (virtio-gpu) owns the pixel memory and
// the flush; applications and the shell draw through primary().
//
// Pixels are 32-bit words 0x00RRGGBB in native (little-endian) order, i.e.
// bytes B, G, R, X in memory. Every drawing call clips to the screen and
// widens the damaged rectangle; flush() hands only that rectangle to the
// driver. One thread draws at a time (the shell, or an application that owns
// the screen); the driver serialises flushes itself.
#pragma once

#include <cstdint>

#include <rtos/types.hpp>

namespace rtos::display {

using Color = std::uint32_t;  ///< 0xRRGGBB

struct Rect {
    std::uint32_t x = 0, y = 0, w = 0, h = 0;
    bool empty() const { return w == 0 || h == 0; }
};

/// The smallest rectangle holding both (an empty one adds nothing).
Rect unite(const Rect& a, const Rect& b);

/// The built-in bitmap font: 8x8 glyphs for printable ASCII (0x20..0x7e);
/// other characters draw as '?'. Row r of a glyph is byte r, bit c (LSB
/// first) is column c.
inline constexpr std::uint32_t kGlyphWidth = 8, kGlyphHeight = 8;
const std::uint8_t* glyph(char c);

class Framebuffer {
public:
    static constexpr std::uint32_t kMaxScale = 64;
    /// Polled while a flush waits for the device; true gives up the wait.
    using StopFn = bool (*)();
    /// Hands the damaged rectangle (inside the screen, not empty) to the
    /// device; Status::busy when `stop` (may be null) gave up the wait.
    using FlushFn = Status (*)(void* context, const Rect& r, StopFn stop);

    Framebuffer() = default;
    Framebuffer(std::uint32_t* pixels, std::uint32_t width, std::uint32_t height,
                std::uint32_t stride, FlushFn flush, void* context)
        : pixels_(pixels),
          width_(width),
          height_(height),
          stride_(stride),
          flush_(flush),
          context_(context) {}

    std::uint32_t width() const { return width_; }
    std::uint32_t height() const { return height_; }
    std::uint32_t stride() const { return stride_; }  ///< pixels from one row to the next
    Color pixel(std::uint32_t x, std::uint32_t y) const {
        return x < width_ && y < height_ ? pixels_[std::size_t{y} * stride_ + x] & 0xffffff : 0;
    }

    /// Fills `r` (clipped) with `c`.
    void fill(const Rect& r, Color c);
    /// Copies a w x h block of 0x00RRGGBB pixels (rows `src_stride` pixels
    /// apart) to (x, y); what falls off the screen is left out.
    void blit(std::uint32_t x, std::uint32_t y, const std::uint32_t* src, std::uint32_t w,
              std::uint32_t h, std::uint32_t src_stride);
    /// Draws `s` with the built-in font, each glyph pixel a scale x scale
    /// square of `fg` (the background is left as it is), from (x, y) to the
    /// right; no wrapping. Returns the width of the text in pixels (0 for a
    /// scale of 0 or above kMaxScale).
    std::uint32_t text(std::uint32_t x, std::uint32_t y, const char* s, Color fg,
                       std::uint32_t scale = 1);

    /// What was drawn since the last flush.
    Rect damage() const { return damage_; }
    /// Marks `r` (clipped) as changed without drawing, e.g. the whole screen.
    void damage(const Rect& r);
    /// Sends the damaged rectangle to the display (nothing if none) and
    /// clears it; on failure the damage is kept for the next try. `stop`
    /// (e.g. the shell's Ctrl-C check) ends the wait for the device early:
    /// Status::busy, and the display may show the picture in part.
    Status flush(StopFn stop = nullptr);

private:
    Rect clip(const Rect& r) const;

    std::uint32_t* pixels_ = nullptr;
    std::uint32_t width_ = 0, height_ = 0, stride_ = 0;
    FlushFn flush_ = nullptr;
    void* context_ = nullptr;
    Rect damage_;
};

/// The screen the display driver set up, or nullptr without one.
Framebuffer* primary();
/// For display drivers: the screen applications draw on.
void set_primary(Framebuffer* fb);

}  // namespace rtos::display
