// The tablet cursor demo: ties the input API (drivers/input/input.hpp) to
// the framebuffer API (drivers/display/framebuffer.hpp). An arrow follows
// the absolute position of any device with ABS_X/ABS_Y (QEMU's
// virtio-tablet-device), scaled from the axis range to the screen; what is
// under the arrow is saved and put back when it moves, and while BTN_LEFT
// is held a red square is painted under the hotspot. Each packet
// (SYN_REPORT) that moved it is one flush of the rectangle holding the old
// and new arrow, and one line "cursor: X,Y" (the hotspot) for tests.
#include <rtos/init.hpp>
#include <rtos/printk.hpp>
#include <rtos/thread.hpp>

#include "drivers/display/framebuffer.hpp"
#include "drivers/input/input.hpp"

namespace {

using rtos::display::Color;
using rtos::display::Framebuffer;
namespace input = rtos::input;

// The arrow, hotspot at its top-left pixel: 'X' black, '.' white, ' ' clear.
constexpr int kW = 12, kH = 16;
// One row per line, so the table shows the arrow.
// clang-format off
constexpr const char* kArrow[kH] = {
    "X           ",
    "XX          ",
    "X.X         ",
    "X..X        ",
    "X...X       ",
    "X....X      ",
    "X.....X     ",
    "X......X    ",
    "X.......X   ",
    "X........X  ",
    "X.....XXXXX ",
    "X..X..X     ",
    "X.X X..X    ",
    "XX  X..X    ",
    "X    X..X   ",
    "     XXXX   ",
};
// clang-format on
constexpr Color kPaint = 0xff0000;
constexpr std::uint32_t kPaintSize = 4;  // square, its top-left corner at the hotspot
constexpr std::size_t kStack = 8192;
constexpr std::uint8_t kPriority = 5;  // valid with 8, 32 or 256 levels

struct Cursor {
    Framebuffer* fb;
    std::uint32_t x = 0, y = 0;
    bool shown = false;
    std::uint32_t saved[kW * kH] = {};

    void hide() {
        if (!shown) return;
        fb->blit(x, y, saved, kW, kH, kW);  // clipped the same way it was saved
        shown = false;
    }

    void show() {
        for (int j = 0; j < kH; ++j)
            for (int i = 0; i < kW; ++i) saved[j * kW + i] = fb->pixel(x + i, y + j);
        for (int j = 0; j < kH; ++j)
            for (int i = 0; i < kW; ++i) {
                const char c = kArrow[j][i];
                if (c != ' ') fb->fill({x + i, y + j, 1, 1}, c == 'X' ? 0x000000 : 0xffffff);
            }
        shown = true;
    }
};

/// `raw` of an axis with range [min, max] onto 0 .. size - 1.
std::uint32_t scale(std::int32_t raw, const input::AbsInfo* info, std::uint32_t size) {
    const std::int64_t lo = info ? info->min : 0, hi = info ? info->max : 0x7fff;
    if (hi <= lo || raw <= lo) return 0;
    if (raw >= hi) return size - 1;
    return static_cast<std::uint32_t>((raw - lo) * (size - 1) / (hi - lo));
}

void cursor_main(void*) {
    Framebuffer* fb = rtos::display::primary();
    Cursor c{fb};
    input::Subscriber sub;
    std::int32_t raw_x = 0, raw_y = 0;
    const input::AbsInfo* info_x = nullptr;
    const input::AbsInfo* info_y = nullptr;
    bool moved = false, painting = false, paint_now = false;
    for (;;) {
        input::Event e;
        if (sub.read(e, rtos::Timeout::forever()) != rtos::Status::ok) continue;
        input::Device* dev = input::device(e.device);
        if (e.type == input::EV_ABS && (e.code == input::ABS_X || e.code == input::ABS_Y)) {
            (e.code == input::ABS_X ? raw_x : raw_y) = e.value;
            (e.code == input::ABS_X ? info_x : info_y) = dev ? dev->abs(e.code) : nullptr;
            moved = true;
        } else if (e.type == input::EV_KEY && e.code == input::BTN_LEFT) {
            painting = e.value != 0;
            paint_now = painting;
        } else if (e.type == input::EV_SYN && e.code == input::SYN_REPORT && (moved || paint_now)) {
            c.hide();  // blit and fill widen the damage: old and new arrow
            c.x = scale(raw_x, info_x, fb->width());
            c.y = scale(raw_y, info_y, fb->height());
            if (painting) fb->fill({c.x, c.y, kPaintSize, kPaintSize}, kPaint);
            c.show();
            if (fb->flush() != rtos::Status::ok) rtos::printk("cursor: flush failed\n");
            rtos::printk("cursor: %u,%u%s\n", c.x, c.y, painting ? " paint" : "");
            moved = paint_now = false;
        }
    }
}

void cursor_start() {
    if (!rtos::display::primary()) {
        rtos::printk("cursor demo: no display, not started\n");
        return;
    }
    if (!rtos::Thread::create({.name = "cursor", .priority = kPriority}, cursor_main, nullptr,
                              kStack, true))
        rtos::printk("cursor demo: cannot start its thread\n");
}

}  // namespace

RTOS_INIT(cursor_start, app);
