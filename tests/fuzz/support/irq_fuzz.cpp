// The driver environment's interrupt line (tests/host/virtio/irq_line.hpp)
// and its scenario failure (tests/host/kernel_ipc/sim.hpp) on the fuzz
// targets' kernel stand-in, in place of irq_line.cpp and sim.cpp.
#include <cstdio>
#include <cstdlib>

#include "fuzz_kernel.hpp"
#include "irq_line.hpp"
#include "sim.hpp"

namespace host_irq {

void install(fake::FakeMmioDevice* device, bool available) {
    fuzz_kernel::set_irq_available(available);
    fuzz_kernel::set_line(
        device ? [](void* d) { return static_cast<fake::FakeMmioDevice*>(d)->irq_pending(); }
               : nullptr,
        device);
}

void raise() { fuzz_kernel::interrupt(); }

}  // namespace host_irq

namespace sim {

void fail(const char* file, int line, const std::string& what) {
    std::fprintf(stderr, "%s:%d: %s\n", file, line, what.c_str());
    std::abort();
}

}  // namespace sim
