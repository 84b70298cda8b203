// The shared helpers of pci.cpp: the bounded capability walk against
// well-formed and malformed lists, enable(), format_address().
#include <gtest/gtest.h>

#include <vector>

#include "fake_config.hpp"

namespace pci::test {
namespace {

struct Seen {
    std::vector<std::pair<int, int>> caps;  // id, offset
    int stop_after = -1;
};

bool record(void* ctx, std::uint8_t id, std::uint8_t off) {
    auto* s = static_cast<Seen*>(ctx);
    s->caps.emplace_back(id, off);
    return s->stop_after < 0 || int(s->caps.size()) < s->stop_after;
}

const Address kAt{0, 2, 0};

TEST(PciCapabilities, WalksAWellFormedList) {
    FakeConfig c(0x1af4, 0x1042);
    c.add_capability(0x40, cap::vendor);
    c.add_capability(0x98, cap::msix);
    c.add_capability(0x84, cap::vendor);
    Seen s;
    EXPECT_TRUE(for_each_capability(c, kAt, record, &s));
    EXPECT_EQ(s.caps, (std::vector<std::pair<int, int>>{{9, 0x40}, {0x11, 0x98}, {9, 0x84}}));
}

TEST(PciCapabilities, NoListWithoutTheStatusBit) {
    FakeConfig c(0x1af4, 0x1042);
    c.poke8(reg::capabilities, 0x40);  // pointer without status bit: ignored
    c.poke8(0x40, cap::vendor);
    Seen s;
    EXPECT_TRUE(for_each_capability(c, kAt, record, &s));
    EXPECT_TRUE(s.caps.empty());
}

TEST(PciCapabilities, VisitorStopsTheWalk) {
    FakeConfig c(0x1af4, 0x1042);
    c.add_capability(0x40, 1);
    c.add_capability(0x50, 2);
    Seen s;
    s.stop_after = 1;
    EXPECT_TRUE(for_each_capability(c, kAt, record, &s));
    EXPECT_EQ(s.caps.size(), 1u);
}

TEST(PciCapabilities, ALoopingListEnds) {
    FakeConfig c(0x1af4, 0x1042);
    c.add_capability(0x40, 1);
    c.add_capability(0x50, 2);
    c.poke8(0x51, 0x40);  // back to the first
    Seen s;
    EXPECT_FALSE(for_each_capability(c, kAt, record, &s));
    EXPECT_EQ(s.caps.size(), 48u);
}

TEST(PciCapabilities, ASelfLoopEnds) {
    FakeConfig c(0x1af4, 0x1042);
    c.add_capability(0xfc, 1);
    c.poke8(0xfd, 0xfc);
    Seen s;
    EXPECT_FALSE(for_each_capability(c, kAt, record, &s));
    EXPECT_EQ(s.caps.size(), 48u);
}

TEST(PciCapabilities, MisalignedPointerStops) {
    FakeConfig c(0x1af4, 0x1042);
    c.add_capability(0x40, 1);
    c.poke8(0x41, 0x43);
    Seen s;
    EXPECT_FALSE(for_each_capability(c, kAt, record, &s));
    EXPECT_EQ(s.caps.size(), 1u);
}

TEST(PciCapabilities, PointerIntoTheHeaderStops) {
    FakeConfig c(0x1af4, 0x1042);
    c.add_capability(0x40, 1);
    c.poke8(0x41, 0x10);
    Seen s;
    EXPECT_FALSE(for_each_capability(c, kAt, record, &s));
    EXPECT_EQ(s.caps.size(), 1u);
    FakeConfig d(0x1af4, 0x1042);
    d.add_capability(0x40, 1);
    d.poke8(reg::capabilities, 0x3c);
    Seen t;
    EXPECT_FALSE(for_each_capability(d, kAt, record, &t));
    EXPECT_TRUE(t.caps.empty());
}

TEST(PciCapabilities, LastDwordIsReadable) {
    // A capability in the last dword: its next pointer at 0xfd stays inside
    // the standard header's 256 bytes.
    FakeConfig c(0x1af4, 0x1042);
    c.add_capability(0xfc, 7);
    Seen s;
    EXPECT_TRUE(for_each_capability(c, kAt, record, &s));
    EXPECT_EQ(s.caps, (std::vector<std::pair<int, int>>{{7, 0xfc}}));
}

TEST(PciHelpers, EnableSetsCommandBits) {
    FakeConfig c(0x1af4, 0x1042);
    c.poke16(reg::command, command::memory);
    Function f;
    f.config = &c;
    enable(f, command::bus_master);
    EXPECT_EQ(c.read16(reg::command), command::memory | command::bus_master);
    Function none;
    enable(none, command::memory);  // no config space: nothing happens
}

TEST(PciHelpers, FormatAddress) {
    char buf[8];
    EXPECT_STREQ(format_address({0, 2, 0}, buf, sizeof buf), "00:02.0");
    EXPECT_STREQ(format_address({0xff, 31, 7}, buf, sizeof buf), "ff:1f.7");
    char small[4];
    EXPECT_STREQ(format_address({0xff, 31, 7}, small, sizeof small), "ff:");
}

}  // namespace
}  // namespace pci::test
