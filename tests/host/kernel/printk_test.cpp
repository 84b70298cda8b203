// The public API lives in namespace rtos, printk included: an application
// outside that namespace (this file) names rtos::printk, which fails to
// compile were printk declared in the global namespace only. Its C linkage
// keeps it the one function C code (rtos/kernel.h) calls: here the host
// stand-in in tests/host/support/kernel_stubs.cpp, which prints to stdout.
#include <gtest/gtest.h>

#include <rtos/printk.hpp>

namespace app {
int report(int value) { return rtos::printk("value %d\n", value); }
}  // namespace app

TEST(Printk, IsInNamespaceRtos) {
    testing::internal::CaptureStdout();
    EXPECT_EQ(app::report(42), 9);
    EXPECT_EQ(testing::internal::GetCapturedStdout(), "value 42\n");
}
