// `watchdog`: the hardware watchdog the kernel feeds and the threads the
// software watchdog watches (rtos/watchdog.hpp).
#include <rtos/printk.hpp>
#include <rtos/watchdog.hpp>

#include "shell.hpp"

namespace rtos::shell {
namespace {

int cmd_watchdog(int argc, char**) {
    if (argc != 1) return kUsage;
    const watchdog::Info i = watchdog::info();
    if (i.hardware)
        printk("hardware: %s period %u ms, fed %llu times\n", i.hardware, i.hardware_timeout_ms,
               static_cast<unsigned long long>(i.feeds));
    else printk("hardware: none\n");
    printk("threads watched: %u\n", i.clients);
    return 0;
}

}  // namespace

SHELL_COMMAND(watchdog, "", "the hardware watchdog and the threads the software one watches",
              cmd_watchdog);

}  // namespace rtos::shell
