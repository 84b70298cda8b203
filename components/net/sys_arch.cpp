// lwIP's OS port (lwIP doc/sys_arch.txt) on the Tern kernel, using only its
// public API (rtos/include/rtos/): semaphores, mutexes, mailboxes (message
// queues of pointers), threads and time. Objects live on the kernel heap,
// so `free` shows what the stack holds.
#include <new>

#include <rtos/clock.hpp>
#include <rtos/config.hpp>
#include <rtos/heap.hpp>
#include <rtos/kernel.h>
#include <rtos/message_queue.hpp>
#include <rtos/mutex.hpp>
#include <rtos/panic.hpp>
#include <rtos/semaphore.hpp>
#include <rtos/smp.hpp>
#include <rtos/spinlock.hpp>
#include <rtos/thread.hpp>

#if defined(CONFIG_VIRTIO_RNG)
#include "drivers/entropy/entropy.hpp"
#endif

extern "C" {
#include "lwip/sys.h"
}

struct tern_sem {
    rtos::Semaphore sem;
};
struct tern_mutex {
    rtos::Mutex mutex;
};
struct tern_mbox {
    rtos::MessageQueue queue;
    void* storage[];  // the queue's messages: one pointer each
};

namespace {

template <typename T>
void destroy(T* obj) {
    obj->~T();
    rtos::heap::free(obj);
}

// lwIP's timeouts are milliseconds, 0 meaning forever.
rtos::Timeout lwip_timeout(u32_t ms) {
    return ms == 0 ? rtos::Timeout::forever() : rtos::Timeout::ticks(rtos::clock::ms_to_ticks(ms));
}

// Milliseconds waited since `start` (ticks), as lwIP wants it back.
u32_t waited_ms(rtos::Tick start) {
    return static_cast<u32_t>(rtos::clock::ticks_to_ms(rtos::clock::ticks() - start));
}

// SYS_ARCH_PROTECT: lwIP's short critical sections (pbuf reference
// counts, memp pools, the netconn and timeout bookkeeping, tern_lwip_rand)
// from any thread on any CPU. One lock for the whole stack, level 1 of
// docs/smp.md's lock order (a subsystem lock): nothing but the kernel lock
// (a semaphore given) and the heap lock are taken inside it; lwIP frees a
// received buffer to its driver (RxLoan) only after it has dropped it.
// lwIP may nest it (doc/sys_arch.txt), so it is recursive per CPU: the CPU
// that holds it counts its depth. Interrupts stay masked on the holder, so
// the holder cannot move to another CPU or be preempted meanwhile.
rtos::SpinLock protect_lock;
unsigned protect_owner = ~0u;  // the CPU holding protect_lock; only it stores its own id
unsigned protect_depth = 0;    // protect_lock

}  // namespace

extern "C" {

void sys_init(void) {}

u32_t sys_now(void) { return static_cast<u32_t>(rtos::clock::now_ns() / 1000000u); }

sys_prot_t sys_arch_protect(void) {
    const sys_prot_t state = rtos_irq_save();
    const unsigned me = rtos::smp::cpu_id();
    // Equal to `me` only when this CPU stored it and still holds the lock.
    if (__atomic_load_n(&protect_owner, __ATOMIC_RELAXED) == me) {
        ++protect_depth;
        return state;
    }
    protect_lock.lock();
    __atomic_store_n(&protect_owner, me, __ATOMIC_RELAXED);
    protect_depth = 1;
    return state;
}

void sys_arch_unprotect(sys_prot_t pval) {
    if (--protect_depth == 0) {
        __atomic_store_n(&protect_owner, ~0u, __ATOMIC_RELAXED);
        protect_lock.unlock();
    }
    rtos_irq_restore(pval);
}

// ---- semaphores ----

err_t sys_sem_new(sys_sem_t* sem, u8_t count) {
    *sem = static_cast<tern_sem*>(rtos::heap::alloc(sizeof(tern_sem)));
    if (*sem == nullptr) return ERR_MEM;
    new (&(*sem)->sem) rtos::Semaphore(count);
    return ERR_OK;
}

void sys_sem_free(sys_sem_t* sem) {
    if (*sem) destroy(*sem);
    *sem = nullptr;
}

void sys_sem_signal(sys_sem_t* sem) { (*sem)->sem.give(); }

u32_t sys_arch_sem_wait(sys_sem_t* sem, u32_t timeout) {
    const rtos::Tick start = rtos::clock::ticks();
    if ((*sem)->sem.take(lwip_timeout(timeout)) != rtos::Status::ok) return SYS_ARCH_TIMEOUT;
    return waited_ms(start);
}

// ---- mutexes ----

err_t sys_mutex_new(sys_mutex_t* mutex) {
    *mutex = static_cast<tern_mutex*>(rtos::heap::alloc(sizeof(tern_mutex)));
    if (*mutex == nullptr) return ERR_MEM;
    new (&(*mutex)->mutex) rtos::Mutex();
    return ERR_OK;
}

void sys_mutex_free(sys_mutex_t* mutex) {
    if (*mutex) destroy(*mutex);
    *mutex = nullptr;
}

void sys_mutex_lock(sys_mutex_t* mutex) { (*mutex)->mutex.lock(); }
void sys_mutex_unlock(sys_mutex_t* mutex) { (*mutex)->mutex.unlock(); }

// ---- mailboxes ----

err_t sys_mbox_new(sys_mbox_t* mbox, int size) {
    if (size <= 0) size = 16;
    void* p = rtos::heap::alloc(sizeof(tern_mbox) + sizeof(void*) * static_cast<std::size_t>(size));
    if (p == nullptr) {
        *mbox = nullptr;
        return ERR_MEM;
    }
    auto* m = static_cast<tern_mbox*>(p);
    new (&m->queue) rtos::MessageQueue(m->storage, sizeof(void*), static_cast<std::size_t>(size));
    *mbox = m;
    return ERR_OK;
}

void sys_mbox_free(sys_mbox_t* mbox) {
    if (*mbox) destroy(*mbox);
    *mbox = nullptr;
}

void sys_mbox_post(sys_mbox_t* mbox, void* msg) { (*mbox)->queue.send(&msg); }

err_t sys_mbox_trypost(sys_mbox_t* mbox, void* msg) {
    return (*mbox)->queue.send(&msg, rtos::Timeout::none()) == rtos::Status::ok ? ERR_OK : ERR_MEM;
}

err_t sys_mbox_trypost_fromisr(sys_mbox_t* mbox, void* msg) {
    return (*mbox)->queue.send_from_isr(&msg) == rtos::Status::ok ? ERR_OK : ERR_MEM;
}

u32_t sys_arch_mbox_fetch(sys_mbox_t* mbox, void** msg, u32_t timeout) {
    const rtos::Tick start = rtos::clock::ticks();
    void* m = nullptr;
    if ((*mbox)->queue.receive(&m, lwip_timeout(timeout)) != rtos::Status::ok)
        return SYS_ARCH_TIMEOUT;
    if (msg) *msg = m;
    return waited_ms(start);
}

u32_t sys_arch_mbox_tryfetch(sys_mbox_t* mbox, void** msg) {
    void* m = nullptr;
    if ((*mbox)->queue.receive(&m, rtos::Timeout::none()) != rtos::Status::ok)
        return SYS_MBOX_EMPTY;
    if (msg) *msg = m;
    return 0;
}

// ---- threads ----

sys_thread_t sys_thread_new(const char* name, lwip_thread_fn thread, void* arg, int stacksize,
                            int prio) {
    rtos::Thread* t = rtos::Thread::create({.name = name, .priority = static_cast<unsigned>(prio)},
                                           thread, arg, static_cast<std::size_t>(stacksize), true);
    if (t == nullptr) rtos::panic("lwip: cannot create thread '%s'", name);
    return reinterpret_cast<sys_thread_t>(t);
}

// ---- platform (arch/cc.h) ----

void tern_lwip_assert(const char* msg, const char* file, int line) {
    rtos::panic("lwip assertion \"%s\" failed (%s:%d)", msg, file, line);
}

// lwIP wants random numbers for ports, TCP sequence numbers and DHCP
// transaction ids: from the entropy device when there is one, else a
// xorshift generator seeded from the free-running counter. The device
// answers in microseconds, but QEMU's backend can lag by many milliseconds
// on a loaded host: the wait is a second, so a slow answer is still used
// (a timed-out read would fall back and leave its bytes to the next caller).
uint32_t tern_lwip_rand(void) {
#if defined(CONFIG_VIRTIO_RNG)
    if (rtos::entropy::available()) {
        uint32_t r;
        if (rtos::entropy::read(&r, sizeof(r),
                                rtos::Timeout::ticks(rtos::clock::ms_to_ticks(1000))) ==
            static_cast<long>(sizeof(r)))
            return r;
    }
#endif
    static uint64_t state = 0;
    sys_prot_t p = sys_arch_protect();
    if (state == 0) state = rtos_time_ns() * 0x9e3779b97f4a7c15ull | 1;
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    const uint32_t r = static_cast<uint32_t>(state >> 32);
    sys_arch_unprotect(p);
    return r;
}

}  // extern "C"

// ---- lwIP's heap (lwipopts.h: MEM_LIBC_MALLOC) ----

extern "C" void* tern_lwip_malloc(unsigned long size) { return rtos::heap::alloc(size); }
extern "C" void tern_lwip_free(void* p) { rtos::heap::free(p); }
extern "C" void* tern_lwip_calloc(unsigned long n, unsigned long size) {
    if (size != 0 && n > ~0ul / size) return nullptr;
    return rtos::heap::alloc_aligned(n * size, 16, true);
}
