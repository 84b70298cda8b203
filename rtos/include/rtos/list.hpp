// Intrusive circular doubly-linked list: the kernel's only container. Nodes
// live inside the objects they link (threads, timers, heap blocks), so the
// scheduler never allocates.
#pragma once

#include <cstddef>

namespace rtos {

struct ListNode {
    ListNode* prev = this;
    ListNode* next = this;

    constexpr ListNode() = default;
    ListNode(const ListNode&) = delete;
    ListNode& operator=(const ListNode&) = delete;

    bool linked() const { return next != this; }

    /// Unlinks the node from whatever list holds it (no-op when unlinked).
    void unlink() {
        prev->next = next;
        next->prev = prev;
        prev = next = this;
    }

    /// Inserts this node before `pos` (pos may be a list head: append).
    void insert_before(ListNode* pos) {
        prev = pos->prev;
        next = pos;
        pos->prev->next = this;
        pos->prev = this;
    }
};

/// The object that embeds `node` as its member `Node` (container_of).
template <typename T, ListNode T::*Node>
T* node_owner(const ListNode* node) {
    // Offset of the member inside T, computed on a dummy address (no T object
    // is touched; a non-null, aligned address keeps UBSan quiet).
    constexpr std::size_t kProbe = 4096;
    const auto offset =
        reinterpret_cast<std::size_t>(&(reinterpret_cast<T*>(kProbe)->*Node)) - kProbe;
    return reinterpret_cast<T*>(reinterpret_cast<char*>(const_cast<ListNode*>(node)) - offset);
}

/// A list of T linked through the member `Node`. The head is a sentinel.
template <typename T, ListNode T::*Node>
class List {
public:
    constexpr List() = default;
    List(const List&) = delete;
    List& operator=(const List&) = delete;

    bool empty() const { return !head_.linked(); }

    T* front() const { return empty() ? nullptr : owner(head_.next); }
    /// front() == item, for an item known to be in some list (cheaper).
    bool is_front(const T* item) const { return (item->*Node).prev == &head_; }
    T* back() const { return empty() ? nullptr : owner(head_.prev); }

    void push_back(T* item) { (item->*Node).insert_before(&head_); }
    void push_front(T* item) { (item->*Node).insert_before(head_.next); }
    /// Inserts item before `pos` (pos must be in this list).
    void insert_before(T* pos, T* item) { (item->*Node).insert_before(&(pos->*Node)); }
    static void remove(T* item) { (item->*Node).unlink(); }

    T* pop_front() {
        T* item = front();
        if (item) remove(item);
        return item;
    }

    /// Next element after item, or nullptr at the end.
    T* next(const T* item) const {
        const ListNode* n = (item->*Node).next;
        return n == &head_ ? nullptr : owner(n);
    }

    std::size_t size() const {
        std::size_t n = 0;
        for (const ListNode* p = head_.next; p != &head_; p = p->next) ++n;
        return n;
    }

    /// Inserts keeping the list sorted by `before(a, b)` (true: a goes first);
    /// equal elements keep insertion order (FIFO).
    template <typename Before>
    void insert_sorted(T* item, Before before) {
        for (ListNode* p = head_.next; p != &head_; p = p->next) {
            if (before(item, owner(p))) {
                (item->*Node).insert_before(p);
                return;
            }
        }
        push_back(item);
    }

    template <typename F>
    void for_each(F f) const {
        for (ListNode* p = head_.next; p != &head_;) {
            ListNode* n = p->next;  // f may unlink p
            f(owner(p));
            p = n;
        }
    }

private:
    static T* owner(const ListNode* n) { return node_owner<T, Node>(n); }

    mutable ListNode head_;
};

}  // namespace rtos
