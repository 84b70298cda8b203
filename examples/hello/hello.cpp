// The application template (README.md, "Applications"): copy this folder
// anywhere and build it with
//   scons BSP=qemu-virt64-riscv APP=path/to/folder
// Every *.c, *.cpp and *.S file of the folder is compiled (or the folder's
// own SConscript decides); its Kconfig appears under "Application" in
// menuconfig and app.conf is merged into the configuration.
//
// The entry point is a start-up hook at level `app`: the main thread calls
// it after the drivers and services are up, before the shell starts. A hook
// returns quickly, so long-running work goes into a thread of its own.
#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/init.hpp>
#include <rtos/printk.hpp>
#include <rtos/thread.hpp>

namespace {

void hello_main(void*) {
    // sleep_until: the period does not drift by the time the printing takes.
    rtos::Tick next = rtos::clock::ticks();
    for (unsigned n = 1;; ++n) {
        rtos::printk("hello: %s (%u)\n", CONFIG_HELLO_MESSAGE, n);
        next += rtos::clock::ms_to_ticks(CONFIG_HELLO_PERIOD_MS);
        rtos::Thread::sleep_until(next);
    }
}

void hello_start() {
    const rtos::Thread::Params params{.name = "hello", .priority = CONFIG_HELLO_PRIORITY};
    if (!rtos::Thread::create(params, hello_main, nullptr, 4096, true))
        rtos::printk("hello: cannot create the thread\n");
}

}  // namespace

RTOS_INIT(hello_start, app);
