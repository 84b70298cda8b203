#include "line_editor.hpp"

#include <rtos/console.hpp>
#include <rtos/string.hpp>

namespace rtos::shell {
namespace {

constexpr int kCtrlC = 0x03, kCtrlU = 0x15, kBackspace = 0x08, kDelete = 0x7f, kEsc = 0x1b;

void out(const char* s) { console::puts(s); }

}  // namespace

void LineEditor::remember(const char* line) {
    if (CONFIG_SHELL_HISTORY == 0 || !line[0]) return;
    if (history_count_ && !strcmp(history_[(history_count_ - 1) % kHistory], line)) return;
    char* slot = history_[history_count_ % kHistory];
    std::size_t n = strlen(line);
    if (n >= kLineMax) n = kLineMax - 1;
    memcpy(slot, line, n);
    slot[n] = '\0';
    ++history_count_;
}

void LineEditor::redraw(const char* prompt, const char* buf, std::size_t len) {
    out("\r\x1b[K");  // carriage return, erase to end of line
    out(prompt);
    console::write(buf, len);
}

std::size_t LineEditor::read_line(const char* prompt, char* buf, std::size_t size) {
    std::size_t len = 0;
    unsigned browse = 0;  // 0 = editing a new line, k = k-th most recent history entry
    int esc_state = 0;    // 0 none, 1 after ESC, 2 after ESC [
    bool last_was_cr = false;
    out(prompt);
    for (;;) {
        int c = console::getc();
        if (c < 0) continue;
        if (esc_state == 1) {
            esc_state = (c == '[' || c == 'O') ? 2 : 0;
            continue;
        }
        if (esc_state == 2) {
            esc_state = 0;
            unsigned available = history_count_ < kHistory ? history_count_ : kHistory;
            if (c == 'A' && browse < available) ++browse;
            else if (c == 'B' && browse > 0) --browse;
            else continue;
            if (browse == 0) {
                len = 0;
            } else {
                const char* h = history_[(history_count_ - browse) % kHistory];
                len = strlen(h);
                if (len >= size) len = size - 1;
                memcpy(buf, h, len);
            }
            redraw(prompt, buf, len);
            continue;
        }
        if (c == '\n' && last_was_cr) {  // CR LF from a terminal: one Enter
            last_was_cr = false;
            continue;
        }
        last_was_cr = c == '\r';
        switch (c) {
        case '\r':
        case '\n':
            out("\n");
            buf[len] = '\0';
            remember(buf);
            return len;
        case kCtrlC:
            out("^C\n");
            len = 0;
            browse = 0;
            out(prompt);
            break;
        case kCtrlU:
            len = 0;
            redraw(prompt, buf, len);
            break;
        case kBackspace:
        case kDelete:
            if (len) {
                --len;
                out("\b \b");
            }
            break;
        case kEsc:
            esc_state = 1;
            break;
        default:
            if (c >= 0x20 && c < 0x7f && len + 1 < size) {
                buf[len++] = static_cast<char>(c);
                char ch = static_cast<char>(c);
                console::write(&ch, 1);
            }
            break;
        }
    }
}

}  // namespace rtos::shell
