/* The C API (rtos/kernel.h), compiled as C: threads, semaphores, queues,
 * mutexes, event flags, timers and the heap through opaque handles. */
#include <rtos/kernel.h>

#include "ktest/ktest.h"

struct pipe_ctx {
    rtos_queue_t* queue;
    rtos_sem_t* done;
    uint32_t sum;
    uint32_t count;
};

static void consumer(void* arg) {
    struct pipe_ctx* c = arg;
    uint32_t v;
    while (rtos_queue_receive(c->queue, &v, RTOS_WAIT_FOREVER) == RTOS_OK && v != 0) {
        c->sum += v;
        c->count++;
    }
    rtos_sem_give(c->done);
}

static void timer_fired(void* arg) { ++*(volatile unsigned*)arg; }

KTEST_C(c_api_thread_semaphore_queue_join) {
    struct pipe_ctx c = {0};
    c.queue = rtos_queue_create(sizeof(uint32_t), 4);
    c.done = rtos_sem_create(0, 1);
    KT_C_ASSERT(c.queue != NULL && c.done != NULL);
    rtos_thread_t* t =
        rtos_thread_create("c-consumer", KTEST_BASE_PRIORITY + 1, 4096, consumer, &c);
    KT_C_ASSERT(t != NULL);
    for (uint32_t i = 1; i <= 100; ++i)
        KT_C_EXPECT_EQ(rtos_queue_send(c.queue, &i, RTOS_WAIT_FOREVER), RTOS_OK);
    uint32_t stop = 0;
    KT_C_EXPECT_EQ(rtos_queue_send(c.queue, &stop, RTOS_WAIT_FOREVER), RTOS_OK);
    KT_C_EXPECT_EQ(rtos_sem_take(c.done, 1000), RTOS_OK);
    KT_C_EXPECT_EQ(rtos_thread_join(t, RTOS_WAIT_FOREVER), RTOS_OK);
    KT_C_EXPECT_EQ(c.count, 100);
    KT_C_EXPECT_EQ(c.sum, 5050);

    /* Timeouts and no-wait answers. */
    uint32_t v;
    KT_C_EXPECT_EQ(rtos_sem_take(c.done, RTOS_NO_WAIT), RTOS_TIMEOUT);
    rtos_tick_t t0 = rtos_tick_get();
    KT_C_EXPECT_EQ(rtos_queue_receive(c.queue, &v, 3), RTOS_TIMEOUT);
    rtos_tick_t took = rtos_tick_get() - t0;
    KT_C_EXPECT(took >= 3 && took <= 4 + ktest_lateness());
    for (uint32_t i = 0; i < 4; ++i)
        KT_C_EXPECT_EQ(rtos_queue_send(c.queue, &i, RTOS_NO_WAIT), RTOS_OK);
    KT_C_EXPECT_EQ(rtos_queue_send(c.queue, &v, RTOS_NO_WAIT), RTOS_OVERFLOW);
    KT_C_EXPECT_EQ(rtos_queue_count(c.queue), 4);
    uint32_t urgent = 42;
    KT_C_EXPECT_EQ(rtos_queue_receive(c.queue, &v, RTOS_NO_WAIT), RTOS_OK);
    KT_C_EXPECT_EQ(rtos_queue_send_urgent(c.queue, &urgent, RTOS_NO_WAIT), RTOS_OK);
    KT_C_EXPECT_EQ(rtos_queue_receive(c.queue, &v, RTOS_NO_WAIT), RTOS_OK);
    KT_C_EXPECT_EQ(v, 42);
    KT_C_EXPECT_EQ(rtos_sem_give(c.done), RTOS_OK);
    KT_C_EXPECT_EQ(rtos_sem_give(c.done), RTOS_OVERFLOW);
    rtos_queue_delete(c.queue);
    rtos_sem_delete(c.done);
    KT_C_EXPECT(rtos_sem_create(2, 1) == NULL);
    KT_C_EXPECT(rtos_queue_create(0, 4) == NULL);
    KT_C_EXPECT(rtos_queue_create((size_t)1 << 62, 8) == NULL); /* size would wrap */
    KT_C_EXPECT(rtos_thread_create("bad", 100000, 4096, consumer, NULL) == NULL);
    KT_C_EXPECT_EQ(rtos_thread_join(NULL, 1), RTOS_INVALID);
}

KTEST_C(c_api_mutex_event_timer_heap) {
    rtos_mutex_t* m = rtos_mutex_create();
    KT_C_ASSERT(m != NULL);
    KT_C_EXPECT_EQ(rtos_mutex_lock(m, RTOS_WAIT_FOREVER), RTOS_OK);
    KT_C_EXPECT_EQ(rtos_mutex_lock(m, RTOS_NO_WAIT), RTOS_OK); /* recursive */
    KT_C_EXPECT_EQ(rtos_mutex_unlock(m), RTOS_OK);
    KT_C_EXPECT_EQ(rtos_mutex_unlock(m), RTOS_OK);
    KT_C_EXPECT_EQ(rtos_mutex_unlock(m), RTOS_NOT_OWNER);
    rtos_mutex_delete(m);

    rtos_event_t* e = rtos_event_create();
    KT_C_ASSERT(e != NULL);
    uint32_t out = 0;
    rtos_event_set(e, 0x6);
    KT_C_EXPECT_EQ(rtos_event_wait(e, 0x7, RTOS_EVENT_ALL, RTOS_NO_WAIT, &out), RTOS_TIMEOUT);
    KT_C_EXPECT_EQ(rtos_event_wait(e, 0x2, RTOS_EVENT_ANY | RTOS_EVENT_CLEAR, 5, &out), RTOS_OK);
    KT_C_EXPECT_EQ(out, 0x6);
    KT_C_EXPECT_EQ(rtos_event_wait(e, 0x2, RTOS_EVENT_ANY, RTOS_NO_WAIT, &out), RTOS_TIMEOUT);
    rtos_event_clear(e, 0x4);
    KT_C_EXPECT_EQ(rtos_event_wait(e, 0x4, RTOS_EVENT_ANY, 2, &out), RTOS_TIMEOUT);
    rtos_event_delete(e);

    volatile unsigned fired = 0;
    rtos_timer_t* tm = rtos_timer_create(timer_fired, (void*)&fired);
    KT_C_ASSERT(tm != NULL);
    rtos_tick_t start = rtos_tick_get();
    KT_C_EXPECT_EQ(rtos_timer_start(tm, 2, 1), RTOS_OK);
    rtos_sleep(2 * 5 + 1);
    /* On the host's clock a late CPU may not have run the fifth yet. */
    for (unsigned long i = 0; fired < 5 && i < ktest_lateness(); ++i) rtos_sleep(1);
    rtos_timer_stop(tm);
    rtos_tick_t periods = (rtos_tick_get() - start) / 2;
    KT_C_EXPECT(fired == 5 || fired == 6 || (ktest_lateness() && fired > 6 && fired <= periods));
    KT_C_EXPECT_EQ(rtos_timer_start(tm, 0, 0), RTOS_INVALID);
    rtos_timer_delete(tm);

    unsigned char* p = rtos_calloc(10, 100);
    KT_C_ASSERT(p != NULL);
    int zero = 1;
    for (int i = 0; i < 1000; ++i) zero &= p[i] == 0;
    KT_C_EXPECT(zero);
    rtos_free(p);
    KT_C_EXPECT(rtos_calloc((size_t)-1 / 2, 4) == NULL);
    void* q = rtos_malloc(64);
    KT_C_EXPECT(q != NULL && ((uintptr_t)q & 15) == 0);
    rtos_free(q);
    KT_C_EXPECT_EQ(rtos_ms_to_ticks(1000), rtos_tick_hz());
    KT_C_EXPECT(rtos_thread_self() != NULL);
}
