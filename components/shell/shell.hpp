// msh: the command shell on the console. A module adds a command with
//   SHELL_COMMAND(name, "usage", "one-line help", fn);
// anywhere in its own file; no central table is edited (the linker gathers
// the entries into one section).
#pragma once

#include <rtos/config.hpp>

namespace rtos::shell {

/// Command result: 0 success, kUsage prints the usage line, other values
/// are failures (the command printed why).
constexpr int kUsage = -2;

using CommandFn = int (*)(int argc, char** argv);

struct Command {
    const char* name;
    const char* usage;  ///< arguments, e.g. "<lba> <count>"; "" for none
    const char* help;
    CommandFn fn;
};

/// Iterates the registered commands in link order.
const Command* commands_begin();
const Command* commands_end();
const Command* find(const char* name);

/// Prints "usage: <name> <usage>".
void print_usage(const Command& cmd);

/// Parses an unsigned number (decimal, 0x hex); false on garbage or overflow.
bool parse_u64(const char* s, unsigned long long& out);

}  // namespace rtos::shell

#define SHELL_COMMAND(cmd_name, usage, help, fn)                                         \
    [[gnu::used, gnu::section(".rtos_shell_commands")]] static constexpr ::rtos::shell:: \
        Command shell_command_##cmd_name{#cmd_name, usage, help, fn}
