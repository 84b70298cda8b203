// Thread life cycle: states, join, heap threads freed on join, detached
// threads reaped, static threads started again.
#include <rtos/semaphore.hpp>

#include "ktest/ktest.hpp"
#include "kernel/scheduler.hpp"

using namespace rtos;

namespace {

// How many times the kernel's thread list holds t.
unsigned registrations(Thread* t) {
    IrqLock lock;
    unsigned n = 0;
    kernel::for_each_thread([&](Thread* x) { n += x == t; });
    return n;
}

}  // namespace

KTEST(thread_states_through_a_life) {
    static StaticThread<4096> t;
    struct Ctx {
        Semaphore go, go2;
        volatile unsigned runs = 0;
    } ctx;
    auto entry = [](void* a) {
        auto* c = static_cast<Ctx*>(a);
        c->go.take();
        Thread::sleep(5);
        c->go2.take();
    };
    const Thread::Params params{.name = "life", .priority = kt::prio(+1)};
    KT_ASSERT_EQ(t.init({.name = "draft", .priority = kt::prio(+1)}, entry, &ctx), Status::ok);
    KT_EXPECT_EQ(t.state(), ThreadState::created);
    KT_ASSERT_EQ(t.init(params, entry, &ctx), Status::ok);  // not started: may be set up again
    KT_EXPECT_STREQ(t.name(), "life");
    KT_EXPECT_EQ(registrations(&t), 1u);
    KT_EXPECT_EQ(t.start(), Status::ok);
    KT_EXPECT_EQ(t.state(), ThreadState::ready);  // below us: has not run
    KT_EXPECT_EQ(t.start(), Status::busy);
    KT_EXPECT_EQ(t.init(params, entry, &ctx), Status::busy);
    Thread::sleep(1);
    KT_EXPECT_EQ(t.state(), ThreadState::blocked);
    ctx.go.give();
    Thread::sleep(1);
    KT_EXPECT_EQ(t.state(), ThreadState::sleeping);
    KT_EXPECT_EQ(t.suspend(), Status::ok);
    KT_EXPECT_EQ(t.state(), ThreadState::sleeping);  // takes effect when the sleep ends
    Thread::sleep(6);
    KT_EXPECT_EQ(t.state(), ThreadState::suspended);
    KT_EXPECT_EQ(t.resume(), Status::ok);
    Thread::sleep(1);
    KT_EXPECT_EQ(t.state(), ThreadState::blocked);
    KT_EXPECT_EQ(t.join(Timeout::ticks(2)), Status::timeout);
    KT_EXPECT_EQ(Thread::current()->join(), Status::invalid);  // not ourselves
    KT_EXPECT_EQ(t.set_priority(CONFIG_RTOS_PRIORITY_LEVELS), Status::invalid);
    ctx.go2.give();
    KT_EXPECT_EQ(t.join(), Status::ok);
    KT_EXPECT_EQ(t.state(), ThreadState::exited);
    KT_EXPECT_EQ(registrations(&t), 0u);

    // A static thread runs again after join...
    auto count = [](void* a) {
        auto* c = static_cast<Ctx*>(a);
        c->runs = c->runs + 1;
    };
    for (int i = 0; i < 2; ++i) {
        KT_ASSERT_EQ(t.init(params, count, &ctx), Status::ok);
        KT_EXPECT_EQ(t.start(), Status::ok);
        KT_EXPECT_EQ(t.join(), Status::ok);
    }
    KT_EXPECT_EQ(ctx.runs, 2u);
    // ...and after it ended without a join: still registered once.
    KT_ASSERT_EQ(t.init(params, count, &ctx), Status::ok);
    KT_EXPECT_EQ(t.start(), Status::ok);
    KT_ASSERT(kt::wait_for([&] { return t.state() == ThreadState::exited; }));
    KT_ASSERT_EQ(t.init(params, count, &ctx), Status::ok);
    KT_EXPECT_EQ(registrations(&t), 1u);
    KT_EXPECT_EQ(t.start(), Status::ok);
    KT_EXPECT_EQ(t.join(), Status::ok);
    KT_EXPECT_EQ(ctx.runs, 4u);
    KT_EXPECT_EQ(registrations(&t), 0u);
}

// Thread::create takes the control block and stack from the heap; join
// gives them back.
KTEST(heap_thread_freed_on_join) {
    kt::HeapMark mark;
    unsigned threads = kt::thread_count();
    volatile bool ran = false;
    Thread* t = Thread::create(
        {.name = "child", .priority = kt::prio(+1)},
        [](void* a) { *static_cast<volatile bool*>(a) = true; }, const_cast<bool*>(&ran), 4096);
    KT_ASSERT(t != nullptr);
    KT_EXPECT_EQ(kt::thread_count(), threads + 1);
    KT_EXPECT(!mark.same());
    KT_EXPECT(heap::stats().used >= mark.at.used + 4096);
    KT_EXPECT_EQ(t->join(), Status::ok);
    KT_EXPECT(ran);
    KT_EXPECT(mark.same());
    KT_EXPECT_EQ(kt::thread_count(), threads);
    // Absurd requests fail cleanly.
    KT_EXPECT_EQ(
        Thread::create(
            {.name = "big", .priority = kt::prio(+1)}, [](void*) {}, nullptr, std::size_t{1} << 40),
        nullptr);
    KT_EXPECT_EQ(
        Thread::create(
            {.name = "bad", .priority = CONFIG_RTOS_PRIORITY_LEVELS}, [](void*) {}, nullptr, 4096),
        nullptr);
    KT_EXPECT(mark.same());
}

// A detached heap thread cannot be joined; when it ends, the idle thread
// frees it.
KTEST(detached_thread_is_reaped) {
    kt::HeapMark mark;
    unsigned threads = kt::thread_count();
    Semaphore go;
    Thread* t = Thread::create(
        {.name = "detached", .priority = kt::prio(+1)},
        [](void* a) { static_cast<Semaphore*>(a)->take(); }, &go, 4096,
        /*detached=*/true);
    KT_ASSERT(t != nullptr);
    KT_EXPECT_EQ(t->join(Timeout::none()), Status::invalid);
    KT_EXPECT_EQ(kt::thread_count(), threads + 1);
    go.give();  // it ends once we block
    KT_EXPECT(kt::wait_for([&] { return mark.same() && kt::thread_count() == threads; }));
}
