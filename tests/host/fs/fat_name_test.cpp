#include <gtest/gtest.h>

#include <string>

#include "fs/fat/fat_name.hpp"

using namespace rtos::fs::fat;

namespace {

std::u16string u16(const char* s) {
    uint16_t buf[kLongNameMax];
    const int n = utf8_to_utf16(s, buf, kLongNameMax);
    EXPECT_GE(n, 0) << s;
    return std::u16string(buf, buf + (n > 0 ? n : 0));
}

std::string sfn(const char* name, bool* exact = nullptr, bool* lossless = nullptr) {
    const std::u16string w = u16(name);
    uint8_t out[11];
    bool l;
    const bool e =
        sfn_basis(reinterpret_cast<const uint16_t*>(w.data()), static_cast<int>(w.size()), out, l);
    if (exact) *exact = e;
    if (lossless) *lossless = l;
    return std::string(out, out + 11);
}

}  // namespace

TEST(FatName, Utf8RoundTrip) {
    for (const char* s : {"hello.txt", "Caf\xc3\xa9 cr\xc3\xa8me", "\xe6\x97\xa5\xe6\x9c\xac",
                          "emoji \xf0\x9f\x98\x80 x"}) {
        const std::u16string w = u16(s);
        char back[768];
        ASSERT_TRUE(utf16_to_utf8(reinterpret_cast<const uint16_t*>(w.data()),
                                  static_cast<int>(w.size()), back, sizeof(back)));
        EXPECT_STREQ(back, s);
    }
    EXPECT_EQ(u16("\xf0\x9f\x98\x80").size(), 2u);  // a surrogate pair
    uint16_t buf[8];
    EXPECT_EQ(utf8_to_utf16("\xc0\x80", buf, 8), -1);      // overlong
    EXPECT_EQ(utf8_to_utf16("\xed\xa0\x80", buf, 8), -1);  // a surrogate
    EXPECT_EQ(utf8_to_utf16("\xff", buf, 8), -1);
    EXPECT_EQ(utf8_to_utf16("abc", buf, 2), -1);  // too long
    const uint16_t lone[] = {'a', 0xd800, 'b'};
    char out[16];
    ASSERT_TRUE(utf16_to_utf8(lone, 3, out, sizeof(out)));
    EXPECT_STREQ(out,
                 "a\xef\xbf\xbd"
                 "b");
    EXPECT_FALSE(utf16_to_utf8(lone, 3, out, 3));
}

TEST(FatName, ValidNames) {
    auto valid = [](const char* s) {
        const std::u16string w = u16(s);
        return valid_long_name(reinterpret_cast<const uint16_t*>(w.data()),
                               static_cast<int>(w.size()));
    };
    EXPECT_TRUE(valid("My Notes.txt"));
    EXPECT_TRUE(valid(".hidden"));
    EXPECT_FALSE(valid("."));
    EXPECT_FALSE(valid(".."));
    EXPECT_FALSE(valid("a*b"));
    EXPECT_FALSE(valid("a:b"));
    EXPECT_FALSE(valid("trailing."));
    EXPECT_FALSE(valid("trailing "));
    EXPECT_FALSE(valid_long_name(nullptr, 0));
}

TEST(FatName, ShortNameBasis) {
    bool exact, lossless;
    EXPECT_EQ(sfn("README.TXT", &exact, &lossless), "README  TXT");
    EXPECT_TRUE(exact);
    EXPECT_EQ(sfn("readme.txt", &exact, &lossless), "README  TXT");
    EXPECT_FALSE(exact);
    EXPECT_TRUE(lossless);
    EXPECT_EQ(sfn("My Notes.txt", &exact, &lossless), "MYNOTES TXT");
    EXPECT_FALSE(lossless);
    EXPECT_EQ(sfn("a.very.long.name.html", &exact, &lossless), "AVERYLONHTM");
    EXPECT_FALSE(lossless);
    EXPECT_EQ(sfn("caf\xc3\xa9+.c", &exact, &lossless), "CAF__   C  ");
    EXPECT_EQ(sfn(".profile", &exact, &lossless), "PROFILE    ");
    uint8_t basis[11], out[11];
    memcpy(basis, "LONGFILETXT", 11);
    sfn_with_tail(basis, 1, out);
    EXPECT_EQ(std::string(out, out + 11), "LONGFI~1TXT");
    sfn_with_tail(basis, 12345, out);
    EXPECT_EQ(std::string(out, out + 11), "LO~12345TXT");
    memcpy(basis, "AB      C  ", 11);
    sfn_with_tail(basis, 3, out);
    EXPECT_EQ(std::string(out, out + 11), "AB~3    C  ");
}

TEST(FatName, ChecksumAndDisplay) {
    // The long-name checksum of "README  TXT" (rotate right, add).
    uint8_t sum = 0;
    for (char c : std::string("README  TXT"))
        sum = static_cast<uint8_t>(((sum & 1) << 7) + (sum >> 1) + static_cast<uint8_t>(c));
    EXPECT_EQ(sfn_checksum(reinterpret_cast<const uint8_t*>("README  TXT")), sum);
    uint8_t e[32] = {};
    memcpy(e, "README  TXT", 11);
    uint16_t out[13];
    int n = sfn_to_utf16(e, out);
    EXPECT_EQ(std::u16string(out, out + n), u"README.TXT");
    e[12] = 0x18;  // NT lower-case base and extension
    n = sfn_to_utf16(e, out);
    EXPECT_EQ(std::u16string(out, out + n), u"readme.txt");
    memcpy(e, "NOEXT      ", 11);
    e[12] = 0;
    n = sfn_to_utf16(e, out);
    EXPECT_EQ(std::u16string(out, out + n), u"NOEXT");
    EXPECT_TRUE(same_name(reinterpret_cast<const uint16_t*>(u"Caf\u00e9"), 4,
                          reinterpret_cast<const uint16_t*>(u"CAF\u00c9"), 4));
}
