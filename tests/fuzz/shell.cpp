// Fuzz target: the shell's line editor, tokenizer and number parsing.
//
// The shell's input side (components/shell): the line editor
// (line_editor.cpp: editing keys, escape sequences, cursor position
// reports that set the width, history, over-long lines) fed the input as
// terminal bytes, line after line; every line it returns is split into
// arguments (the shell's tokenizer) and each argument goes through
// parse_u64 (rtos/lib/format.cpp), what commands parse numbers with.
// Checked: a returned line fits the buffer, is NUL-terminated at its length
// and holds printable characters only; every argument lies inside the line;
// a number parses to the value it spells.
#include <cstring>
#include <string>

#include <rtos/console.hpp>
#include <rtos/format.hpp>

#include "harness.hpp"
#include "shell/line_editor.hpp"
#include "shell/tokenize.hpp"

namespace {

const std::uint8_t* g_in = nullptr;
std::size_t g_left = 0;

}  // namespace

// The console the editor reads and writes.
namespace rtos::console {
int getc(Timeout) {
    if (g_left == 0) return '\r';  // end of input: Enter, so the line returns
    --g_left;
    return *g_in++;
}
void write(const char*, std::size_t) {}
void puts(const char*) {}
}  // namespace rtos::console

namespace {

// What parse_u64 must say: the value spelled in decimal or 0x hex, or no.
bool reference_parse(const char* s, unsigned long long& v) {
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) base = 16, s += 2;
    if (!*s) return false;
    unsigned __int128 x = 0;
    for (; *s; ++s) {
        int d = *s >= '0' && *s <= '9'                 ? *s - '0'
                : base == 16 && *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
                : base == 16 && *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
                                                       : -1;
        if (d < 0) return false;
        x = x * base + static_cast<unsigned>(d);
        if (x > ~0ull) return false;
    }
    v = static_cast<unsigned long long>(x);
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::begin_input();
    if (size == 0) return 0;
    // The first byte picks the buffer size (the shell's is CONFIG_SHELL_LINE_MAX + 1).
    const std::size_t room = 1 + data[0] % 160;
    g_in = data + 1;
    g_left = size - 1;
    rtos::shell::LineEditor editor;
    std::string line;
    for (unsigned lines = 0; g_left > 0 && lines < 64; ++lines) {
        line.assign(room, '\xee');
        const std::size_t len = editor.read_line("msh> ", line.data(), room);
        FUZZ_CHECK(len < room);
        FUZZ_CHECK(line[len] == '\0');
        FUZZ_CHECK(std::strlen(line.c_str()) == len);
        for (std::size_t i = 0; i < len; ++i) FUZZ_CHECK(line[i] >= 0x20 && line[i] < 0x7f);

        char* argv[CONFIG_SHELL_ARGS_MAX + 1];
        const int argc = rtos::shell::tokenize(line.data(), argv, CONFIG_SHELL_ARGS_MAX);
        FUZZ_CHECK(argc >= rtos::shell::kUnterminated && argc <= CONFIG_SHELL_ARGS_MAX);
        for (int i = 0; i < argc; ++i) {
            FUZZ_CHECK(argv[i] >= line.data() && argv[i] <= line.data() + len);
            FUZZ_CHECK(argv[i] + std::strlen(argv[i]) <= line.data() + len);
            unsigned long long v = 0, want = 0;
            const bool ok = rtos::parse_u64(argv[i], v);
            FUZZ_CHECK(ok == reference_parse(argv[i], want));
            if (ok) FUZZ_CHECK(v == want);
        }
    }
    return 0;
}
