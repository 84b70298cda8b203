#include <rtos/critical.hpp>
#include <rtos/mutex.hpp>
#include <rtos/panic.hpp>
#include <rtos/thread.hpp>

#include "scheduler.hpp"

namespace rtos {

namespace {

Mutex* mutex_of(ListNode* node) { return node_owner<Mutex, &Mutex::owner_node>(node); }

template <typename F>
void for_each_owned(Thread* t, F f) {
    for (ListNode* p = t->owned_mutexes.next; p != &t->owned_mutexes;) {
        ListNode* n = p->next;
        f(mutex_of(p));
        p = n;
    }
}

// A bound on chain walks: a cycle (deadlock between mutexes) must not hang
// the kernel inside a critical section.
constexpr unsigned kMaxChain = 64;

}  // namespace

Mutex::~Mutex() { destroy(); }

void Mutex::update_inherited_priority(Thread* t) {
    for (unsigned hop = 0; t && hop < kMaxChain; ++hop) {
        unsigned best = t->base_prio;
        for_each_owned(t, [&](Mutex* m) {
            if (Thread* w = m->waiters_.front(); w && w->prio < best) best = w->prio;
        });
        if (best == t->prio) return;
        kernel::set_effective_priority(t, best);
        t = t->blocked_on_mutex ? t->blocked_on_mutex->owner_ : nullptr;
    }
}

Status Mutex::lock(Timeout timeout) {
#if defined(CONFIG_RTOS_SMP)
    kernel::KernelLock lock;
    // Under the lock: the depth read is this CPU's (in_isr() would mask again).
    if (arch::this_cpu().trap_depth != 0) return Status::invalid;
#else
    if (in_isr()) return Status::invalid;
    kernel::KernelLock lock;
#endif
    Thread* self = kernel::current();
    if (owner_ == self) {
        ++depth_;
        return Status::ok;
    }
    if (!owner_) {
        owner_ = self;
        depth_ = 1;
        owner_node.insert_before(&self->owned_mutexes);
        return Status::ok;
    }
    if (timeout.is_none()) return Status::timeout;
    self->blocked_on_mutex = this;
    // Lend our priority down the chain of owners.
    Thread* t = owner_;
    for (unsigned hop = 0; t && hop < kMaxChain && t->prio > self->prio; ++hop) {
        kernel::set_effective_priority(t, self->prio);
        t = t->blocked_on_mutex ? t->blocked_on_mutex->owner_ : nullptr;
    }
    Status s = kernel::block_current(&waiters_, timeout);
    self->blocked_on_mutex = nullptr;
    if (s != Status::ok) {
        // We no longer wait: the owner (and its chain) may drop back.
        if (owner_) update_inherited_priority(owner_);
        return s;
    }
    // hand_over() made us the owner.
    return Status::ok;
}

void Mutex::hand_over() {
    Thread* next = waiters_.front();
    if (!next) {
        owner_ = nullptr;
        depth_ = 0;
        return;
    }
    owner_ = next;
    depth_ = 1;
    owner_node.insert_before(&next->owned_mutexes);
    next->blocked_on_mutex = nullptr;
    kernel::wake(next, Status::ok);
    // The new owner inherits from the waiters still queued.
    update_inherited_priority(next);
}

// Both unlocks: inline in each (the uncontended unlock stays call-free).
[[gnu::always_inline]] inline Status Mutex::unlock_body() {
    Thread* self = kernel::current();
    if (owner_ != self) return Status::not_owner;
    if (--depth_ > 0) return Status::ok;
    owner_node.unlink();
    // Fast path: nobody waits and nothing was lent, so there is nobody to
    // hand over to and no priority to give back.
    if (waiters_.empty() && self->prio == self->base_prio) {
        owner_ = nullptr;
        return Status::ok;
    }
    update_inherited_priority(self);
    hand_over();
    kernel::reschedule();
    return Status::ok;
}

Status Mutex::unlock() {
#if defined(CONFIG_RTOS_SMP)
    kernel::KernelLock lock;
    if (arch::this_cpu().trap_depth != 0) return Status::invalid;
#else
    if (in_isr()) return Status::invalid;
    kernel::KernelLock lock;
#endif
    return unlock_body();
}

Status Mutex::unlock_locked() { return unlock_body(); }

void Mutex::destroy() {
    kernel::KernelLock lock;
    if (owner_) {
        owner_node.unlink();
        Thread* old = owner_;
        owner_ = nullptr;
        depth_ = 0;
        update_inherited_priority(old);
    }
    waiters_.for_each([](Thread* t) { t->blocked_on_mutex = nullptr; });
    if (waiters_.wake_all(Status::deleted)) kernel::reschedule();
}

void Mutex::release_all_owned_by(Thread* t) {
    for_each_owned(t, [&](Mutex* m) {
        m->owner_node.unlink();
        m->hand_over();
    });
    kernel::set_effective_priority(t, t->base_prio);
}

}  // namespace rtos
