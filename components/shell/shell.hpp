// msh: the command shell on the console. A module adds a command with
//   SHELL_COMMAND(name, "usage", "one-line help", fn);
// anywhere in its own file; no central table is edited (the linker gathers
// the entries into one section).
#pragma once

#include <rtos/config.hpp>
#include <rtos/types.hpp>

#include <rtos/format.hpp>

namespace rtos::shell {

/// Command result: 0 success, kUsage prints the usage line, kInterrupted
/// says the command stopped on Ctrl-C (the shell prints "^C" and
/// "<cmd>: interrupted"), other values are failures (the command printed why).
constexpr int kUsage = -2;
constexpr int kInterrupted = -3;

/// True once Ctrl-C was pressed while the current command runs. A command
/// that can take long polls it (per request, per output line; from any of
/// its threads; it costs a load) and returns kInterrupted when it stopped.
/// The Ctrl-C never reaches the next prompt, nor does input typed before it.
bool interrupted();

/// A command's wait that Ctrl-C ends: nothing wakes a sleeping thread on
/// Ctrl-C, so the wait is cut into slices of at most 50 ms. wait_slice
/// returns the length of the next slice of a wait until `deadline` (in
/// clock::ticks()), 0 once the deadline passed or Ctrl-C came; a blocking
/// call with a timeout loops on it:
///   while (Tick t = shell::wait_slice(deadline))
///       if (sem.take(Timeout::ticks(t)) == Status::ok) break;
/// sleep_until sleeps that way; false when Ctrl-C ended the wait.
Tick wait_slice(Tick deadline);
bool sleep_until(Tick deadline);

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
using ::rtos::parse_u64;

}  // namespace rtos::shell

#define SHELL_COMMAND(cmd_name, usage, help, fn)                                                \
    [[gnu::used, gnu::section(".rtos_shell_commands")]] static constexpr ::rtos::shell::Command \
        shell_command_##cmd_name {                                                              \
#cmd_name, usage, help, fn                                                              \
    }
