// The compiled filter: the plan built with libseccomp, exported as BPF, and run in an emulator
// over fake calls. No filter is installed here except in the one test that forks a child for it.
#include "supervisor/kernel/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "policy/seccomp_plan.h"
#include "policy/syscall_groups.h"
#include "tests/unit/bpf_emulator.h"

namespace tollgate::kernel {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

#if defined(__x86_64__)
constexpr std::uint32_t kNativeArch = AUDIT_ARCH_X86_64;
constexpr std::uint32_t kForeignArch = AUDIT_ARCH_AARCH64;
#elif defined(__aarch64__)
constexpr std::uint32_t kNativeArch = AUDIT_ARCH_AARCH64;
constexpr std::uint32_t kForeignArch = AUDIT_ARCH_X86_64;
#else
#error "tollgate supports x86_64 and aarch64"
#endif

constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr std::uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;
constexpr std::uint32_t kEnosys = SECCOMP_RET_ERRNO | ENOSYS;
constexpr std::uint32_t kEafnosupport = SECCOMP_RET_ERRNO | EAFNOSUPPORT;
constexpr std::uint64_t kX32SyscallBit = 0x40000000;

std::vector<sock_filter> Compile(const policy::SeccompPlan& plan,
                                 std::vector<std::string>* skipped = nullptr) {
  std::vector<sock_filter> program;
  Status status = CompileSeccompFilter(plan, &program, skipped);
  EXPECT_TRUE(status.ok) << status.ToString();
  return program;
}

int Nr(const char* name) {
  int nr = seccomp_syscall_resolve_name(name);
  EXPECT_GE(nr, 0) << name << " is not a native syscall";
  return nr;
}

// The verdict of `program` for a raw call; an emulator error fails the test where it happens.
std::uint32_t RawVerdict(const std::vector<sock_filter>& program, std::uint32_t arch, int nr,
                         std::vector<std::uint64_t> args = {}) {
  emulator::BpfVerdict verdict =
      emulator::RunSeccompBpf(program, emulator::MakeSeccompData(arch, nr, args));
  EXPECT_TRUE(verdict.ok()) << verdict.error;
  return verdict.value;
}

std::uint32_t Verdict(const std::vector<sock_filter>& program, const char* name,
                      std::vector<std::uint64_t> args = {}) {
  return RawVerdict(program, kNativeArch, Nr(name), std::move(args));
}

class SeccompBpfTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    plan_ = new policy::SeccompPlan(policy::CompileSeccompPlan({}));
    program_ = new std::vector<sock_filter>(Compile(*plan_));
  }
  static void TearDownTestSuite() {
    delete program_;
    delete plan_;
  }
  static const std::vector<sock_filter>& program() { return *program_; }
  static const policy::SeccompPlan& plan() { return *plan_; }

 private:
  static inline policy::SeccompPlan* plan_ = nullptr;
  static inline std::vector<sock_filter>* program_ = nullptr;
};

TEST_F(SeccompBpfTest, ProgramIsANonEmptyKernelSizedFilter) {
  ASSERT_FALSE(program().empty());
  EXPECT_LE(program().size(), static_cast<std::size_t>(BPF_MAXINSNS));
}

TEST_F(SeccompBpfTest, DeniesTheDangerousSyscallsOfClassesTwoToSevenAndEleven) {
  for (const char* name : {"open_by_handle_at",
                           "name_to_handle_at",  // 2
                           "ptrace",
                           "process_vm_readv",
                           "process_vm_writev",
                           "pidfd_getfd",
                           "kcmp",  // 3
                           "unshare",
                           "setns",  // 4
                           "mount",
                           "umount2",
                           "pivot_root",
                           "chroot",
                           "fsopen",
                           "fsconfig",
                           "fsmount",  // 5
                           "fspick",
                           "open_tree",
                           "move_mount",
                           "mount_setattr",  // 5
                           "keyctl",
                           "add_key",
                           "request_key",
                           "bpf",
                           "perf_event_open",
                           "userfaultfd",  // 6
                           "io_uring_setup",
                           "io_uring_enter",
                           "io_uring_register",  // 7
                           "init_module",
                           "finit_module",
                           "delete_module",
                           "reboot",
                           "kexec_load",  // 11
                           "kexec_file_load",
                           "swapon",
                           "swapoff",
                           "settimeofday",
                           "clock_settime",  // 11
                           "clock_adjtime",
                           "adjtimex",
                           "acct",
                           "quotactl",
                           "quotactl_fd",
                           "syslog"}) {  // 11
    EXPECT_EQ(Verdict(program(), name), kEperm) << name;
  }
#if defined(__x86_64__)
  EXPECT_EQ(Verdict(program(), "iopl", {3}), kEperm);
  EXPECT_EQ(Verdict(program(), "ioperm", {0, 1024, 1}), kEperm);
  EXPECT_EQ(Verdict(program(), "modify_ldt", {1}), kEperm);
#endif
}

TEST_F(SeccompBpfTest, AllowsOrdinarySyscalls) {
  EXPECT_EQ(Verdict(program(), "read", {0, 0x1000, 10}), kAllow);
  EXPECT_EQ(Verdict(program(), "write", {1, 0x1000, 10}), kAllow);
  EXPECT_EQ(Verdict(program(), "openat", {static_cast<std::uint64_t>(AT_FDCWD), 0x1000, 0}),
            kAllow);
  EXPECT_EQ(Verdict(program(), "execve"), kAllow);
  EXPECT_EQ(Verdict(program(), "getpid"), kAllow);
  EXPECT_EQ(Verdict(program(), "mmap", {0, 4096, 3, 0x22, ~0ull, 0}), kAllow);
  // fork() and pthread_create() as glibc issues them.
  EXPECT_EQ(Verdict(program(), "clone", {CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD}),
            kAllow);
  EXPECT_EQ(Verdict(program(), "clone",
                    {CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD |
                     CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID}),
            kAllow);
  EXPECT_EQ(Verdict(program(), "socket", {AF_INET, SOCK_STREAM, 0}), kAllow);
  EXPECT_EQ(Verdict(program(), "socket", {AF_INET6, SOCK_DGRAM, 0}), kAllow);
  EXPECT_EQ(Verdict(program(), "socket", {AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0}), kAllow);
  EXPECT_EQ(Verdict(program(), "ioctl", {0, TCGETS, 0x1000}), kAllow);
  EXPECT_EQ(Verdict(program(), "ioctl", {0, 0xdeadbeef00000000ull | TCGETS, 0x1000}), kAllow);
  EXPECT_EQ(Verdict(program(), "personality", {PER_LINUX}), kAllow);
  EXPECT_EQ(Verdict(program(), "personality", {PER_LINUX32}), kAllow);
  EXPECT_EQ(Verdict(program(), "personality", {std::uint64_t{PER_LINUX32} | UNAME26}), kAllow);
  EXPECT_EQ(Verdict(program(), "seccomp", {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, 0}),
            kAllow);
  EXPECT_EQ(Verdict(program(), "prctl", {PR_SET_NO_NEW_PRIVS, 1}), kAllow);
}

TEST_F(SeccompBpfTest, TiocstiAndTioclinuxAreDeniedWhateverTheHighBits) {
  for (std::uint64_t high :
       {0x0ull, 0xdeadbeef00000000ull, 0xffffffff00000000ull, 0x100000000ull}) {
    EXPECT_EQ(Verdict(program(), "ioctl", {0, high | TIOCSTI, 0x1000}), kEperm) << std::hex << high;
    EXPECT_EQ(Verdict(program(), "ioctl", {0, high | TIOCLINUX, 0x1000}), kEperm)
        << std::hex << high;
  }
  EXPECT_EQ(Verdict(program(), "ioctl", {0, 0xdeadbeef00005412ull, 0}), kEperm);
}

TEST_F(SeccompBpfTest, CloneWithAnyNamespaceFlagIsDenied) {
  for (std::uint64_t flag : {CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                             CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET}) {
    EXPECT_EQ(Verdict(program(), "clone", {flag | SIGCHLD}), kEperm) << std::hex << flag;
    EXPECT_EQ(Verdict(program(), "clone", {0xffffffff00000000ull | flag | SIGCHLD}), kEperm)
        << std::hex << flag;
  }
  EXPECT_EQ(Verdict(program(), "clone", {CLONE_NEWUSER | CLONE_NEWNS | SIGCHLD}), kEperm);
  EXPECT_EQ(Verdict(program(), "clone", {0x80 /* CLONE_NEWTIME */}), kEperm);
}

TEST_F(SeccompBpfTest, Clone3FailsWithEnosys) {
  EXPECT_EQ(Verdict(program(), "clone3", {0x1000, 88}), kEnosys);
  EXPECT_EQ(Verdict(program(), "clone3"), kEnosys);
}

TEST_F(SeccompBpfTest, SocketFamiliesThatReachTheHostAreDenied) {
  EXPECT_EQ(Verdict(program(), "socket", {AF_NETLINK, SOCK_RAW, 0}), kEafnosupport);
  EXPECT_EQ(Verdict(program(), "socket", {AF_PACKET, SOCK_RAW, 0}), kEafnosupport);
  EXPECT_EQ(Verdict(program(), "socket", {AF_VSOCK, SOCK_STREAM, 0}), kEafnosupport);
  EXPECT_EQ(Verdict(program(), "socket", {AF_ALG, SOCK_SEQPACKET, 0}), kEafnosupport);
  EXPECT_EQ(Verdict(program(), "socket", {AF_BLUETOOTH, SOCK_RAW, 0}), kEafnosupport);
  EXPECT_EQ(Verdict(program(), "socket", {AF_X25, SOCK_SEQPACKET, 0}), kEafnosupport);
  EXPECT_EQ(Verdict(program(), "socket", {0x100000000ull | AF_NETLINK, SOCK_RAW, 0}),
            kEafnosupport);
  for (std::uint64_t family = 0; family <= AF_MAX; ++family) {
    const bool harmless =
        family == AF_UNSPEC || family == AF_UNIX || family == AF_INET || family == AF_INET6;
    EXPECT_EQ(Verdict(program(), "socket", {family, SOCK_STREAM, 0}),
              harmless ? kAllow : kEafnosupport)
        << "family " << family;
  }
}

// low32 GT/GE comparisons stay 64-bit in libseccomp: junk in the high half can only add denials.
TEST_F(SeccompBpfTest, HighBitsOnGreaterThanRulesOnlyWidenTheDenial) {
  EXPECT_EQ(Verdict(program(), "socket", {0x100000000ull | AF_INET, SOCK_STREAM, 0}),
            kEafnosupport);
  EXPECT_EQ(Verdict(program(), "personality", {0x100000000ull | PER_LINUX}), kEperm);
}

TEST_F(SeccompBpfTest, PersonalityFlagsThatWeakenMitigationsAreDenied) {
  EXPECT_EQ(Verdict(program(), "personality", {READ_IMPLIES_EXEC}), kEperm);
  EXPECT_EQ(Verdict(program(), "personality", {std::uint64_t{PER_LINUX} | ADDR_NO_RANDOMIZE}),
            kEperm);
  EXPECT_EQ(Verdict(program(), "personality", {MMAP_PAGE_ZERO}), kEperm);
  EXPECT_EQ(Verdict(program(), "personality", {std::uint64_t{PER_LINUX32} | READ_IMPLIES_EXEC}),
            kEperm);
  EXPECT_EQ(Verdict(program(), "personality", {0xffffffffu}), kEperm);  // the query; see the why
}

TEST_F(SeccompBpfTest, ASeccompListenerOfItsOwnIsDenied) {
  EXPECT_EQ(Verdict(program(), "seccomp",
                    {SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, 0x1000}),
            kEperm);
  EXPECT_EQ(Verdict(program(), "seccomp",
                    {SECCOMP_SET_MODE_FILTER,
                     SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_TSYNC_ESRCH, 0x1000}),
            kEperm);
}

TEST_F(SeccompBpfTest, OnlySealedNonExecutableMemfdsAreAllowed) {
  constexpr std::uint64_t kMfdCloexec = 0x1, kMfdExec = 0x10, kMfdNoexecSeal = 0x8;
  const std::uint32_t enosys = SECCOMP_RET_ERRNO | ENOSYS;
  EXPECT_EQ(Verdict(program(), "memfd_create", {0x1000, kMfdCloexec}), enosys);
  EXPECT_EQ(Verdict(program(), "memfd_create", {0x1000, kMfdExec | kMfdCloexec}), enosys);
  EXPECT_EQ(Verdict(program(), "memfd_create", {0x1000, 0xffffffff00000001}), enosys);
  EXPECT_EQ(Verdict(program(), "memfd_create", {0x1000, kMfdNoexecSeal | kMfdCloexec}), kAllow);
}

TEST_F(SeccompBpfTest, OtherArchitecturesGetEnosys) {
#if defined(__x86_64__)
  // int 0x80 from a 64-bit process: i386 numbers, AUDIT_ARCH_I386. 26 is ptrace, 20 getpid.
  EXPECT_EQ(RawVerdict(program(), AUDIT_ARCH_I386, 26), kEnosys);
  EXPECT_EQ(RawVerdict(program(), AUDIT_ARCH_I386, 20), kEnosys);
#endif
  EXPECT_EQ(RawVerdict(program(), kForeignArch, 0), kEnosys);
  EXPECT_EQ(RawVerdict(program(), kForeignArch, Nr("getpid")), kEnosys);
}

#if defined(__x86_64__)
TEST_F(SeccompBpfTest, X32SyscallNumbersAreDenied) {
  // 101 is ptrace in the x32 table; 0 (read) and 39 (getpid) are harmless there, and still refused.
  EXPECT_EQ(RawVerdict(program(), AUDIT_ARCH_X86_64, 101 | kX32SyscallBit), kEnosys);
  EXPECT_EQ(RawVerdict(program(), AUDIT_ARCH_X86_64, 0 | kX32SyscallBit), kEnosys);
  EXPECT_EQ(RawVerdict(program(), AUDIT_ARCH_X86_64, 39 | kX32SyscallBit), kEnosys);
  EXPECT_EQ(RawVerdict(program(), AUDIT_ARCH_X86_64, 512 | kX32SyscallBit), kEnosys);
  // libseccomp lets nr -1 through on purpose: the kernel runs no syscall for it (a tracer sets it
  // to skip a call), so there is nothing to deny.
  EXPECT_EQ(RawVerdict(program(), AUDIT_ARCH_X86_64, -1), kAllow);
  EXPECT_EQ(RawVerdict(program(), AUDIT_ARCH_X86_64, 39), kAllow);
}
#endif

TEST_F(SeccompBpfTest, ProfileChangesReachTheProgram) {
  policy::SyscallSpec spec;
  spec.allow = {"ptrace", "@swap"};
  spec.deny = {"mincore", "memfd_create"};
  spec.errno_value = EACCES;
  const std::vector<sock_filter> changed = Compile(policy::CompileSeccompPlan(spec));
  EXPECT_EQ(Verdict(changed, "ptrace"), kAllow);
  EXPECT_EQ(Verdict(changed, "swapon"), kAllow);
  EXPECT_EQ(Verdict(changed, "process_vm_readv"), SECCOMP_RET_ERRNO | EACCES);
  EXPECT_EQ(Verdict(changed, "mincore"), SECCOMP_RET_ERRNO | EACCES);
  EXPECT_EQ(Verdict(changed, "memfd_create"), SECCOMP_RET_ERRNO | EACCES);
  EXPECT_EQ(Verdict(changed, "ioctl", {0, TIOCSTI}), SECCOMP_RET_ERRNO | EACCES);
  EXPECT_EQ(Verdict(changed, "socket", {AF_NETLINK, SOCK_RAW, 0}), kEafnosupport);
  EXPECT_EQ(Verdict(program(), "mincore"), kAllow);
  EXPECT_EQ(Verdict(program(), "swapon"), kEperm);

  policy::SyscallSpec ioctl_allowed;
  ioctl_allowed.allow = {"ioctl"};
  EXPECT_EQ(Verdict(Compile(policy::CompileSeccompPlan(ioctl_allowed)), "ioctl", {0, TIOCSTI}),
            kAllow);
}

// Every native syscall number, with argument values taken from the plan's own conditions, gives
// the verdict the plan means. Arguments keep the high half clear: high bits are covered above.
TEST_F(SeccompBpfTest, MatchesThePlanForEverySyscallNumber) {
  std::set<std::uint64_t> values = {0, 1, 0xffffffffu};
  for (const policy::SeccompRule& rule : plan().rules) {
    for (const policy::ArgCondition& c : rule.conditions) {
      for (std::uint64_t v : {c.value, c.value + 1, c.value - 1, c.value | c.mask}) {
        values.insert(v & 0xffffffffu);
      }
    }
  }
  int named = 0;
  for (int nr = 0; nr < 1024; ++nr) {
    char* raw_name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
    const std::string name = raw_name != nullptr ? raw_name : "";
    std::free(raw_name);
    named += name.empty() ? 0 : 1;
    for (std::uint64_t v : values) {
      const std::array<std::uint64_t, 6> args = {v, v, v, v, v, v};
      std::string conflict;
      const std::uint32_t expected =
          name.empty() ? kAllow : emulator::EvaluateSeccompPlan(plan(), name, args, &conflict);
      ASSERT_THAT(conflict, IsEmpty());
      ASSERT_EQ(RawVerdict(program(), kNativeArch, nr, {args.begin(), args.end()}), expected)
          << name << " (" << nr << ") with every argument 0x" << std::hex << v;
    }
  }
  EXPECT_GT(named, 250);
}

TEST(SeccompCompileTest, SkipsNamesThisArchitectureDoesNotHave) {
  policy::SeccompPlan plan;
  plan.rules.push_back({"no_such_syscall", {}, {}, "", "test"});
  plan.rules.push_back({"vm86", {}, {}, "", "i386 only"});
  plan.rules.push_back({"ptrace", {}, {}, "", "test"});
  std::vector<std::string> skipped;
  const std::vector<sock_filter> program = Compile(plan, &skipped);
  EXPECT_THAT(skipped, ElementsAre("no_such_syscall", "vm86"));
  EXPECT_EQ(Verdict(program, "ptrace"), kEperm);
  EXPECT_EQ(Verdict(program, "kcmp"), kAllow);
}

TEST(SeccompCompileTest, RefusesWhatItCannotExpressSafely) {
  auto refuses = [](const policy::SeccompPlan& plan, const char* expected_in_message) {
    std::vector<sock_filter> program;
    Status status = CompileSeccompFilter(plan, &program);
    EXPECT_FALSE(status.ok);
    EXPECT_THAT(status.ToString(), ::testing::HasSubstr(expected_in_message));
    EXPECT_THAT(program, IsEmpty());
  };
  policy::SeccompPlan errno_zero;
  errno_zero.rules.push_back({"ptrace", {policy::SeccompActionKind::kErrno, 0}, {}, "", ""});
  refuses(errno_zero, "errno 0");

  policy::SeccompPlan low32_less;
  low32_less.rules.push_back(
      {"socket", {}, {{0, policy::ArgCompare::kLt, 3, 0, /*low32=*/true}}, "", ""});
  refuses(low32_less, "less than");

  policy::SeccompPlan low32_wide;
  low32_wide.rules.push_back(
      {"socket", {}, {{0, policy::ArgCompare::kEq, 0x100000000ull, 0, /*low32=*/true}}, "", ""});
  refuses(low32_wide, "above 32 bits");

  policy::SeccompPlan bad_index;
  bad_index.rules.push_back({"socket", {}, {{6, policy::ArgCompare::kEq, 1, 0, false}}, "", ""});
  refuses(bad_index, "argument 6");

  policy::SeccompPlan foreign_log;
  foreign_log.foreign_abi_action = {policy::SeccompActionKind::kLog, 0};
  refuses(foreign_log, "foreign");
}

TEST(SeccompCompileTest, NotifyRulesWaitForTheSupervisor) {
  policy::SeccompPlan plan;
  plan.rules.push_back({"ptrace", {policy::SeccompActionKind::kNotify, 1}, {}, "", ""});
  const std::vector<sock_filter> program = Compile(plan);
  EXPECT_EQ(Verdict(program, "ptrace"), static_cast<std::uint32_t>(SECCOMP_RET_USER_NOTIF));
  EXPECT_EQ(Verdict(program, "kcmp"), kAllow);
}

TEST(SeccompCompileTest, KillProcessAndLogActions) {
  policy::SeccompPlan plan;
  plan.rules.push_back({"ptrace", {policy::SeccompActionKind::kKillProcess, 0}, {}, "", ""});
  plan.rules.push_back({"kcmp", {policy::SeccompActionKind::kLog, 0}, {}, "", ""});
  plan.foreign_abi_action = {policy::SeccompActionKind::kKillProcess, 0};
  const std::vector<sock_filter> program = Compile(plan);
  EXPECT_EQ(Verdict(program, "ptrace"), static_cast<std::uint32_t>(SECCOMP_RET_KILL_PROCESS));
  EXPECT_EQ(Verdict(program, "kcmp"), static_cast<std::uint32_t>(SECCOMP_RET_LOG));
  EXPECT_EQ(RawVerdict(program, kForeignArch, 0),
            static_cast<std::uint32_t>(SECCOMP_RET_KILL_PROCESS));
}

TEST(SeccompCompileTest, StatusToStringNamesStepPathErrnoAndDetail) {
  EXPECT_EQ(Status::Ok().ToString(), "ok");
  EXPECT_EQ(Status::Fail("bind mount", "/usr", EACCES, "read-only").ToString(),
            "bind mount /usr: Permission denied (read-only)");
  EXPECT_EQ(Status::Fail("seccomp filter", "", 0).ToString(), "seccomp filter");
}

// The one test that touches the kernel: a forked child installs the default filter and makes
// calls whose errno tells "refused by the filter" apart from "reached the kernel".
TEST_F(SeccompBpfTest, InstalledFilterRefusesCallsInARealChild) {
  constexpr int kSkip = 100;
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(kSkip);
    Status status = InstallSeccompFilter(program());
    if (!status.ok) _exit(status.error == EINVAL || status.error == ENOSYS ? kSkip : 1);
    // Unfiltered: ESRCH (no such pid). Filtered: EPERM.
    errno = 0;
    if (syscall(SYS_ptrace, 2 /* PTRACE_PEEKDATA */, -1, 0, 0) != -1 || errno != EPERM) _exit(2);
    // Unfiltered: EBADF. Filtered: EPERM, junk in the high half notwithstanding.
    errno = 0;
    if (syscall(SYS_ioctl, -1, 0xdeadbeef00005412ull, 0) != -1 || errno != EPERM) _exit(3);
    // Unfiltered: EINVAL (bad socket type). Filtered: EAFNOSUPPORT.
    errno = 0;
    if (syscall(SYS_socket, AF_NETLINK, 0x7f, 0) != -1 || errno != EAFNOSUPPORT) _exit(4);
    // Unfiltered: EINVAL (size 0). Filtered: ENOSYS.
    errno = 0;
    if (syscall(SYS_clone3, nullptr, 0) != -1 || errno != ENOSYS) _exit(5);
    // Still works: the filter is a deny list.
    if (syscall(SYS_getpid) != getpid()) _exit(6);
    _exit(0);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFEXITED(wstatus)) << "child ended by signal " << WTERMSIG(wstatus);
  if (WEXITSTATUS(wstatus) == kSkip) GTEST_SKIP() << "seccomp filters unavailable here";
  EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "check number " << WEXITSTATUS(wstatus) << " failed";
}

}  // namespace
}  // namespace tollgate::kernel
