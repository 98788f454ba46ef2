// Reading what a stopped process passed to a call: argv arrays and strings, bounded. Read here
// from this very process (process_vm_readv on one's own pid needs no privilege).
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "supervisor/kernel/seccomp_notify.h"

namespace tollgate::kernel {
namespace {

std::uint64_t Address(const void* p) {
  return reinterpret_cast<std::uint64_t>(p);
}

TEST(ProcessMemory, ReadsAnArgvWhoseStringsLieAnywhere) {
  std::string far_away(10000, 'z');  // a string of its own allocation, outside the span
  char packed[] = "cc\0-O2\0-c\0main.c";
  std::vector<const char*> argv = {packed,           packed + 3,  packed + 7,
                                   far_away.c_str(), packed + 10, nullptr};
  std::vector<std::string> out;
  bool cut = true;
  ASSERT_TRUE(ReadProcessStringArray(getpid(), Address(argv.data()), 256, 32 * 1024, &out, &cut));
  EXPECT_FALSE(cut);
  EXPECT_EQ(out, (std::vector<std::string>{"cc", "-O2", "-c", far_away, "main.c"}));
}

TEST(ProcessMemory, BoundsItemsAndBytes) {
  std::vector<std::string> strings(10, std::string(100, 'a'));
  std::vector<const char*> argv;
  for (const std::string& s : strings) argv.push_back(s.c_str());
  argv.push_back(nullptr);
  std::vector<std::string> out;
  bool cut = false;
  ASSERT_TRUE(ReadProcessStringArray(getpid(), Address(argv.data()), 4, 32 * 1024, &out, &cut));
  EXPECT_TRUE(cut);
  EXPECT_EQ(out.size(), 4u);
  ASSERT_TRUE(ReadProcessStringArray(getpid(), Address(argv.data()), 256, 250, &out, &cut));
  EXPECT_TRUE(cut);
  std::size_t total = 0;
  for (const std::string& s : out) total += s.size();
  EXPECT_LE(total, 250u);
}

TEST(ProcessMemory, AStringEndsAtAnUnreadablePage) {
  long page = sysconf(_SC_PAGESIZE);
  char* two = static_cast<char*>(
      mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(two, MAP_FAILED);
  ASSERT_EQ(munmap(two + page, page), 0);
  char* tail = two + page - 5;
  std::memcpy(tail, "abcde", 5);  // no NUL before the hole
  std::string out;
  bool cut = true;
  EXPECT_TRUE(ReadProcessString(getpid(), Address(tail), 4096, &out, &cut));
  EXPECT_EQ(out, "abcde");
  EXPECT_FALSE(cut);
  munmap(two, page);
}

}  // namespace
}  // namespace tollgate::kernel
