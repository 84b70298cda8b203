/* The on-target kernel test suite: what C and C++ test files share.
 *
 * A test is a `struct ktest_case` placed in the linker section .rtos_ktests
 * (gathered between __ktests_start and __ktests_end by rtos.ld.S); the shell
 * command `ktest [filter]` runs them (runner.cpp). C++ tests use KTEST() and
 * the KT_* macros of ktest.hpp; C tests use KTEST_C() and KT_C_EXPECT() below.
 *
 * A failed check records "<message> (<file>:<line>)" for the test in progress
 * and the test goes on (KT_*_EXPECT) or returns (KT_*_ASSERT); the kernel never
 * stops. Checks may run in any thread the test started, and in its interrupt
 * hooks. */
#ifndef RTOS_KTEST_H
#define RTOS_KTEST_H

#ifdef __cplusplus
extern "C" {
#endif

struct ktest_case {
    const char* name;
    void (*fn)(void);
    const char* file;
    int line;
};

/* Records a failure of the running test (thread or interrupt context). */
void ktest_fail(const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Non-zero once the running test has failed. */
int ktest_failed(void);
/* The ticks a wake-up may come late (kt::lateness()): 0 on an exact clock. */
unsigned long ktest_lateness(void);

#define KTEST_BASE_PRIORITY 12 /* the test thread; tests place theirs around it */

#define KTEST_SECTION __attribute__((used, section(".rtos_ktests"), aligned(8)))

/* KTEST_C(name) { body }: a test written in C. */
#define KTEST_C(test_name)                                                  \
    static void ktest_fn_##test_name(void);                                 \
    static const struct ktest_case ktest_case_##test_name KTEST_SECTION = { \
        #test_name, ktest_fn_##test_name, __FILE__, __LINE__};              \
    static void ktest_fn_##test_name(void)

#define KT_C_EXPECT(cond)                                                  \
    do {                                                                   \
        if (!(cond)) ktest_fail(__FILE__, __LINE__, "expected %s", #cond); \
    } while (0)

#define KT_C_ASSERT(cond)                                         \
    do {                                                          \
        if (!(cond)) {                                            \
            ktest_fail(__FILE__, __LINE__, "expected %s", #cond); \
            return;                                               \
        }                                                         \
    } while (0)

/* Integers compared as long long; both values appear in the message. */
#define KT_C_EXPECT_EQ(a, b)                                                                     \
    do {                                                                                         \
        long long ka_ = (long long)(a), kb_ = (long long)(b);                                    \
        if (ka_ != kb_)                                                                          \
            ktest_fail(__FILE__, __LINE__, "expected %s == %s: %lld vs %lld", #a, #b, ka_, kb_); \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif /* RTOS_KTEST_H */
