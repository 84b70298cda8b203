/* The kernel's C API: the same objects as the C++ API, for C applications
 * and C libraries (an lwIP port, for example). Objects are created on the
 * heap and referred to by opaque handles. Every blocking call takes a
 * timeout in ticks (RTOS_NO_WAIT, RTOS_WAIT_FOREVER or a count) and
 * returns RTOS_OK, RTOS_TIMEOUT or RTOS_DELETED; other negative values are
 * errors (see rtos_status_t). Functions ending in _from_isr may be called
 * from interrupt handlers; no other function may. */
#ifndef RTOS_KERNEL_H
#define RTOS_KERNEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    RTOS_OK = 0,
    RTOS_TIMEOUT = -1,
    RTOS_DELETED = -2,
    RTOS_INVALID = -3,
    RTOS_NO_MEMORY = -4,
    RTOS_NOT_OWNER = -5,
    RTOS_OVERFLOW = -6,
} rtos_status_t;

typedef uint64_t rtos_tick_t;
#define RTOS_NO_WAIT ((rtos_tick_t)0)
#define RTOS_WAIT_FOREVER (~(rtos_tick_t)0)

typedef struct rtos_thread rtos_thread_t;
typedef struct rtos_sem rtos_sem_t;
typedef struct rtos_mutex rtos_mutex_t;
typedef struct rtos_queue rtos_queue_t;
typedef struct rtos_event rtos_event_t;
typedef struct rtos_timer rtos_timer_t;

/* Time */
rtos_tick_t rtos_tick_get(void);
uint32_t rtos_tick_hz(void);
uint64_t rtos_time_ns(void);
rtos_tick_t rtos_ms_to_ticks(uint32_t ms);
void rtos_sleep(rtos_tick_t ticks);
void rtos_sleep_ms(uint32_t ms);

/* Threads (priority 0 is the highest) */
rtos_thread_t* rtos_thread_create(const char* name, unsigned priority, size_t stack_size,
                                  void (*entry)(void* arg), void* arg);
/* Waits for the thread to end and frees it. */
int rtos_thread_join(rtos_thread_t* thread, rtos_tick_t timeout);
rtos_thread_t* rtos_thread_self(void);
void rtos_thread_yield(void);
void rtos_thread_exit(void);
int rtos_thread_set_priority(rtos_thread_t* thread, unsigned priority);

/* Critical sections: the returned state goes back to rtos_irq_restore. */
unsigned long rtos_irq_save(void);
void rtos_irq_restore(unsigned long state);
void rtos_sched_lock(void);
void rtos_sched_unlock(void);

/* Counting semaphores (max_count 1: binary) */
rtos_sem_t* rtos_sem_create(uint32_t initial, uint32_t max_count);
void rtos_sem_delete(rtos_sem_t* sem);
int rtos_sem_take(rtos_sem_t* sem, rtos_tick_t timeout);
int rtos_sem_give(rtos_sem_t* sem);
int rtos_sem_give_from_isr(rtos_sem_t* sem);

/* Recursive mutexes with priority inheritance */
rtos_mutex_t* rtos_mutex_create(void);
void rtos_mutex_delete(rtos_mutex_t* mutex);
int rtos_mutex_lock(rtos_mutex_t* mutex, rtos_tick_t timeout);
int rtos_mutex_unlock(rtos_mutex_t* mutex);

/* Message queues of fixed-size messages */
rtos_queue_t* rtos_queue_create(size_t msg_size, size_t capacity);
void rtos_queue_delete(rtos_queue_t* queue);
int rtos_queue_send(rtos_queue_t* queue, const void* msg, rtos_tick_t timeout);
int rtos_queue_send_urgent(rtos_queue_t* queue, const void* msg, rtos_tick_t timeout);
int rtos_queue_receive(rtos_queue_t* queue, void* msg, rtos_tick_t timeout);
int rtos_queue_send_from_isr(rtos_queue_t* queue, const void* msg);
size_t rtos_queue_count(rtos_queue_t* queue);

/* Event flags */
#define RTOS_EVENT_ANY 0u
#define RTOS_EVENT_ALL 1u
#define RTOS_EVENT_CLEAR 2u
rtos_event_t* rtos_event_create(void);
void rtos_event_delete(rtos_event_t* ev);
int rtos_event_wait(rtos_event_t* ev, uint32_t mask, unsigned mode, rtos_tick_t timeout,
                    uint32_t* out);
void rtos_event_set(rtos_event_t* ev, uint32_t bits);
void rtos_event_set_from_isr(rtos_event_t* ev, uint32_t bits);
void rtos_event_clear(rtos_event_t* ev, uint32_t bits);

/* Software timers (callbacks run in the timer thread) */
rtos_timer_t* rtos_timer_create(void (*callback)(void* arg), void* arg);
void rtos_timer_delete(rtos_timer_t* timer);
int rtos_timer_start(rtos_timer_t* timer, rtos_tick_t delay, int periodic);
void rtos_timer_stop(rtos_timer_t* timer);

/* Heap */
void* rtos_malloc(size_t size);
void* rtos_calloc(size_t count, size_t size);
void rtos_free(void* p);

/* Console */
int rtos_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

#ifdef __cplusplus
}
#endif

#endif /* RTOS_KERNEL_H */
