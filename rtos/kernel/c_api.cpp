// The C API (rtos/kernel.h): thin wrappers over the C++ objects.
#include <rtos/kernel.h>

#include <new>

#include <rtos/clock.hpp>
#include <rtos/critical.hpp>
#include <rtos/event_flags.hpp>
#include <rtos/heap.hpp>
#include <rtos/message_queue.hpp>
#include <rtos/mutex.hpp>
#include <rtos/printk.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/string.hpp>
#include <rtos/thread.hpp>
#include <rtos/timer.hpp>

#include "scheduler.hpp"

using namespace rtos;

struct rtos_sem : Semaphore {
    rtos_sem(uint32_t i, uint32_t m) : Semaphore(i, m) {}
};
struct rtos_mutex : Mutex {};
struct rtos_event : EventFlags {};
struct rtos_queue : MessageQueue {
    rtos_queue(void* storage, size_t size, size_t cap) : MessageQueue(storage, size, cap) {}
};
struct rtos_timer : Timer {
    rtos_timer(void (*cb)(void*), void* a)
        : Timer(
              [](Timer& t, void*) {
                  auto& self = static_cast<rtos_timer&>(t);
                  self.fn(self.user);
              },
              nullptr),
          fn(cb),
          user(a) {}
    void (*fn)(void*);
    void* user;
};

namespace {

Timeout to_timeout(rtos_tick_t t) {
    return t == RTOS_WAIT_FOREVER ? Timeout::forever() : Timeout::ticks(t);
}
int code(Status s) {
    switch (s) {
    case Status::ok: return RTOS_OK;
    case Status::timeout: return RTOS_TIMEOUT;
    case Status::deleted: return RTOS_DELETED;
    case Status::no_memory: return RTOS_NO_MEMORY;
    case Status::not_owner: return RTOS_NOT_OWNER;
    case Status::overflow: return RTOS_OVERFLOW;
    default: return RTOS_INVALID;
    }
}
template <typename T, typename... A>
T* make(A... args) {
    void* m = heap::alloc(sizeof(T));
    return m ? new (m) T(args...) : nullptr;
}
template <typename T>
void destroy(T* p) {
    if (!p) return;
    p->~T();
    heap::free(p);
}
Thread* as_thread(rtos_thread_t* t) { return reinterpret_cast<Thread*>(t); }

}  // namespace

extern "C" {

rtos_tick_t rtos_tick_get(void) { return clock::ticks(); }
uint32_t rtos_tick_hz(void) { return clock::tick_hz(); }
uint64_t rtos_time_ns(void) { return clock::now_ns(); }
rtos_tick_t rtos_ms_to_ticks(uint32_t ms) { return clock::ms_to_ticks(ms); }
void rtos_sleep(rtos_tick_t ticks) { Thread::sleep(ticks); }
void rtos_sleep_ms(uint32_t ms) { Thread::sleep(clock::ms_to_ticks(ms)); }

rtos_thread_t* rtos_thread_create(const char* name, unsigned priority, size_t stack_size,
                                  void (*entry)(void*), void* arg) {
    Thread* t = Thread::create({.name = name, .priority = priority}, entry, arg, stack_size);
    return reinterpret_cast<rtos_thread_t*>(t);
}
int rtos_thread_join(rtos_thread_t* t, rtos_tick_t timeout) {
    return t ? code(as_thread(t)->join(to_timeout(timeout))) : RTOS_INVALID;
}
rtos_thread_t* rtos_thread_self(void) {
    return reinterpret_cast<rtos_thread_t*>(Thread::current());
}
void rtos_thread_yield(void) { Thread::yield(); }
void rtos_thread_exit(void) { Thread::exit(); }
int rtos_thread_set_priority(rtos_thread_t* t, unsigned p) {
    return t ? code(as_thread(t)->set_priority(p)) : RTOS_INVALID;
}

unsigned long rtos_irq_save(void) { return arch::irq_save(); }
void rtos_irq_restore(unsigned long s) { arch::irq_restore(s); }
void rtos_sched_lock(void) { kernel::scheduler_lock(); }
void rtos_sched_unlock(void) { kernel::scheduler_unlock(); }

rtos_sem_t* rtos_sem_create(uint32_t initial, uint32_t max_count) {
    return max_count && initial <= max_count ? make<rtos_sem>(initial, max_count) : nullptr;
}
void rtos_sem_delete(rtos_sem_t* s) { destroy(s); }
int rtos_sem_take(rtos_sem_t* s, rtos_tick_t t) {
    return s ? code(s->take(to_timeout(t))) : RTOS_INVALID;
}
int rtos_sem_give(rtos_sem_t* s) { return s ? code(s->give()) : RTOS_INVALID; }
int rtos_sem_give_from_isr(rtos_sem_t* s) { return s ? code(s->give_from_isr()) : RTOS_INVALID; }

rtos_mutex_t* rtos_mutex_create(void) { return make<rtos_mutex>(); }
void rtos_mutex_delete(rtos_mutex_t* m) { destroy(m); }
int rtos_mutex_lock(rtos_mutex_t* m, rtos_tick_t t) {
    return m ? code(m->lock(to_timeout(t))) : RTOS_INVALID;
}
int rtos_mutex_unlock(rtos_mutex_t* m) { return m ? code(m->unlock()) : RTOS_INVALID; }

rtos_queue_t* rtos_queue_create(size_t msg_size, size_t capacity) {
    if (!msg_size || !capacity) return nullptr;
    // One allocation: the queue object, then its message storage.
    size_t head = (sizeof(rtos_queue) + 15) & ~size_t{15};
    if (capacity > (SIZE_MAX - head) / msg_size) return nullptr;  // the size would wrap
    void* m = heap::alloc(head + msg_size * capacity);
    if (!m) return nullptr;
    return new (m) rtos_queue(static_cast<uint8_t*>(m) + head, msg_size, capacity);
}
void rtos_queue_delete(rtos_queue_t* q) { destroy(q); }
int rtos_queue_send(rtos_queue_t* q, const void* m, rtos_tick_t t) {
    return q ? code(q->send(m, to_timeout(t))) : RTOS_INVALID;
}
int rtos_queue_send_urgent(rtos_queue_t* q, const void* m, rtos_tick_t t) {
    return q ? code(q->send_urgent(m, to_timeout(t))) : RTOS_INVALID;
}
int rtos_queue_receive(rtos_queue_t* q, void* m, rtos_tick_t t) {
    return q ? code(q->receive(m, to_timeout(t))) : RTOS_INVALID;
}
int rtos_queue_send_from_isr(rtos_queue_t* q, const void* m) {
    return q ? code(q->send_from_isr(m)) : RTOS_INVALID;
}
size_t rtos_queue_count(rtos_queue_t* q) { return q ? q->count() : 0; }

rtos_event_t* rtos_event_create(void) { return make<rtos_event>(); }
void rtos_event_delete(rtos_event_t* e) { destroy(e); }
int rtos_event_wait(rtos_event_t* e, uint32_t mask, unsigned mode, rtos_tick_t t, uint32_t* out) {
    return e ? code(e->wait(mask, mode, to_timeout(t), out)) : RTOS_INVALID;
}
void rtos_event_set(rtos_event_t* e, uint32_t bits) {
    if (e) e->set(bits);
}
void rtos_event_set_from_isr(rtos_event_t* e, uint32_t bits) {
    if (e) e->set_from_isr(bits);
}
void rtos_event_clear(rtos_event_t* e, uint32_t bits) {
    if (e) e->clear(bits);
}

rtos_timer_t* rtos_timer_create(void (*cb)(void*), void* arg) {
    return cb ? make<rtos_timer>(cb, arg) : nullptr;
}
void rtos_timer_delete(rtos_timer_t* t) { destroy(t); }
int rtos_timer_start(rtos_timer_t* t, rtos_tick_t delay, int periodic) {
    if (!t) return RTOS_INVALID;
    return code(periodic ? t->start_periodic(delay) : t->start_once(delay));
}
void rtos_timer_stop(rtos_timer_t* t) {
    if (t) t->stop();
}

void* rtos_malloc(size_t size) { return heap::alloc(size); }
void* rtos_calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return nullptr;
    return heap::alloc_aligned(count * size, 16, true);
}
void rtos_free(void* p) { heap::free(p); }

int rtos_printf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk(fmt, ap);
    va_end(ap);
    return n;
}

}  // extern "C"
