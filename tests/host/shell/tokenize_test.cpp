// The shell's argument splitting: blanks, double quotes anywhere in a word,
// backslash escapes, empty arguments, limits.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "shell/tokenize.hpp"

using rtos::shell::kTooMany;
using rtos::shell::kUnterminated;
using rtos::shell::tokenize;

namespace {

std::vector<std::string> split(const std::string& line, int max = 16, int* rc = nullptr) {
    std::vector<char> buf(line.begin(), line.end());
    buf.push_back('\0');
    char* argv[64];
    const int n = tokenize(buf.data(), argv, max);
    if (rc) *rc = n;
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back(argv[i]);
    return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST(Tokenize, Blanks) {
    EXPECT_EQ(split("ls -l /vda"), (V{"ls", "-l", "/vda"}));
    EXPECT_EQ(split("  a\t\tb  "), (V{"a", "b"}));
    EXPECT_EQ(split(""), V{});
    EXPECT_EQ(split("   "), V{});
}

TEST(Tokenize, Quotes) {
    EXPECT_EQ(split("cat \"/vda/My Notes.txt\""), (V{"cat", "/vda/My Notes.txt"}));
    EXPECT_EQ(split("cp \"/vda/a b\" \"/vdb/c  d\""), (V{"cp", "/vda/a b", "/vdb/c  d"}));
    EXPECT_EQ(split("cat /vda/\"My Notes\".txt"), (V{"cat", "/vda/My Notes.txt"}));
    EXPECT_EQ(split("a\"b c\"d e"), (V{"ab cd", "e"}));
    EXPECT_EQ(split("echo \"\" x"), (V{"echo", "", "x"}));
    EXPECT_EQ(split("echo \"\""), (V{"echo", ""}));
    EXPECT_EQ(split("\"one\"\"two\""), (V{"onetwo"}));
}

TEST(Tokenize, Backslashes) {
    EXPECT_EQ(split("echo \"say \\\"hi\\\"\""), (V{"echo", "say \"hi\""}));
    EXPECT_EQ(split("echo a\\ b"), (V{"echo", "a b"}));
    EXPECT_EQ(split("echo \"back\\\\slash\""), (V{"echo", "back\\slash"}));
    EXPECT_EQ(split("echo \"c:\\dir\""), (V{"echo", "c:\\dir"}));  // other escapes stay
    EXPECT_EQ(split("echo trailing\\"), (V{"echo", "trailing\\"}));
}

TEST(Tokenize, Errors) {
    int rc;
    split("cat \"/vda/open", 16, &rc);
    EXPECT_EQ(rc, kUnterminated);
    split("a b c", 2, &rc);
    EXPECT_EQ(rc, kTooMany);
    EXPECT_EQ(split("a b", 2), (V{"a", "b"}));
    EXPECT_EQ(split("a b ", 2), (V{"a", "b"}));
}
