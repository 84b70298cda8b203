// Message-signalled interrupts through the platform's MSI controller
// (irq::msi_controller(): GICv2m, GICv3 ITS), whichever it is. The test
// plays the device: a CPU store of a message's data to its address raises
// the interrupt. That works with QEMU's frames: a GICv2m frame does not check
// who writes, and QEMU's ITS takes a CPU store as one from requester ID 0
// (the device ID the interrupts are allocated for). Without an MSI
// controller (riscv64, a GICv3 without ITS) there is nothing to test.
//
// Interrupts are never given back and handlers never removed, so the first
// run allocates and attaches two interrupts and later runs of `ktest` reuse
// them; each test leaves them disabled.
#include <cstdint>

#include <rtos/irq.hpp>
#include <rtos/printk.hpp>

#include "ktest/ktest.hpp"

using namespace rtos;

namespace {

constexpr unsigned kMsis = 2;

struct Msi {
    unsigned irq;
    irq::MsiMessage message;
    volatile unsigned hits;  // written by the handler only
};

Msi msis[kMsis];
bool attached = false;

void on_msi(void* arg) {
    auto* m = static_cast<Msi*>(arg);
    m->hits = m->hits + 1;
}

void send(const irq::MsiMessage& m) {
    *reinterpret_cast<volatile uint32_t*>(static_cast<uintptr_t>(m.address)) = m.data;
}

// The controller, with the test's interrupts allocated, attached and
// enabled; nullptr (and why, printed) when there is none or they could not
// be set up.
irq::MsiController* setup() {
    irq::MsiController* mc = irq::msi_controller();
    if (!mc) {
        printk("  no MSI controller: nothing to test\n");
        return nullptr;
    }
    if (!attached) {
        unsigned irqs[kMsis];
        irq::MsiMessage messages[kMsis];
        unsigned n = mc->allocate(0, kMsis, irqs, messages);
        KT_EXPECT_EQ(n, kMsis);
        if (n != kMsis) return nullptr;  // what it gave stays unused
        KT_EXPECT_NE(irqs[0], irqs[1]);
        for (unsigned i = 0; i < kMsis; ++i) {
            KT_EXPECT_EQ(messages[i].address % 4, 0u);
            msis[i] = {irqs[i], messages[i], 0};
            if (!irq::attach(irqs[i], on_msi, &msis[i])) {
                KT_FAIL("attach(%u) failed", irqs[i]);
                return nullptr;
            }
        }
        attached = true;
        printk("  %s: irqs %u %u, messages %#llx <- %#x, %#llx <- %#x\n", mc->name(), irqs[0],
               irqs[1], static_cast<unsigned long long>(messages[0].address), messages[0].data,
               static_cast<unsigned long long>(messages[1].address), messages[1].data);
    }
    for (Msi& m : msis) irq::enable(m.irq);
    return mc;
}

// Long enough for a wrongly repeated or late delivery to show.
void settle() { Thread::sleep(kt::ms(5)); }

bool delivered(const Msi& m, unsigned hits) {
    return kt::wait_for([&] { return m.hits >= hits; }, kt::ms(200));
}

}  // namespace

// Each message raises its own interrupt, exactly once, and the kernel counts it.
KTEST(msi_message_raises_its_interrupt_once) {
    if (!setup()) return;
    for (unsigned i = 0; i < kMsis; ++i) {
        Msi& m = msis[i];
        Msi& other = msis[1 - i];
        unsigned hits = m.hits, other_hits = other.hits;
        unsigned long counted = irq::count(m.irq);
        send(m.message);
        KT_EXPECT(delivered(m, hits + 1));
        settle();
        KT_EXPECT_EQ(m.hits, hits + 1);
        KT_EXPECT_EQ(other.hits, other_hits);
        KT_EXPECT_EQ(irq::count(m.irq), counted + 1);
    }
    for (Msi& m : msis) irq::disable(m.irq);
}

// A message sent while its interrupt is disabled stays pending and is taken,
// once, on enable (the SPIs of a GICv2m frame are edge-triggered: a
// level-triggered one would lose QEMU's pulse).
KTEST(msi_held_back_while_disabled_then_delivered) {
    if (!setup()) return;
    Msi& m = msis[0];
    irq::disable(m.irq);
    unsigned hits = m.hits;
    send(m.message);
    settle();
    KT_EXPECT_EQ(m.hits, hits);
    irq::enable(m.irq);
    KT_EXPECT(delivered(m, hits + 1));
    settle();
    KT_EXPECT_EQ(m.hits, hits + 1);
    for (Msi& x : msis) irq::disable(x.irq);
}
