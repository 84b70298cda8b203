// Line input with the editing a terminal user expects: backspace, Ctrl-C
// to drop the line, Ctrl-U to clear it, up/down arrows for history.
#pragma once

#include <rtos/config.hpp>

#include <cstddef>

namespace rtos::shell {

class LineEditor {
public:
    /// Reads one line into buf (NUL-terminated). Returns its length.
    std::size_t read_line(const char* prompt, char* buf, std::size_t size);

private:
    static constexpr unsigned kHistory = CONFIG_SHELL_HISTORY > 0 ? CONFIG_SHELL_HISTORY : 1;
    static constexpr unsigned kLineMax = CONFIG_SHELL_LINE_MAX;

    void remember(const char* line);
    void redraw(const char* prompt, const char* buf, std::size_t len);

    char history_[kHistory][kLineMax] = {};
    unsigned history_count_ = 0;  // total lines ever stored
};

}  // namespace rtos::shell
