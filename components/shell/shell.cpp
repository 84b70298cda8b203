// The shell thread: read a line, split it into arguments, run the command.
#include "shell.hpp"

#include <rtos/clock.hpp>
#include <rtos/console.hpp>
#include <rtos/init.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>

#include "line_editor.hpp"
#include "tokenize.hpp"

extern "C" const rtos::shell::Command __shell_commands_start[];
extern "C" const rtos::shell::Command __shell_commands_end[];

namespace rtos::shell {
namespace {

StaticThread<CONFIG_SHELL_STACK_SIZE> shell_thread;
LineEditor editor;
char line[CONFIG_SHELL_LINE_MAX + 1];

void execute(char* text) {
    char* argv[CONFIG_SHELL_ARGS_MAX + 1];
    int argc = tokenize(text, argv, CONFIG_SHELL_ARGS_MAX);
    if (argc == kTooMany) {
        printk("too many arguments (at most %d)\n", CONFIG_SHELL_ARGS_MAX);
        return;
    }
    if (argc == kUnterminated) {
        printk("unterminated quote\n");
        return;
    }
    if (argc == 0) return;
    argv[argc] = nullptr;
    const Command* cmd = find(argv[0]);
    if (!cmd) {
        printk("%s: command not found\n", argv[0]);
        return;
    }
    console::arm_interrupt();
    int result = cmd->fn(argc, argv);
    bool ctrl_c = console::disarm_interrupt();
    if (result == kUsage) print_usage(*cmd);
    if (result == kInterrupted) printk("^C\n%s: interrupted\n", argv[0]);
    else if (ctrl_c) printk("^C\n");  // too late: the command had finished
}

void shell_main(void*) {
    for (;;) {
        editor.read_line(CONFIG_SHELL_PROMPT, line, sizeof(line));
        execute(line);
    }
}

void shell_start() {
    if (shell_thread.start({.name = "shell", .priority = CONFIG_SHELL_PRIORITY}, shell_main,
                           nullptr) != Status::ok)
        panic("cannot start the shell thread (check CONFIG_SHELL_PRIORITY)");
}

}  // namespace

RTOS_INIT(shell_start, late);  // the prompt comes after the start-up output

bool interrupted() { return console::interrupt_requested(); }

constexpr Tick kWaitSlice = clock::ms_to_ticks(50);

Tick wait_slice(Tick deadline) {
    const Tick now = clock::ticks();
    if (interrupted() || now >= deadline) return 0;
    return deadline - now < kWaitSlice ? deadline - now : kWaitSlice;
}

bool sleep_until(Tick deadline) {
    for (;;) {
        if (interrupted()) return false;
        const Tick now = clock::ticks();
        if (now >= deadline) return true;
        Thread::sleep_until(deadline - now < kWaitSlice ? deadline : now + kWaitSlice);
    }
}

const Command* commands_begin() { return __shell_commands_start; }
const Command* commands_end() { return __shell_commands_end; }

const Command* find(const char* name) {
    for (const Command* c = commands_begin(); c < commands_end(); ++c)
        if (!strcmp(c->name, name)) return c;
    return nullptr;
}

void print_usage(const Command& cmd) {
    printk("usage: %s%s%s\n", cmd.name, cmd.usage[0] ? " " : "", cmd.usage);
}

}  // namespace rtos::shell
