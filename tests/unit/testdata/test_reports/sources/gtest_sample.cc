#include <gtest/gtest.h>
TEST(Arith, Adds) { EXPECT_EQ(2, 1 + 1); }
TEST(Arith, Fails) { EXPECT_EQ(3, 1 + 1) << "off by one"; }
TEST(Arith, Skips) { GTEST_SKIP() << "not on this host"; }
TEST(Arith, DISABLED_Later) { FAIL(); }
TEST(Strings, Concat) { EXPECT_EQ(std::string("ab"), std::string("a") + "b"); }
