// The seccomp plan as data: which rules, in which order, with which conditions and actions.
// Meanings of argument rules are checked with the plan-level reference evaluator; the compiled
// BPF is checked against the same reference in seccomp_bpf_test.cc.
#include "policy/seccomp_plan.h"

#include <errno.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "policy/syscall_groups.h"
#include "tests/unit/bpf_emulator.h"

namespace tollgate::policy {
namespace {

using emulator::EvaluateSeccompPlan;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr std::uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;
constexpr std::uint32_t kEafnosupport = SECCOMP_RET_ERRNO | EAFNOSUPPORT;

std::vector<const SeccompRule*> RulesFor(const SeccompPlan& plan, const std::string& syscall) {
  std::vector<const SeccompRule*> rules;
  for (const SeccompRule& rule : plan.rules) {
    if (rule.syscall == syscall) rules.push_back(&rule);
  }
  return rules;
}

std::uint32_t Verdict(const SeccompPlan& plan, const std::string& syscall,
                      std::array<std::uint64_t, 6> args = {}) {
  std::string conflict;
  std::uint32_t verdict = EvaluateSeccompPlan(plan, syscall, args, &conflict);
  EXPECT_THAT(conflict, IsEmpty());
  return verdict;
}

TEST(SeccompPlanTest, DeniesEveryDefaultDenyMemberByNameWithEperm) {
  const SeccompPlan plan = CompileSeccompPlan({});
  for (const std::string& name : ExpandSyscallGroup(kDefaultDenyGroup)) {
    auto rules = RulesFor(plan, name);
    ASSERT_EQ(rules.size(), 1u) << name;
    EXPECT_THAT(rules[0]->conditions, IsEmpty()) << name;
    EXPECT_EQ(rules[0]->action, (SeccompAction{SeccompActionKind::kErrno, EPERM})) << name;
  }
}

TEST(SeccompPlanTest, NameRulesCarryTheInnermostGroupAndEveryRuleAReason) {
  const SeccompPlan plan = CompileSeccompPlan({});
  EXPECT_EQ(RulesFor(plan, "ptrace").at(0)->group, "@debug");
  EXPECT_EQ(RulesFor(plan, "reboot").at(0)->group, "@reboot");
  EXPECT_EQ(RulesFor(plan, "acct").at(0)->group, "@system-admin");
  EXPECT_EQ(RulesFor(plan, "io_uring_setup").at(0)->group, "@io-uring");
  for (const SeccompRule& rule : plan.rules) {
    EXPECT_FALSE(rule.why.empty()) << rule.syscall;
    EXPECT_EQ(rule.why.find('\n'), std::string::npos) << rule.syscall;
    EXPECT_TRUE(IsKnownSyscall(rule.syscall)) << rule.syscall;
    EXPECT_NE(FindSyscallGroup(rule.group), nullptr) << rule.syscall << " in " << rule.group;
  }
}

TEST(SeccompPlanTest, RulesAreSortedAndCompilingIsDeterministic) {
  SyscallSpec spec;
  spec.deny = {"mincore", "@swap"};
  spec.allow = {"kcmp"};
  const SeccompPlan first = CompileSeccompPlan(spec);
  const SeccompPlan second = CompileSeccompPlan(spec);
  ASSERT_EQ(first.rules.size(), second.rules.size());
  for (std::size_t i = 0; i < first.rules.size(); ++i) {
    EXPECT_EQ(first.rules[i].syscall, second.rules[i].syscall);
    EXPECT_EQ(first.rules[i].why, second.rules[i].why);
    EXPECT_EQ(first.rules[i].conditions.size(), second.rules[i].conditions.size());
    if (i > 0) {
      EXPECT_LE(first.rules[i - 1].syscall, first.rules[i].syscall);
    }
  }
  // Within one syscall, conditions ascend: clone's flag bits come out in numeric order.
  std::vector<std::uint64_t> clone_bits;
  for (const SeccompRule* rule : RulesFor(first, "clone")) {
    clone_bits.push_back(rule->conditions.at(0).value);
  }
  EXPECT_TRUE(std::is_sorted(clone_bits.begin(), clone_bits.end()));
}

TEST(SeccompPlanTest, TiocstiAndTioclinuxAreComparedOnTheLow32Bits) {
  const SeccompPlan plan = CompileSeccompPlan({});
  auto rules = RulesFor(plan, "ioctl");
  ASSERT_EQ(rules.size(), 2u);
  std::set<std::uint64_t> requests;
  for (const SeccompRule* rule : rules) {
    ASSERT_EQ(rule->conditions.size(), 1u);
    const ArgCondition& c = rule->conditions[0];
    EXPECT_EQ(c.index, 1u);
    EXPECT_EQ(c.op, ArgCompare::kEq);
    EXPECT_TRUE(c.low32);
    requests.insert(c.value);
    EXPECT_EQ(rule->action, (SeccompAction{SeccompActionKind::kErrno, EPERM}));
  }
  EXPECT_THAT(requests, ElementsAre(0x5412u, 0x541Cu));
  EXPECT_EQ(Verdict(plan, "ioctl", {0, 0xdeadbeef00005412u}), kEperm);
  EXPECT_EQ(Verdict(plan, "ioctl", {0, 0x541C}), kEperm);
  EXPECT_EQ(Verdict(plan, "ioctl", {0, 0x5401 /* TCGETS */}), SECCOMP_RET_ALLOW);
}

TEST(SeccompPlanTest, CloneHasOneMaskedRulePerNamespaceFlag) {
  const SeccompPlan plan = CompileSeccompPlan({});
  std::uint64_t all_bits = 0;
  auto rules = RulesFor(plan, "clone");
  ASSERT_EQ(rules.size(), 8u);
  for (const SeccompRule* rule : rules) {
    ASSERT_EQ(rule->conditions.size(), 1u);
    const ArgCondition& c = rule->conditions[0];
    EXPECT_EQ(c.index, 0u);
    EXPECT_EQ(c.op, ArgCompare::kMaskedEq);
    EXPECT_EQ(c.mask, c.value);
    EXPECT_EQ(__builtin_popcountll(c.mask), 1) << std::hex << c.mask;
    all_bits |= c.mask;
  }
  // CLONE_NEWTIME | NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
  EXPECT_EQ(all_bits, 0x00000080u | 0x00020000u | 0x02000000u | 0x04000000u | 0x08000000u |
                          0x10000000u | 0x20000000u | 0x40000000u);
  EXPECT_EQ(Verdict(plan, "clone", {0x10000000u | 17 /* SIGCHLD */}), kEperm);
  EXPECT_EQ(Verdict(plan, "clone", {0x003d0f00u /* pthread_create's flags */}), SECCOMP_RET_ALLOW);
}

TEST(SeccompPlanTest, Clone3FailsWithEnosysSoLibcFallsBackToClone) {
  const SeccompPlan plan = CompileSeccompPlan({});
  auto rules = RulesFor(plan, "clone3");
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_THAT(rules[0]->conditions, IsEmpty());
  EXPECT_EQ(rules[0]->action, (SeccompAction{SeccompActionKind::kErrno, ENOSYS}));
}

TEST(SeccompPlanTest, SocketAllowsOnlyUnspecUnixInetAndInet6) {
  const SeccompPlan plan = CompileSeccompPlan({});
  for (std::uint64_t family = 0; family < 64; ++family) {
    const bool harmless = family == 0 || family == 1 || family == 2 || family == 10;
    EXPECT_EQ(Verdict(plan, "socket", {family, 1, 0}), harmless ? SECCOMP_RET_ALLOW : kEafnosupport)
        << "family " << family;
  }
  EXPECT_EQ(Verdict(plan, "socket", {0xffffffffu, 1, 0}), kEafnosupport);
}

TEST(SeccompPlanTest, PersonalityAllowsLinuxLinux32AndUname26Only) {
  const SeccompPlan plan = CompileSeccompPlan({});
  for (std::uint64_t harmless : {0x0u, 0x8u, 0x20000u, 0x20008u}) {
    EXPECT_EQ(Verdict(plan, "personality", {harmless}), SECCOMP_RET_ALLOW) << std::hex << harmless;
  }
  // READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE, MMAP_PAGE_ZERO, ADDR_LIMIT_3GB, and the query.
  for (std::uint64_t flags : {0x0400000u, 0x0040000u, 0x0100000u, 0x8000000u, 0xffffffffu}) {
    EXPECT_EQ(Verdict(plan, "personality", {flags}), kEperm) << std::hex << flags;
  }
  EXPECT_NE(RulesFor(plan, "personality").at(0)->why.find("0xffffffff"), std::string::npos);
}

TEST(SeccompPlanTest, SeccompNewListenerIsDenied) {
  const SeccompPlan plan = CompileSeccompPlan({});
  EXPECT_EQ(Verdict(plan, "seccomp", {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER}),
            kEperm);
  EXPECT_EQ(Verdict(plan, "seccomp", {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC}),
            SECCOMP_RET_ALLOW);
}

TEST(SeccompPlanTest, ProfileErrnoAppliesExceptWhereTheErrnoIsPartOfTheRule) {
  SyscallSpec spec;
  spec.errno_value = EACCES;
  const SeccompPlan plan = CompileSeccompPlan(spec);
  EXPECT_EQ(Verdict(plan, "ptrace"), SECCOMP_RET_ERRNO | EACCES);
  EXPECT_EQ(Verdict(plan, "ioctl", {0, 0x5412}), SECCOMP_RET_ERRNO | EACCES);
  EXPECT_EQ(Verdict(plan, "socket", {16}), kEafnosupport);
  EXPECT_EQ(Verdict(plan, "clone3"), SECCOMP_RET_ERRNO | ENOSYS);
  EXPECT_EQ(plan.foreign_abi_action, (SeccompAction{SeccompActionKind::kErrno, ENOSYS}));
}

TEST(SeccompPlanTest, ProfileDenyAddsNamesAndGroups) {
  SyscallSpec spec;
  spec.deny = {"mincore"};
  const SeccompPlan plan = CompileSeccompPlan(spec);
  auto rules = RulesFor(plan, "mincore");
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0]->group, "");
  EXPECT_NE(rules[0]->why.find("syscalls.deny"), std::string::npos);
  EXPECT_EQ(Verdict(plan, "mincore"), kEperm);
  EXPECT_EQ(Verdict(CompileSeccompPlan({}), "mincore"), SECCOMP_RET_ALLOW);
}

TEST(SeccompPlanTest, ProfileAllowRemovesNameLevelDenials) {
  SyscallSpec spec;
  spec.allow = {"ptrace", "@mount"};
  const SeccompPlan plan = CompileSeccompPlan(spec);
  EXPECT_EQ(Verdict(plan, "ptrace"), SECCOMP_RET_ALLOW);
  for (const std::string& name : ExpandSyscallGroup("@mount")) {
    EXPECT_EQ(Verdict(plan, name), SECCOMP_RET_ALLOW) << name;
  }
  EXPECT_EQ(Verdict(plan, "process_vm_readv"), kEperm);  // the rest of @debug stays
  EXPECT_EQ(Verdict(plan, "ioctl", {0, 0x5412}), kEperm);
}

TEST(SeccompPlanTest, DenyWinsOverAllowForTheSameSyscall) {
  SyscallSpec spec;
  spec.deny = {"@debug"};
  spec.allow = {"@debug", "ptrace"};
  const SeccompPlan plan = CompileSeccompPlan(spec);
  EXPECT_EQ(Verdict(plan, "ptrace"), kEperm);
  EXPECT_EQ(Verdict(plan, "kcmp"), kEperm);
}

TEST(SeccompPlanTest, ArgumentRulesGoOnlyWhenTheirSyscallIsAllowedByName) {
  SyscallSpec by_group;
  by_group.allow = {kDefaultDenyGroup.data()};
  const SeccompPlan group_plan = CompileSeccompPlan(by_group);
  EXPECT_EQ(Verdict(group_plan, "ptrace"), SECCOMP_RET_ALLOW);
  EXPECT_EQ(Verdict(group_plan, "ioctl", {0, 0x5412}), kEperm);
  EXPECT_EQ(Verdict(group_plan, "clone3"), SECCOMP_RET_ERRNO | ENOSYS);

  SyscallSpec by_name;
  by_name.allow = {"ioctl", "clone3"};
  const SeccompPlan name_plan = CompileSeccompPlan(by_name);
  EXPECT_THAT(RulesFor(name_plan, "ioctl"), IsEmpty());
  EXPECT_THAT(RulesFor(name_plan, "clone3"), IsEmpty());
  EXPECT_EQ(RulesFor(name_plan, "clone").size(), 8u);
}

TEST(SeccompPlanTest, DenyingAnArgumentRuleSyscallDeniesTheWholeCall) {
  SyscallSpec spec;
  spec.deny = {"socket", "clone3"};
  const SeccompPlan plan = CompileSeccompPlan(spec);
  auto socket_rules = RulesFor(plan, "socket");
  ASSERT_EQ(socket_rules.size(), 1u);
  EXPECT_THAT(socket_rules[0]->conditions, IsEmpty());
  EXPECT_EQ(Verdict(plan, "socket", {2, 1, 0}), kEperm);
  // clone3 keeps ENOSYS: EPERM would stop libc's fallback to clone and break pthread_create.
  auto clone3_rules = RulesFor(plan, "clone3");
  ASSERT_EQ(clone3_rules.size(), 1u);
  EXPECT_EQ(Verdict(plan, "clone3"), SECCOMP_RET_ERRNO | ENOSYS);
}

TEST(SeccompPlanTest, LogExpandsGroupsSortedWithoutDuplicates) {
  SyscallSpec spec;
  spec.log = {"ptrace", "@swap", "swapon"};
  EXPECT_THAT(CompileSeccompPlan(spec).logged, ElementsAre("ptrace", "swapoff", "swapon"));
  EXPECT_THAT(CompileSeccompPlan({}).logged, IsEmpty());
}

}  // namespace
}  // namespace tollgate::policy

namespace tollgate::policy {
namespace {

TEST(ObservedSeccompPlanTest, RecordedDenialsAreNotifiedWithTheirErrnoAndClone3StaysInTheKernel) {
  const SeccompPlan plain = CompileSeccompPlan({});
  const SeccompPlan observed = ObserveSeccompPlan(plain);
  for (const SeccompRule& rule : observed.rules) {
    if (rule.syscall == "execve" || rule.syscall == "execveat") continue;
    const SeccompRule* before = nullptr;
    for (const SeccompRule& p : plain.rules) {
      if (p.syscall == rule.syscall && p.conditions.size() == rule.conditions.size() &&
          p.why == rule.why)
        before = &p;
    }
    ASSERT_NE(before, nullptr) << rule.syscall;
    EXPECT_EQ(rule.action.errno_value, before->action.errno_value) << rule.syscall;
    if (rule.syscall == "clone3") {
      EXPECT_EQ(rule.action.kind, SeccompActionKind::kErrno);
    } else if (before->action.kind == SeccompActionKind::kErrno) {
      EXPECT_EQ(rule.action.kind, SeccompActionKind::kNotify) << rule.syscall;
    }
  }
  // In the emulated filter: ptrace now waits for the supervisor, clone3 still gets ENOSYS.
  EXPECT_EQ(Verdict(observed, "ptrace"), static_cast<std::uint32_t>(SECCOMP_RET_USER_NOTIF));
  EXPECT_EQ(Verdict(observed, "clone3"), static_cast<std::uint32_t>(SECCOMP_RET_ERRNO | ENOSYS));
  EXPECT_EQ(Verdict(observed, "getpid"), static_cast<std::uint32_t>(SECCOMP_RET_ALLOW));
}

TEST(ObservedSeccompPlanTest, ExecsAreNotifiedAndLetThrough) {
  const SeccompPlan observed = ObserveSeccompPlan(CompileSeccompPlan({}));
  for (const char* exec : {"execve", "execveat"}) {
    auto rules = RulesFor(observed, exec);
    ASSERT_EQ(rules.size(), 1u) << exec;
    EXPECT_EQ(rules[0]->action, (SeccompAction{SeccompActionKind::kNotify, 0}));
  }
  // A profile that denies execveat keeps the denial (notified with its errno), not an observer.
  SyscallSpec spec;
  spec.deny = {"execveat"};
  const SeccompPlan denied = ObserveSeccompPlan(CompileSeccompPlan(spec));
  auto rules = RulesFor(denied, "execveat");
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0]->action, (SeccompAction{SeccompActionKind::kNotify, EPERM}));
}

TEST(ObservedSeccompPlanTest, MatchFindsTheRuleTheKernelApplied) {
  const SeccompPlan plan = ObserveSeccompPlan(CompileSeccompPlan({}));
  std::uint64_t tiocsti[6] = {0, 0xffffffff00005412ull};  // high bits set: still TIOCSTI
  const SeccompRule* rule = MatchSeccompRule(plan, "ioctl", tiocsti);
  ASSERT_NE(rule, nullptr);
  EXPECT_NE(rule->why.find("TIOCSTI"), std::string::npos) << rule->why;
  std::uint64_t tcgets[6] = {0, 0x5401};
  EXPECT_EQ(MatchSeccompRule(plan, "ioctl", tcgets), nullptr);
  std::uint64_t newuser[6] = {0x10000000};
  rule = MatchSeccompRule(plan, "unshare", newuser);
  ASSERT_NE(rule, nullptr);
  EXPECT_EQ(rule->action.errno_value, EPERM);
  std::uint64_t none[6] = {};
  EXPECT_EQ(MatchSeccompRule(plan, "getpid", none), nullptr);
  ASSERT_NE(MatchSeccompRule(plan, "execve", none), nullptr);
}

}  // namespace
}  // namespace tollgate::policy

namespace tollgate::policy {
namespace {

TEST(ObservedSeccompPlanTest, TheFilesLevelNotifiesEveryFileCallAndKeepsDenials) {
  SyscallSpec spec;
  spec.deny = {"chmod"};
  const SeccompPlan plan = ObserveSeccompPlan(CompileSeccompPlan(spec), /*observe_files=*/true);
  for (std::string_view name : kObservedFileSyscalls) {
    auto rules = RulesFor(plan, std::string(name));
    ASSERT_EQ(rules.size(), 1u) << name;
    EXPECT_EQ(rules[0]->action.kind, SeccompActionKind::kNotify) << name;
    EXPECT_EQ(rules[0]->action.errno_value, name == "chmod" ? EPERM : 0) << name;
  }
  const SeccompPlan actions_only = ObserveSeccompPlan(CompileSeccompPlan({}));
  EXPECT_TRUE(RulesFor(actions_only, "openat").empty());
}

}  // namespace
}  // namespace tollgate::policy
