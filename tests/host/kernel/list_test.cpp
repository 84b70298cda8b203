#include <gtest/gtest.h>

#include <rtos/list.hpp>

namespace {

struct Item {
    int value = 0;
    int key = 0;
    rtos::ListNode node;
};
using ItemList = rtos::List<Item, &Item::node>;

std::vector<int> values(const ItemList& l) {
    std::vector<int> v;
    l.for_each([&](Item* i) { v.push_back(i->value); });
    return v;
}

TEST(List, PushPopAndOrder) {
    Item a, b, c;
    a.value = 1, b.value = 2, c.value = 3;
    ItemList l;
    EXPECT_TRUE(l.empty());
    l.push_back(&a);
    l.push_back(&b);
    l.push_front(&c);
    EXPECT_EQ(values(l), (std::vector<int>{3, 1, 2}));
    EXPECT_EQ(l.size(), 3u);
    EXPECT_EQ(l.front(), &c);
    EXPECT_EQ(l.back(), &b);
    EXPECT_EQ(l.next(&c), &a);
    EXPECT_EQ(l.next(&b), nullptr);
    EXPECT_EQ(l.pop_front(), &c);
    ItemList::remove(&b);
    EXPECT_EQ(values(l), (std::vector<int>{1}));
    EXPECT_FALSE(b.node.linked());
    ItemList::remove(&b);  // removing twice is harmless
    EXPECT_EQ(l.size(), 1u);
}

TEST(List, SortedInsertIsStableAmongEquals) {
    Item items[6];
    int keys[] = {5, 1, 5, 3, 1, 9};
    ItemList l;
    for (int i = 0; i < 6; ++i) {
        items[i].value = i;
        items[i].key = keys[i];
        l.insert_sorted(&items[i], [](const Item* a, const Item* b) { return a->key < b->key; });
    }
    // keys: 1(i1) 1(i4) 3(i3) 5(i0) 5(i2) 9(i5): FIFO among equal keys.
    EXPECT_EQ(values(l), (std::vector<int>{1, 4, 3, 0, 2, 5}));
}

TEST(List, ForEachToleratesRemovalOfCurrent) {
    Item items[4];
    ItemList l;
    for (int i = 0; i < 4; ++i) items[i].value = i, l.push_back(&items[i]);
    l.for_each([](Item* i) {
        if (i->value % 2 == 0) ItemList::remove(i);
    });
    EXPECT_EQ(values(l), (std::vector<int>{1, 3}));
}

}  // namespace
