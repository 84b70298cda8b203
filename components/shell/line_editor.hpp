// Line input with the editing a terminal user expects: backspace, Ctrl-C
// to drop the line, Ctrl-U to clear it, up/down arrows for history.
//
// A line longer than the screen wraps; to clear or redraw it the editor
// tracks where the cursor is relative to the prompt's first row, which needs
// the terminal's width: it asks the terminal (cursor to column 999, then a
// cursor position report, ESC [ 6 n) and takes the column of the answer,
// whenever it arrives. It asks at the first prompt, and again at every
// prompt only once a terminal has answered (it may be resized): a pipe, a
// log or an expect script never answers, and sees the question once. Ctrl-L
// clears the screen and asks again. Until a terminal has answered the width
// is 80. The cursor model is a VT100's: writing the last column leaves the
// cursor there until the next character wraps it (what xterm, the Linux
// console, screen and tmux do).
#pragma once

#include <rtos/config.hpp>

#include <cstddef>

namespace rtos::shell {

class LineEditor {
public:
    /// Reads one line of at most size - 1 characters into buf (NUL-terminated)
    /// and returns its length. A longer line is refused with a message and
    /// comes back empty: running it cut short could do something else.
    std::size_t read_line(const char* prompt, char* buf, std::size_t size);

private:
    static constexpr unsigned kHistory = CONFIG_SHELL_HISTORY > 0 ? CONFIG_SHELL_HISTORY : 1;
    static constexpr unsigned kLineMax = CONFIG_SHELL_LINE_MAX + 1;  // with the NUL
    static constexpr unsigned kDefaultColumns = 80;

    void remember(const char* line);
    /// Writes printable text, following the cursor.
    void put(const char* s, std::size_t n);
    /// Clears the prompt and the line, all of its rows, and writes them again.
    void redraw(const char* prompt, const char* buf, std::size_t len);
    /// Erases the last character of the line (the cursor is after it).
    void rub_out(const char* prompt, const char* buf, std::size_t len);
    /// The cursor after writing n characters from the start of a row.
    void place_after(std::size_t n);
    /// Asks the terminal for its width (the answer comes as input).
    void ask_width();

    char history_[kHistory][kLineMax] = {};
    unsigned history_count_ = 0;  // total lines ever stored

    unsigned columns_ = kDefaultColumns;
    bool width_asked_ = false;     // the first prompt asked
    bool width_answered_ = false;  // a terminal answered once: ask at every prompt
    unsigned row_ = 0;             // rows below the prompt's first row
    unsigned col_ = 0;             // 0-based column
    bool wrap_pending_ = false;    // the last column was written; the next character wraps
    bool last_was_cr_ = false;     // CR LF from a terminal is one Enter, also across lines
};

}  // namespace rtos::shell
