// The `virtio` shell command: `virtio stat [-r]` prints the counters of every
// queue of every live device, one line each (a contract of the system tests
// and tools/bench.py, see docs/virtio.md, "Statistics"):
//   <device> q<n> kicks=<n> suppressed=<n> irqs=<n> used=<n> inflight_max=<n>
// and with several CPUs online " irq_cpus=0x<mask>": the CPUs the queue's
// interrupts ran on. -r prints them, then zeroes them.
#include <rtos/critical.hpp>
#include <rtos/format.hpp>
#include <rtos/printk.hpp>
#include <rtos/smp.hpp>
#include <rtos/string.hpp>

#include "drivers/virtio/device.hpp"
#include "shell/shell.hpp"

namespace virtio {
namespace {

int cmd_virtio(int argc, char** argv) {
    if (argc < 2 || strcmp(argv[1], "stat") != 0) return rtos::shell::kUsage;
    const bool reset = argc == 3 && strcmp(argv[2], "-r") == 0;
    if (argc > 3 || (argc == 3 && !reset)) return rtos::shell::kUsage;
    unsigned lines = 0;
    const bool smp = rtos::smp::cpu_count() > 1;
    for (Device* d = Device::first(); d; d = d->next()) {
        for (std::size_t i = 0; i < d->queue_count(); ++i) {
            Virtqueue& q = d->queue(i);
            // The counters belong to the queue's driver, which counts under
            // its own lock (a spinlock this command cannot name): read one
            // word at a time, single-copy atomic. A reset racing with that
            // driver on another CPU may lose the increments in flight; it
            // writes nothing but the counters.
            const Virtqueue::Stats& live = q.stats();
            auto get = [](const std::uint32_t& c) { return __atomic_load_n(&c, __ATOMIC_RELAXED); };
            const Virtqueue::Stats s{get(live.kicks), get(live.suppressed), get(live.irqs),
                                     get(live.used), get(live.inflight_max)};
            const std::uint32_t cpus = d->irq_cpus(i);
            if (reset) {
                // An IrqLock, not a spinlock: the counters' lock is their
                // driver's, which this command cannot name. Masking keeps
                // this CPU's handlers from being halfway through a count;
                // another CPU's increment may be lost, as said above.
                rtos::IrqLock lock;
                q.reset_stats();
                d->reset_irq_cpus(i);
            }
            char where[24] = "";  // one printk: lines never interleave
            if (smp) snprintf(where, sizeof(where), " irq_cpus=0x%x", static_cast<unsigned>(cpus));
            rtos::printk("%s q%u kicks=%u suppressed=%u irqs=%u used=%u inflight_max=%u%s\n",
                         d->name(), static_cast<unsigned>(i), s.kicks, s.suppressed, s.irqs, s.used,
                         s.inflight_max, where);
            ++lines;
        }
    }
    if (lines == 0) rtos::printk("virtio: no device\n");
    return 0;
}

}  // namespace

SHELL_COMMAND(virtio, "stat [-r]",
              "per-queue counters of every virtio device (-r: then reset them)", cmd_virtio);

}  // namespace virtio
