#include <gtest/gtest.h>

#include <climits>
#include <cstdio>
#include <string>

#include <rtos/format.hpp>

namespace {

void sink(void* ctx, const char* s, std::size_t n) { static_cast<std::string*>(ctx)->append(s, n); }

std::string fmt(const char* f, ...) {
    std::string out;
    va_list ap;
    va_start(ap, f);
    int n = rtos::vformat(sink, &out, f, ap);
    va_end(ap);
    EXPECT_EQ(n, static_cast<int>(out.size()));
    return out;
}

// The kernel's formatter must agree with the C library on the subset it supports.
TEST(Format, MatchesLibcOnSupportedSubset) {
    char ref[256];
#define SAME(...)                                     \
    do {                                              \
        std::snprintf(ref, sizeof(ref), __VA_ARGS__); \
        EXPECT_EQ(fmt(__VA_ARGS__), ref);             \
    } while (0)
    SAME("plain text");
    SAME("%d %d %d", 0, -1, INT_MIN);
    SAME("%u %x %X %o", 4000000000u, 0xdeadbeefu, 0xabcu, 8u);
    SAME("%ld %lu %lx", LONG_MIN, ULONG_MAX, 0x123456789abcdefUL);
    SAME("%lld %llu %llx", LLONG_MIN, ULLONG_MAX, 0xfedcba9876543210ULL);
    SAME("%zu %zx", static_cast<size_t>(12345), static_cast<size_t>(0xfff));
    SAME("[%5d] [%-5d] [%05d] [%08x] [%-8s] [%8s]", 42, 42, 42, 0xbeefu, "ab", "cd");
    SAME("[%*d] [%c] [%%]", 6, -7, 'z');
    SAME("%s", "");
    SAME("[%05d]", -42);
    SAME("%#x %#llx %#o %#x [%#10x] [%-#10x] [%#010x]", 255u, 0x1234ULL, 8u, 0u, 0xabu, 0xabu,
         0xabu);
#undef SAME
}

TEST(Format, PointerAndNull) {
    EXPECT_EQ(fmt("%p", reinterpret_cast<void*>(0x1000)), "0x1000");
    EXPECT_EQ(fmt("%s", static_cast<const char*>(nullptr)), "(null)");
}

TEST(Format, UnknownConversionIsShownVerbatim) { EXPECT_EQ(fmt("%q"), "%q"); }

}  // namespace
