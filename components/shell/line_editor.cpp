#include "line_editor.hpp"

#include <rtos/console.hpp>
#include <rtos/format.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>

namespace rtos::shell {
namespace {

constexpr int kCtrlC = 0x03, kCtrlL = 0x0c, kCtrlU = 0x15, kBackspace = 0x08, kDelete = 0x7f,
              kEsc = 0x1b;
constexpr unsigned kMinColumns = 8, kMaxColumns = 1000;

void out(const char* s) { console::puts(s); }

// Terminal input: plain characters, ESC [ <params> <final> (CSI: arrows,
// the cursor position report) and ESC O <final> (arrows in application mode).
struct EscParser {
    enum State { none, esc, csi, ss3 } state = none;
    unsigned params[2] = {};
    unsigned count = 0;

    void start() {
        state = esc;
        params[0] = params[1] = 0;
        count = 0;
    }
    /// Feeds a byte while in a sequence; returns its final byte when it ends, else 0.
    int feed(int c) {
        if (state == esc) {
            state = c == '[' ? csi : c == 'O' ? ss3 : none;
            return 0;
        }
        if (state == ss3) {
            state = none;
            return c;
        }
        if (c >= '0' && c <= '9') {
            if (count == 0) count = 1;
            unsigned& p = params[count - 1];
            if (p < 100000) p = p * 10 + static_cast<unsigned>(c - '0');
            return 0;
        }
        if (c == ';') {
            if (count == 0) count = 1;
            if (count < 2) ++count;
            return 0;
        }
        state = none;
        return c >= 0x40 && c <= 0x7e ? c : 0;  // anything else: a broken sequence, dropped
    }
};

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

void LineEditor::put(const char* s, std::size_t n) {
    console::write(s, n);
    for (std::size_t i = 0; i < n; ++i) {
        if (wrap_pending_) {
            ++row_;
            col_ = 0;
            wrap_pending_ = false;
        }
        if (col_ + 1 == columns_) wrap_pending_ = true;
        else ++col_;
    }
}

void LineEditor::place_after(std::size_t n) {
    row_ = n ? static_cast<unsigned>((n - 1) / columns_) : 0;
    col_ = n ? static_cast<unsigned>((n - 1) % columns_) + 1 : 0;
    wrap_pending_ = col_ == columns_;
    if (wrap_pending_) --col_;
}

void LineEditor::ask_width() {
    // Save the cursor, go right as far as the terminal lets us, report
    // where that is, restore the cursor.
    out("\x1b"
        "7\x1b[999C\x1b[6n\x1b"
        "8");
    width_asked_ = true;
}

void LineEditor::redraw(const char* prompt, const char* buf, std::size_t len) {
    // Back to the prompt's first row, then erase to the end of the screen.
    char seq[16];
    out("\r");
    if (row_) {
        snprintf(seq, sizeof(seq), "\x1b[%uA", row_);
        out(seq);
    }
    out("\x1b[J");
    row_ = col_ = 0;
    wrap_pending_ = false;
    put(prompt, strlen(prompt));
    put(buf, len);
}

void LineEditor::rub_out(const char* prompt, const char* buf, std::size_t len) {
    if (!wrap_pending_ && col_ > 1) {  // the common case: within a row
        out("\b \b");
        --col_;
    } else {  // at a row's edge: the terminal cannot back up across it
        redraw(prompt, buf, len - 1);
    }
}

std::size_t LineEditor::read_line(const char* prompt, char* buf, std::size_t size) {
    std::size_t len = 0;
    unsigned browse = 0;    // 0 = editing a new line, k = k-th most recent history entry
    bool too_long = false;  // characters past the end were refused
    EscParser esc;
    const std::size_t prompt_len = strlen(prompt);
    auto begin = [&] {
        row_ = col_ = 0;
        wrap_pending_ = false;
        put(prompt, prompt_len);
        if (!width_asked_ || width_answered_) ask_width();
    };
    begin();
    for (;;) {
        int c = console::getc();
        if (c < 0) continue;
        if (esc.state != EscParser::none) {
            int final = esc.feed(c);
            if (final == 'R' && esc.count == 2) {  // cursor position report: row;column
                unsigned cols = esc.params[1];
                width_answered_ = true;
                if (cols >= kMinColumns && cols <= kMaxColumns && cols != columns_) {
                    columns_ = cols;
                    place_after(prompt_len + len);  // where the line is on a screen this wide
                }
                continue;
            }
            unsigned available = history_count_ < kHistory ? history_count_ : kHistory;
            if (final == 'A' && browse < available) ++browse;
            else if (final == 'B' && browse > 0) --browse;
            else continue;
            if (browse == 0) {
                len = 0;
            } else {
                const char* h = history_[(history_count_ - browse) % kHistory];
                len = strlen(h);
                if (len >= size) len = size - 1;
                memcpy(buf, h, len);
            }
            too_long = false;
            redraw(prompt, buf, len);
            continue;
        }
        if (c == '\n' && last_was_cr_) {  // CR LF from a terminal: one Enter
            last_was_cr_ = false;
            continue;
        }
        last_was_cr_ = c == '\r';
        switch (c) {
        case '\r':
        case '\n':
            out("\n");
            if (too_long) {
                printk("line too long (more than %u characters): not run\n",
                       static_cast<unsigned>(size - 1));
                len = 0;
            }
            buf[len] = '\0';
            remember(buf);
            return len;
        case kCtrlC:
            out("^C\n");
            len = 0;
            browse = 0;
            too_long = false;
            begin();
            break;
        case kCtrlL:  // clear the screen, redraw the line, ask for the width again
            out("\x1b[H\x1b[2J");
            row_ = 0;
            redraw(prompt, buf, len);
            ask_width();
            break;
        case kCtrlU:
            len = 0;
            too_long = false;
            redraw(prompt, buf, len);
            break;
        case kBackspace:
        case kDelete:
            if (len) {
                rub_out(prompt, buf, len);
                --len;
            }
            break;
        case kEsc: esc.start(); break;
        default:
            if (c < 0x20 || c >= 0x7f) break;
            if (len + 1 < size) {
                buf[len++] = static_cast<char>(c);
                char ch = static_cast<char>(c);
                put(&ch, 1);
            } else {
                if (!too_long) out("\a");  // once: the line will be refused
                too_long = true;
            }
            break;
        }
    }
}

}  // namespace rtos::shell
