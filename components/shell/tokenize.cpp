#include "tokenize.hpp"

namespace rtos::shell {

// The words are written back over the line: a word never grows (quotes and
// backslashes only disappear), so `out` never passes `in`.
int tokenize(char* s, char** argv, int max) {
    int argc = 0;
    char* in = s;
    for (;;) {
        while (*in == ' ' || *in == '\t') ++in;
        if (!*in) return argc;
        if (argc == max) return kTooMany;
        char* out = in;
        argv[argc++] = out;
        bool quoted = false;
        for (; *in && (quoted || (*in != ' ' && *in != '\t')); ++in) {
            if (*in == '"') {
                quoted = !quoted;
            } else if (*in == '\\' && in[1] && (!quoted || in[1] == '"' || in[1] == '\\')) {
                *out++ = *++in;
            } else {
                *out++ = *in;
            }
        }
        if (quoted) return kUnterminated;
        const bool end = !*in;
        *out = '\0';
        if (end) return argc;
        ++in;
    }
}

}  // namespace rtos::shell
