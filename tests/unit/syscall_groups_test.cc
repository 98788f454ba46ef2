// The syscall group table checked as a whole: shape, names, and coverage of SECURITY.md.
#include "policy/syscall_groups.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <seccomp.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "policy/seccomp_plan.h"

namespace tollgate::policy {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr std::uint32_t kSupportedArches[] = {SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64};

TEST(SyscallGroupsTest, TableIsSortedByNameWithoutDuplicates) {
  const auto& groups = SyscallGroups();
  ASSERT_FALSE(groups.empty());
  for (std::size_t i = 1; i < groups.size(); ++i) {
    EXPECT_LT(groups[i - 1].name, groups[i].name) << "at index " << i;
  }
}

TEST(SyscallGroupsTest, EveryGroupHasANameHelpAndMembers) {
  for (const SyscallGroup& group : SyscallGroups()) {
    EXPECT_TRUE(group.name.starts_with('@')) << group.name;
    EXPECT_GT(group.name.size(), 1u) << group.name;
    EXPECT_FALSE(group.help.empty()) << group.name;
    EXPECT_EQ(group.help.find('\n'), std::string_view::npos) << group.name << ": help is one line";
    EXPECT_FALSE(group.members.empty()) << group.name;
    EXPECT_FALSE(ExpandSyscallGroup(group.name).empty()) << group.name;
    std::set<std::string_view> unique(group.members.begin(), group.members.end());
    EXPECT_EQ(unique.size(), group.members.size()) << group.name << " lists a member twice";
  }
}

TEST(SyscallGroupsTest, NestedGroupsExistAndFormNoCycle) {
  // Depth-first search with the usual three colours: reaching a grey group again is a cycle.
  enum class Colour { kWhite, kGrey, kBlack };
  std::map<std::string_view, Colour> colour;
  std::function<void(std::string_view, std::string)> visit = [&](std::string_view name,
                                                                 std::string path) {
    path += std::string(path.empty() ? "" : " -> ") + std::string(name);
    const SyscallGroup* group = FindSyscallGroup(name);
    ASSERT_NE(group, nullptr) << "unknown group in " << path;
    Colour& c = colour[name];
    ASSERT_NE(c, Colour::kGrey) << "cycle: " << path;
    if (c == Colour::kBlack) return;
    c = Colour::kGrey;
    for (std::string_view member : group->members) {
      if (member.starts_with('@')) visit(member, path);
    }
    colour[name] = Colour::kBlack;
  };
  for (const SyscallGroup& group : SyscallGroups()) visit(group.name, "");
}

TEST(SyscallGroupsTest, EveryMemberIsKnownAndResolvesOnBothArchitectures) {
  for (const SyscallGroup& group : SyscallGroups()) {
    for (std::string_view member : group.members) {
      if (member.starts_with('@')) continue;
      const std::string name(member);
      EXPECT_TRUE(IsKnownSyscall(member)) << group.name << ": " << name;
      for (std::uint32_t arch : kSupportedArches) {
        EXPECT_NE(seccomp_syscall_resolve_name_arch(arch, name.c_str()), __NR_SCMP_ERROR)
            << group.name << ": " << name << " on arch " << std::hex << arch;
      }
    }
  }
}

TEST(SyscallGroupsTest, KnownSyscallsAreSortedAndEachHasARealNumberOnOneArchitecture) {
  const auto& names = KnownSyscalls();
  ASSERT_GT(names.size(), 300u);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end());
  for (std::string_view name : names) {
    const std::string text(name);
    bool real = false;
    for (std::uint32_t arch : kSupportedArches) {
      real = real || seccomp_syscall_resolve_name_arch(arch, text.c_str()) >= 0;
    }
    EXPECT_TRUE(real) << text;
    EXPECT_TRUE(IsKnownSyscall(name)) << text;
  }
}

// The static list is the libseccomp table frozen: when the library learns new names, this says so
// and the list is regenerated (see policy/syscall_names.cc).
TEST(SyscallGroupsTest, KnownSyscallsCoverEveryNameLibseccompNumbers) {
  for (std::uint32_t arch : kSupportedArches) {
    for (int nr = 0; nr < 1000; ++nr) {
      char* name = seccomp_syscall_resolve_num_arch(arch, nr);
      if (name == nullptr) continue;
      EXPECT_TRUE(IsKnownSyscall(name)) << name << " (" << nr << ")";
      std::free(name);
    }
  }
}

TEST(SyscallGroupsTest, IsKnownSyscallRefusesWhatIsNotASyscall) {
  EXPECT_TRUE(IsKnownSyscall("openat"));
  EXPECT_TRUE(IsKnownSyscall("clone3"));
  EXPECT_FALSE(IsKnownSyscall(""));
  EXPECT_FALSE(IsKnownSyscall("@mount"));
  EXPECT_FALSE(IsKnownSyscall("open_at"));
  EXPECT_FALSE(IsKnownSyscall("OPENAT"));
  EXPECT_FALSE(IsKnownSyscall("vm86"));  // i386 only: not x86_64, not aarch64
}

TEST(SyscallGroupsTest, FindAndExpand) {
  EXPECT_EQ(FindSyscallGroup("@nope"), nullptr);
  EXPECT_EQ(FindSyscallGroup("mount"), nullptr);
  ASSERT_NE(FindSyscallGroup("@swap"), nullptr);
  EXPECT_EQ(FindSyscallGroup("@swap")->name, "@swap");
  EXPECT_THAT(ExpandSyscallGroup("@nope"), IsEmpty());
  EXPECT_THAT(ExpandSyscallGroup("@swap"), ElementsAre("swapoff", "swapon"));
  EXPECT_THAT(ExpandSyscallGroup("@file-handles"),
              ElementsAre("name_to_handle_at", "open_by_handle_at"));

  const std::vector<std::string> privileged = ExpandSyscallGroup("@privileged");
  EXPECT_TRUE(std::is_sorted(privileged.begin(), privileged.end()));
  EXPECT_EQ(std::adjacent_find(privileged.begin(), privileged.end()), privileged.end());
  for (const char* name : {"settimeofday", "init_module", "iopl", "reboot", "swapon", "acct"}) {
    EXPECT_THAT(privileged, Contains(name));
  }
  EXPECT_THAT(privileged, ::testing::Not(Contains("ptrace")));
}

// SECURITY.md, classes 1-11. Classes 2-7 and 11 are whole syscalls in @default-deny; 1, 4
// (clone), 9 and 10 are argument rules, and 8 is the foreign-ABI action: both come with the plan.
TEST(SyscallGroupsTest, DefaultDenyCoversSecurityClassesOneToEleven) {
  const std::map<int, std::vector<std::string>> name_level = {
      {2, {"open_by_handle_at", "name_to_handle_at"}},
      {3, {"ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp"}},
      {4, {"unshare", "setns"}},
      {5,
       {"mount", "umount2", "pivot_root", "chroot", "fsopen", "fsconfig", "fsmount", "fspick",
        "open_tree", "move_mount", "mount_setattr"}},
      {6, {"keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd"}},
      {7, {"io_uring_setup", "io_uring_enter", "io_uring_register"}},
      {11,
       {"init_module", "finit_module", "delete_module", "reboot", "kexec_load", "kexec_file_load",
        "swapon", "swapoff", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "iopl",
        "ioperm", "acct", "quotactl", "quotactl_fd", "syslog"}},
  };
  const std::vector<std::string> denied = ExpandSyscallGroup(kDefaultDenyGroup);
  for (const auto& [security_class, names] : name_level) {
    for (const std::string& name : names) {
      EXPECT_THAT(denied, Contains(name)) << "class " << security_class;
    }
  }
  // The syscalls a sandbox needs never sit in the name-level set.
  for (const char* name : {"read", "write", "openat", "clone", "clone3", "socket", "ioctl",
                           "personality", "seccomp", "execve", "prctl"}) {
    EXPECT_THAT(denied, ::testing::Not(Contains(name)));
  }

  const SeccompPlan plan = CompileSeccompPlan({});
  std::set<std::string> argument_rule_syscalls;
  for (const SeccompRule& rule : plan.rules) {
    if (rule.group == kDefaultDenyGroup) argument_rule_syscalls.insert(rule.syscall);
  }
  EXPECT_THAT(argument_rule_syscalls, ElementsAre("clone", "clone3", "ioctl", "memfd_create",
                                                  "personality", "seccomp", "socket"));
  EXPECT_EQ(plan.foreign_abi_action, (SeccompAction{SeccompActionKind::kErrno, ENOSYS}));
}

}  // namespace
}  // namespace tollgate::policy
