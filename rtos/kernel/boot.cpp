// From the arch entry to the first thread: banner, board, heap, then the
// main thread runs every RTOS_INIT hook in level order.
#include <rtos/board.hpp>
#include <rtos/config.hpp>
#include <rtos/heap.hpp>
#include <rtos/init.hpp>
#include <rtos/panic.hpp>
#include <rtos/printk.hpp>
#include <rtos/thread.hpp>
#include <rtos/timer.hpp>

#include "arch/port.hpp"
#include "scheduler.hpp"

extern "C" {
extern const rtos::InitEntry __rtos_init_start[];
extern const rtos::InitEntry __rtos_init_end[];
extern void (*__init_array_start[])();
extern void (*__init_array_end[])();
}

namespace rtos::kernel {
namespace {

StaticThread<CONFIG_RTOS_MAIN_STACK_SIZE> main_thread;

void main_entry(void*) {
#if defined(CONFIG_RTOS_SMP)
    start_cpus();  // before the start-up hooks: drivers start on every CPU
#endif
    timer_service_start();
    for (const InitEntry* e = __rtos_init_start; e < __rtos_init_end; ++e) e->fn();
}

}  // namespace
}  // namespace rtos::kernel

extern "C" [[noreturn]] void rtos_kernel_main(uintptr_t boot_arg) {
    using namespace rtos;
#if defined(CONFIG_RTOS_SMP)
    kernel::boot_cpu_init();
#endif
    for (auto* ctor = __init_array_start; ctor < __init_array_end; ++ctor) (*ctor)();
    board::early_init();
    printk("Tern %s (%s, %s) booting\n", RTOS_VERSION, RTOS_BSP, arch::name());
    board::init(boot_arg);
    board::MemoryRange heap = board::heap_range();
    heap::init(reinterpret_cast<void*>(heap.base), heap.size);
    board::MemoryRange ram = board::ram();
    printk("memory: %zu MiB RAM at %p, heap %zu KiB\n", ram.size >> 20,
           reinterpret_cast<void*>(ram.base), heap.size >> 10);
    static_assert(CONFIG_RTOS_MAIN_PRIORITY < kernel::kIdlePriority,
                  "CONFIG_RTOS_MAIN_PRIORITY must be above the idle priority");
    if (kernel::main_thread.init({.name = "main", .priority = CONFIG_RTOS_MAIN_PRIORITY},
                                 kernel::main_entry, nullptr) != Status::ok)
        panic("cannot create the main thread");
    kernel::main_thread.detached = true;
    kernel::start(&kernel::main_thread);
}
