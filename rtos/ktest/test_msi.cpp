// Message-signalled interrupts through the platform's MSI controller
// (aarch64 GICv3: the ITS's LPIs). A CPU store of the message data to the
// message address stands in for a device's MSI-X write; on QEMU the ITS
// sees CPU writes with requester ID 0, which is PCI 00:00.0, the host
// bridge, a function that never uses MSIs. Passes without doing anything
// where there is no MSI controller (riscv64, GICv2, ITS compiled out).
//
// Two interrupts of the device (events 0 and 1, from two allocations) are
// raised one after the other: each runs its own handler once. Interrupts
// are never returned, so they are allocated and their handlers attached on
// the first run only; later runs of `ktest` reuse them.
#include <rtos/irq.hpp>
#include <rtos/printk.hpp>

#include "ktest/ktest.hpp"

using namespace rtos;

namespace {

constexpr std::uint32_t kCpuDeviceId = 0;

volatile unsigned msi_hits = 0, msi2_hits = 0;
void on_msi(void*) { msi_hits = msi_hits + 1; }
void on_msi2(void*) { msi2_hits = msi2_hits + 1; }

struct TestMsi {
    bool ready = false;
    unsigned irq = 0, irq2 = 0;
    irq::MsiMessage message{}, message2{};
} test_msi;

void send(const irq::MsiMessage& m) {
    *reinterpret_cast<volatile std::uint32_t*>(static_cast<std::uintptr_t>(m.address)) = m.data;
}

}  // namespace

KTEST(msi_write_raises_interrupt_disable_holds_it) {
    irq::MsiController* msi = irq::msi_controller();
    if (!msi) {
        printk("  no MSI controller: nothing to test\n");
        return;
    }
    if (!test_msi.ready) {
        KT_ASSERT_EQ(msi->allocate(kCpuDeviceId, 1, &test_msi.irq, &test_msi.message), 1u);
        // Allocated interrupts start disabled: a message now stays pending.
        msi_hits = 0;
        send(test_msi.message);
        kt::spin_until(kt::now() + 2);
        KT_EXPECT_EQ(msi_hits, 0u);
        KT_ASSERT(irq::attach(test_msi.irq, on_msi, nullptr));
        test_msi.ready = true;
        KT_EXPECT(kt::wait_for([] { return msi_hits == 1; }));
        // A second allocation for the device is its next event: an interrupt
        // of its own.
        KT_ASSERT_EQ(msi->allocate(kCpuDeviceId, 1, &test_msi.irq2, &test_msi.message2), 1u);
        KT_EXPECT_NE(test_msi.irq2, test_msi.irq);
        KT_EXPECT_EQ(test_msi.message2.address, test_msi.message.address);
        KT_EXPECT_EQ(test_msi.message2.data, test_msi.message.data + 1);
        KT_ASSERT(irq::attach(test_msi.irq2, on_msi2, nullptr));
    } else {
        irq::enable(test_msi.irq);
        irq::enable(test_msi.irq2);
    }
    printk("  %s: irq %u, message 0x%x -> 0x%lx\n", msi->name(), test_msi.irq,
           static_cast<unsigned>(test_msi.message.data),
           static_cast<unsigned long>(test_msi.message.address));
    unsigned long taken = irq::count(test_msi.irq);

    msi_hits = msi2_hits = 0;
    send(test_msi.message);
    KT_EXPECT(kt::wait_for([] { return msi_hits != 0; }));
    kt::spin_until(kt::now() + 2);  // and only once
    KT_EXPECT_EQ(msi_hits, 1u);
    send(test_msi.message2);
    KT_EXPECT(kt::wait_for([] { return msi2_hits != 0; }));
    kt::spin_until(kt::now() + 2);
    KT_EXPECT_EQ(msi2_hits, 1u);
    KT_EXPECT_EQ(msi_hits, 1u);

    irq::disable(test_msi.irq);
    send(test_msi.message);
    kt::spin_until(kt::now() + 2);
    KT_EXPECT_EQ(msi_hits, 1u);  // held pending
    irq::enable(test_msi.irq);
    KT_EXPECT(kt::wait_for([] { return msi_hits == 2; }));
    kt::spin_until(kt::now() + 2);
    KT_EXPECT_EQ(msi_hits, 2u);
    KT_EXPECT_EQ(irq::count(test_msi.irq) - taken, 2ul);
    KT_EXPECT_EQ(msi2_hits, 1u);
    irq::disable(test_msi.irq);
    irq::disable(test_msi.irq2);
}
