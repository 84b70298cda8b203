// The `gpu` shell command: what the display is (`gpu info`), and pictures
// whose pixels a test can check from the host with a QEMU screendump
// (`gpu fill <rrggbb>`, `gpu demo`; docs/devices.md gives the layout).
#include <rtos/printk.hpp>
#include <rtos/string.hpp>
#include <rtos/types.hpp>

#include "drivers/display/framebuffer.hpp"
#include "drivers/virtio/gpu/virtio_gpu.hpp"
#include "shell/shell.hpp"

namespace rtos {
namespace {

using display::Color;
using display::Framebuffer;

// `gpu demo`: eight full-height bars, left to right, bar i from x = i*W/8 to
// (i+1)*W/8 - 1; then a black box with one line of white text at 2x scale.
constexpr Color kBars[8] = {0xffffff, 0xffff00, 0x00ffff, 0x00ff00,
                            0xff00ff, 0xff0000, 0x0000ff, 0x000000};
constexpr char kDemoText[] = "Tern RTOS virtio-gpu";
constexpr std::uint32_t kBoxX = 16, kBoxY = 16, kPad = 8, kScale = 2;
constexpr Color kBoxColor = 0x000000, kTextColor = 0xffffff;

bool parse_rgb(const char* s, Color& out) {
    if (strlen(s) != 6) return false;
    Color c = 0;
    for (int i = 0; i < 6; ++i) {
        const char ch = s[i];
        unsigned v;
        if (ch >= '0' && ch <= '9') v = ch - '0';
        else if (ch >= 'a' && ch <= 'f') v = ch - 'a' + 10;
        else if (ch >= 'A' && ch <= 'F') v = ch - 'A' + 10;
        else return false;
        c = c << 4 | v;
    }
    out = c;
    return true;
}

// 0, 1 (printed why) or kInterrupted: Ctrl-C ends the wait for the device
// (a hung one answers only after CONFIG_VIRTIO_GPU_TIMEOUT_MS).
int flushed(Framebuffer& fb, const char* what) {
    const Status s = fb.flush(shell::interrupted);
    if (s == Status::busy && shell::interrupted()) return shell::kInterrupted;
    if (s != Status::ok) {
        printk("gpu: %s: flush failed: %s\n", what, status_name(s));
        return 1;
    }
    return 0;
}

int cmd_gpu(int argc, char** argv) {
    if (argc < 2) return shell::kUsage;
    const char* sub = argv[1];
    if (strcmp(sub, "info") == 0 && argc == 2) {
        virtio::gpu::Info i;
        if (!virtio::gpu::info(i)) {
            printk("gpu: no display\n");
            return 1;
        }
        printk("%s: %s, scanouts %u%s, flushes %llu\n", i.name, i.legacy ? "legacy" : "modern",
               i.scanouts, i.broken ? ", stopped" : "", static_cast<unsigned long long>(i.flushes));
        printk("scanout %u: %ux%u format B8G8R8X8 (0x00RRGGBB words)\n", i.scanout, i.width,
               i.height);
        if (i.edid) printk("edid: yes, preferred %ux%u\n", i.edid_width, i.edid_height);
        else printk("edid: no\n");
        return 0;
    }
    Framebuffer* fb = display::primary();
    if (strcmp(sub, "fill") == 0 && argc == 3) {
        Color c;
        if (!parse_rgb(argv[2], c)) return shell::kUsage;
        if (!fb) {
            printk("gpu: no display\n");
            return 1;
        }
        fb->fill({0, 0, fb->width(), fb->height()}, c);
        if (const int r = flushed(*fb, "fill")) return r;
        printk("gpu: filled %ux%u with %06x\n", fb->width(), fb->height(), c);
        return 0;
    }
    if (strcmp(sub, "demo") == 0 && argc == 2) {
        if (!fb) {
            printk("gpu: no display\n");
            return 1;
        }
        const std::uint32_t w = fb->width(), h = fb->height();
        for (std::uint32_t i = 0; i < 8; ++i)
            fb->fill({i * w / 8, 0, (i + 1) * w / 8 - i * w / 8, h}, kBars[i]);
        const std::uint32_t text_w = (sizeof(kDemoText) - 1) * display::kGlyphWidth * kScale;
        const std::uint32_t text_h = display::kGlyphHeight * kScale;
        fb->fill({kBoxX, kBoxY, text_w + 2 * kPad, text_h + 2 * kPad}, kBoxColor);
        fb->text(kBoxX + kPad, kBoxY + kPad, kDemoText, kTextColor, kScale);
        if (const int r = flushed(*fb, "demo")) return r;
        printk("gpu: demo %ux%u bars 8 text box %u,%u %ux%u text \"%s\" at %u,%u scale %u\n", w, h,
               kBoxX, kBoxY, text_w + 2 * kPad, text_h + 2 * kPad, kDemoText, kBoxX + kPad,
               kBoxY + kPad, kScale);
        return 0;
    }
    return shell::kUsage;
}

}  // namespace
}  // namespace rtos

SHELL_COMMAND(gpu, "info | fill <rrggbb> | demo",
              "the display: what it is, fill it with one colour, or draw colour bars and text",
              rtos::cmd_gpu);
