// The application template (docs/application.md): copy this folder
// anywhere and build it with
//   scons BSP=qemu-virt64-riscv APP=path/to/folder
// Every *.c, *.cpp and *.S file of the folder is compiled (or the folder's
// own SConscript decides); its Kconfig appears under "Application" in
// menuconfig and app.conf is merged into the configuration.
//
// The entry point is a start-up hook at level `app`: the main thread calls
// it after the drivers and services are up, before the shell starts. A hook
// returns quickly, so long-running work goes into a thread of its own; a
// thread that prints while the shell waits for input writes into the
// user's line, so this one reports through a shell command instead.
#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/init.hpp>
#include <rtos/printk.hpp>
#include <rtos/thread.hpp>

#if defined(CONFIG_SHELL)
#include "shell/shell.hpp"
#endif

namespace {

// Periods the thread has counted. Lock story: written by the hello thread
// only, read by the shell; an aligned 32-bit load or store is atomic on both
// architectures, and a reader seeing the previous count is harmless.
volatile unsigned periods;

// The thread's work: here it counts periods. It prints nothing itself, so
// it never writes into the line a user is typing at the prompt; the
// `hello` command shows how far it got.
void hello_main(void*) {
    // sleep_until: the period does not drift by the time the work takes.
    rtos::Tick next = rtos::clock::ticks();
    for (;;) {
        next += rtos::clock::ms_to_ticks(CONFIG_HELLO_PERIOD_MS);
        rtos::Thread::sleep_until(next);
        periods = periods + 1;
    }
}

void hello_start() {
    const rtos::Thread::Params params{.name = "hello", .priority = CONFIG_HELLO_PRIORITY};
    if (!rtos::Thread::create(params, hello_main, nullptr, 4096, true)) {
        rtos::printk("hello: cannot create the thread\n");
        return;
    }
    // Start-up output comes before the first prompt.
    rtos::printk("hello: %s (type 'hello')\n", CONFIG_HELLO_MESSAGE);
}

#if defined(CONFIG_SHELL)
// An application's own shell command: SHELL_COMMAND in any of its files.
int cmd_hello(int argc, char**) {
    if (argc != 1) return rtos::shell::kUsage;
    rtos::printk("hello: %s (%u)\n", CONFIG_HELLO_MESSAGE, periods);
    return 0;
}
#endif

}  // namespace

RTOS_INIT(hello_start, app);
#if defined(CONFIG_SHELL)
SHELL_COMMAND(hello, "", "the hello application: its message and the periods its thread counted",
              cmd_hello);
#endif
