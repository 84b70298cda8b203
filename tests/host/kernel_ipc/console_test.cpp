// The console's receive path (rtos/kernel/console.cpp) and Ctrl-C: bytes
// arrive from a simulated interrupt; while a command runs (armed), a
// Ctrl-C raises the interrupt flag instead of being queued and drops the
// input typed before it, so neither reaches the next prompt. Flow control:
// a full ring holds a UART and makes a pushed source keep its bytes, and
// a reader resumes either; nothing is lost.
#include <gtest/gtest.h>

#include <string>

#include <rtos/console.hpp>
#include <rtos/critical.hpp>
#include <rtos/thread.hpp>

#include "kernel/scheduler.hpp"
#include "sim.hpp"

using namespace rtos;

namespace {

// Delivers bytes as the pushed source's receive interrupt does (all of
// them fit in these tests).
void receive(const std::string& bytes) {
    static std::string pending;
    pending = bytes;
    kernel::set_soft_interrupt_hook(
        [](void* s) {
            auto& b = *static_cast<std::string*>(s);
            SIM_CHECK_EQ(console::rx_push_from_isr(b.data(), b.size()), b.size());
        },
        &pending);
    sim::soft_interrupt();
}

// Everything queued, without waiting.
std::string drain() {
    std::string got;
    for (int c; (c = console::getc(Timeout::none())) >= 0;) got += static_cast<char>(c);
    return got;
}

void ctrl_c_is_input_at_the_prompt() {
    receive(
        "ab\x03"
        "c");
    SIM_CHECK(!console::interrupt_requested());
    SIM_CHECK_EQ(drain(), std::string("ab\x03"
                                      "c"));  // the line editor's to handle
}

void ctrl_c_interrupts_a_command_and_drops_what_came_before() {
    console::arm_interrupt();
    receive("echo typed ahead\r");
    SIM_CHECK(!console::interrupt_requested());
    receive("\x03");
    SIM_CHECK(console::interrupt_requested());
    receive("ls\r");  // typed after the ^C: kept
    SIM_CHECK(console::disarm_interrupt());
    SIM_CHECK(!console::interrupt_requested());
    SIM_CHECK(!console::disarm_interrupt());
    SIM_CHECK_EQ(drain(), std::string("ls\r"));
}

void ctrl_c_typed_ahead_before_arming() {
    receive(
        "junk\x03"
        "more\x03"
        "next");
    console::arm_interrupt();  // the command starts: the last queued ^C interrupts it
    SIM_CHECK(console::interrupt_requested());
    SIM_CHECK(console::disarm_interrupt());
    SIM_CHECK_EQ(drain(), std::string("next"));
}

void no_ctrl_c_keeps_everything() {
    console::arm_interrupt();
    receive("typed ahead\r");
    SIM_CHECK(!console::disarm_interrupt());
    SIM_CHECK_EQ(drain(), std::string("typed ahead\r"));
}

// A reader blocked in getc() across an interrupt sees only what follows it.
StaticThread<4096> reader;
std::string read_back;
void blocked_reader_skips_dropped_bytes() {
    console::arm_interrupt();
    receive("abc");
    receive("\x03");
    reader.start(
        {.name = "reader", .priority = 5},
        [](void*) {
            for (int i = 0; i < 2; ++i) read_back += static_cast<char>(console::getc());
        },
        nullptr);
    Thread::sleep(1);
    SIM_CHECK_EQ(read_back, std::string());  // "abc" dropped: it waits
    receive("xy");
    SIM_CHECK_STATUS(reader.join(Timeout::ticks(10)), Status::ok);
    SIM_CHECK_EQ(read_back, std::string("xy"));
    SIM_CHECK(console::disarm_interrupt());
}

// Receive flow control: a UART FIFO (here 3000 bytes) that the console
// drains only while its ring has room; when full the UART is held
// (interrupt masked) and a reader that empties half the ring resumes it.
struct FakeUart {
    std::string fifo;
    std::size_t pos = 0;
    bool held = false;
    int holds = 0;
} uart;
void fake_uart_isr() {
    kernel::set_soft_interrupt_hook([](void*) { console::rx_poll_from_isr(); }, nullptr);
    sim::soft_interrupt();
}
const console::Driver fake_driver{
    [](void*, char) {},
    [](void*) {
        return uart.pos < uart.fifo.size() ? static_cast<int>(uart.fifo[uart.pos++]) : -1;
    },
    nullptr,
    [](void*, bool hold) {
        uart.held = hold;
        uart.holds += hold;
    }};
void full_ring_holds_the_uart_and_loses_nothing() {
    console::set_driver(&fake_driver);
    for (int i = 0; i < 3000; ++i) uart.fifo += static_cast<char>('a' + i % 26);
    fake_uart_isr();
    SIM_CHECK(uart.held);         // ring full, the rest stays in the FIFO
    SIM_CHECK(uart.pos < 1100u);  // the ring's worth taken
    std::string got = drain();    // reading resumes the UART until the FIFO is empty
    SIM_CHECK(!uart.held);
    SIM_CHECK(uart.holds >= 2);
    SIM_CHECK_EQ(got, uart.fifo);
    console::set_driver(nullptr);
}

// The pushed source (virtio-console port 0): 5000 bytes in its own
// buffer; the ring takes what fits, a reader's getc() resumes the source
// (from the reader's context) once half the ring is free, and the source
// pushes the rest in order, however often that takes.
struct FakeSource {
    std::string data;
    std::size_t pos = 0;
    int resumes = 0;
    bool refused = false;  // a push that did not take everything
} source;
void source_push() {
    const std::size_t took =
        console::rx_push_from_isr(source.data.data() + source.pos, source.data.size() - source.pos);
    source.pos += took;
    source.refused = source.pos < source.data.size();
}
void full_ring_keeps_the_source_waiting_and_loses_nothing() {
    console::set_rx_source(
        [](void*) {
            ++source.resumes;
            IrqLock irq;  // the source's spinlock masks interrupts
            source_push();
        },
        nullptr);
    for (int i = 0; i < 5000; ++i) source.data += static_cast<char>('A' + i * 7 % 26);
    kernel::set_soft_interrupt_hook([](void*) { source_push(); }, nullptr);
    sim::soft_interrupt();
    SIM_CHECK(source.refused);  // the ring's worth taken, the rest kept
    SIM_CHECK_EQ(source.pos, 1023u);
    SIM_CHECK_EQ(source.resumes, 0);
    // No resume until half the ring is free (512 of 1024 slots queued).
    std::string got;
    for (int i = 0; i < 510; ++i) got += static_cast<char>(console::getc(Timeout::none()));
    SIM_CHECK_EQ(source.resumes, 0);
    got += static_cast<char>(console::getc(Timeout::none()));
    SIM_CHECK_EQ(source.resumes, 1);
    SIM_CHECK_EQ(source.pos, 1023u + 511u);  // the ring full again
    got += drain();
    SIM_CHECK(!source.refused);
    SIM_CHECK(source.resumes >= 8);  // about 512 bytes each time
    SIM_CHECK_EQ(got, source.data);
    console::set_rx_source(nullptr, nullptr);
}

TEST(Console, FullRingKeepsThePushedSourceWaitingAndLosesNothing) {
    EXPECT_EQ(sim::run_isolated(full_ring_keeps_the_source_waiting_and_loses_nothing), 0);
}
TEST(Console, FullRingHoldsTheUartAndLosesNothing) {
    EXPECT_EQ(sim::run_isolated(full_ring_holds_the_uart_and_loses_nothing), 0);
}
TEST(Console, CtrlCIsInputAtThePrompt) {
    EXPECT_EQ(sim::run_isolated(ctrl_c_is_input_at_the_prompt), 0);
}
TEST(Console, CtrlCInterruptsACommand) {
    EXPECT_EQ(sim::run_isolated(ctrl_c_interrupts_a_command_and_drops_what_came_before), 0);
}
TEST(Console, CtrlCTypedAheadBeforeTheCommandStarts) {
    EXPECT_EQ(sim::run_isolated(ctrl_c_typed_ahead_before_arming), 0);
}
TEST(Console, NoCtrlCKeepsTypedAhead) {
    EXPECT_EQ(sim::run_isolated(no_ctrl_c_keeps_everything), 0);
}
TEST(Console, BlockedReaderSkipsDroppedBytes) {
    EXPECT_EQ(sim::run_isolated(blocked_reader_skips_dropped_bytes), 0);
}

}  // namespace
