#include <rtos/thread.hpp>
#include <rtos/wait_queue.hpp>

#include "scheduler.hpp"

namespace rtos {

Thread* WaitQueue::thread_of(ListNode* node) {
    return node_owner<Thread, &Thread::sched_node>(node);
}

Thread* WaitQueue::front() const { return empty() ? nullptr : thread_of(head_.next); }

void WaitQueue::insert(Thread* t) {
    for (ListNode* p = head_.next; p != &head_; p = p->next) {
        if (t->prio < thread_of(p)->prio) {
            t->sched_node.insert_before(p);
            return;
        }
    }
    t->sched_node.insert_before(&head_);
}

void WaitQueue::remove(Thread* t) { t->sched_node.unlink(); }

void WaitQueue::reposition(Thread* t) {
    remove(t);
    insert(t);
}

Thread* WaitQueue::wake_one(Status status) {
    Thread* t = front();
    if (t) kernel::wake(t, status);
    return t;
}

unsigned WaitQueue::wake_all(Status status) {
    unsigned n = 0;
    while (wake_one(status)) ++n;
    return n;
}

}  // namespace rtos
