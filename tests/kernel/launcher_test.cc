// Kernel-layer tests: real launches in user namespaces, with SandboxPlans built by hand (no plan
// compiler), so a failure points at the kernel layer. Only host programs under /usr are run in
// the sandbox; perl is used where a test needs the exact errno of one syscall (exit code = errno).
// Runs as root (the sandbox then runs as tgtest or nobody) and as an ordinary user.
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "policy/plans.h"
#include "supervisor/kernel/kernel_features.h"
#include "supervisor/kernel/landlock.h"
#include "supervisor/launcher.h"
#include "supervisor/run_result.h"
#include "tests/e2e/e2e_support.h"

namespace tollgate {
namespace {

namespace fs = std::filesystem;
using policy::LimitKind;
using policy::MountOp;
using policy::MountOpKind;

// The uid/gid the sandbox runs as: ourselves, or (as root) tgtest if it exists, else nobody.
SandboxIds TestIds() {
  if (::geteuid() != 0) return {::getuid(), ::getgid(), "self"};
  if (struct passwd* pw = ::getpwnam("tgtest")) return {pw->pw_uid, pw->pw_gid, "tgtest"};
  return {65534, 65534, "nobody"};
}

MountOp Op(MountOpKind kind, std::string source, std::string target) {
  MountOp op;
  op.kind = kind;
  op.source = std::move(source);
  op.target = std::move(target);
  return op;
}

class LauncherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ids_ = TestIds();
    char tmpl[] = "/tmp/tollgate-kernel-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    workspace_ = tmpl;
    ASSERT_EQ(::chmod(workspace_.c_str(), 0755), 0);
    if (::geteuid() == 0) {
      ASSERT_EQ(::chown(workspace_.c_str(), ids_.uid, ids_.gid), 0);
    }
    plan_ = MinimalPlan();
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(workspace_, ignored);
  }

  // /usr read-only and executable, the usual root symlinks, /proc, a minimal /dev, a noexec
  // /tmp, and the workspace writable at /workspace.
  policy::SandboxPlan MinimalPlan() {
    policy::SandboxPlan plan;
    plan.profile_name = "kernel-test";
    plan.cwd = "/workspace";
    auto& ops = plan.mounts.ops;
    MountOp usr = Op(MountOpKind::kBind, "/usr", "/usr");
    usr.exec = true;
    ops.push_back(usr);
    for (const char* link : {"/bin", "/lib", "/lib64", "/sbin"}) {
      MountOp op = Op(MountOpKind::kBind, link, link);  // host symlinks, mirrored
      op.exec = true;
      op.optional = true;
      ops.push_back(op);
    }
    ops.push_back(Op(MountOpKind::kProc, "", "/proc"));
    for (const char* ro : {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"}) {
      MountOp op = Op(MountOpKind::kReadOnly, "", ro);
      op.optional = true;
      ops.push_back(op);
    }
    ops.push_back(Op(MountOpKind::kTmpfs, "", "/dev"));
    for (const char* dev : {"null", "zero", "full", "random", "urandom", "tty"}) {
      MountOp op = Op(MountOpKind::kBind, std::string("/dev/") + dev, std::string("/dev/") + dev);
      op.device = true;
      op.writable = true;
      ops.push_back(op);
    }
    ops.push_back(Op(MountOpKind::kDevpts, "", "/dev/pts"));
    ops.push_back(Op(MountOpKind::kSymlink, "pts/ptmx", "/dev/ptmx"));
    ops.push_back(Op(MountOpKind::kSymlink, "/proc/self/fd", "/dev/fd"));
    ops.push_back(Op(MountOpKind::kSymlink, "/proc/self/fd/0", "/dev/stdin"));
    ops.push_back(Op(MountOpKind::kSymlink, "/proc/self/fd/1", "/dev/stdout"));
    ops.push_back(Op(MountOpKind::kSymlink, "/proc/self/fd/2", "/dev/stderr"));
    MountOp shm = Op(MountOpKind::kTmpfs, "", "/dev/shm");
    shm.writable = true;
    shm.size = 8 << 20;
    shm.mode = 01777;
    ops.push_back(shm);
    MountOp tmp = Op(MountOpKind::kTmpfs, "", "/tmp");
    tmp.writable = true;
    tmp.size = 16 << 20;
    tmp.mode = 01777;
    ops.push_back(tmp);
    MountOp ws = Op(MountOpKind::kBind, workspace_, "/workspace");
    ws.writable = true;
    ops.push_back(ws);
    plan.env.vars = {{"HOME", "/workspace"}, {"PATH", "/usr/bin:/bin"}};
    plan.network.new_namespace = true;
    plan.landlock.mode = policy::LandlockMode::kBestEffort;
    using policy::kLandlockDevice, policy::kLandlockExecute, policy::kLandlockRead,
        policy::kLandlockWrite;
    plan.landlock.rules = {
        {"/dev", kLandlockRead | kLandlockWrite | kLandlockDevice, "dev"},
        {"/proc", kLandlockRead | kLandlockWrite, "proc"},
        {"/tmp", kLandlockRead | kLandlockWrite, "tmp"},
        {"/usr", kLandlockRead | kLandlockExecute, "usr"},
        {"/workspace", kLandlockRead | kLandlockWrite, "workspace"},
    };
    plan.landlock.deny_tcp = true;
    return plan;
  }

  void AddRootReadOnly() { plan_.mounts.ops.push_back(Op(MountOpKind::kRootReadOnly, "", "/")); }

  void AddLimit(LimitKind kind, std::uint64_t value) {
    plan_.limits.limits.push_back({kind, value, "test"});
    std::sort(plan_.limits.limits.begin(), plan_.limits.limits.end(),
              [](const policy::Limit& a, const policy::Limit& b) { return a.kind < b.kind; });
  }

  RunResult Run(std::vector<std::string> argv, bool skip_teardown_wait = false) {
    LaunchOptions options;
    options.argv = std::move(argv);
    options.plan = plan_;
    options.host_uid = ids_.uid;
    options.host_gid = ids_.gid;
    options.skip_teardown_wait = skip_teardown_wait;
    return Launch(options);
  }

  RunResult Sh(const std::string& script) { return Run({"/bin/sh", "-c", script}); }

  // Runs with the command's stdout going to a file; returns what it wrote.
  std::string RunCapturing(std::vector<std::string> argv, RunResult* result) {
    std::string path = workspace_ + "/../" + fs::path(workspace_).filename().string() + ".stdout";
    int file = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    int saved = ::dup(1);
    ::fflush(stdout);
    ::dup2(file, 1);
    *result = Run(std::move(argv));
    ::dup2(saved, 1);
    ::close(saved);
    ::close(file);
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    ::unlink(path.c_str());
    return ss.str();
  }

  std::string Host(const std::string& relative) { return workspace_ + "/" + relative; }

  void WriteHostFile(const std::string& relative, const std::string& content) {
    fs::create_directories(fs::path(Host(relative)).parent_path());
    std::ofstream(Host(relative)) << content;
    if (::geteuid() == 0) {
      for (fs::path p = Host(relative); p.string().size() > workspace_.size();
           p = p.parent_path()) {
        ASSERT_EQ(::lchown(p.c_str(), ids_.uid, ids_.gid), 0);
      }
    }
  }

  SandboxIds ids_{};
  std::string workspace_;
  policy::SandboxPlan plan_;
};

std::string Describe(const RunResult& r) {
  return r.ToString();
}

// Whether `entry` is among the skipped mounts (/proc entries vary by kernel and are ignored).
bool Skipped(const RunResult& r, const std::string& entry) {
  return std::find(r.skipped_mounts.begin(), r.skipped_mounts.end(), entry) !=
         r.skipped_mounts.end();
}

// ---------------------------------------------------------------- status passthrough

TEST_F(LauncherTest, ExitStatusPassesThrough) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  RunResult r = Sh("exit 7");
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 7);
  EXPECT_EQ(r.ProcessExitCode(), 7);
}

TEST_F(LauncherTest, SignalPassesThrough) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  RunResult r = Sh("kill -TERM $$");
  ASSERT_EQ(r.status, RunStatus::kSignaled) << Describe(r);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_EQ(r.ProcessExitCode(), 143);
}

TEST_F(LauncherTest, MissingCommandIsASetupError) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  RunResult r = Run({"tollgate-no-such-program"});
  ASSERT_EQ(r.status, RunStatus::kSetupError) << Describe(r);
  EXPECT_EQ(r.failed_step, "execve (not found in the sandbox's PATH)");
  EXPECT_EQ(r.failed_errno, ENOENT);
  EXPECT_EQ(r.ProcessExitCode(), 127);  // the shell's "command not found"
  r = Run({"/workspace"});              // a directory: found, not executable
  ASSERT_EQ(r.status, RunStatus::kSetupError) << Describe(r);
  EXPECT_EQ(r.failed_errno, EACCES);
  EXPECT_EQ(r.ProcessExitCode(), 126);
}

// ---------------------------------------------------------------- identity and files

TEST_F(LauncherTest, RunsAsTheMappedUnprivilegedUid) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  ASSERT_NE(ids_.uid, 0u);
  RunResult r = Sh("test \"$(id -u)\" = " + std::to_string(ids_.uid) + " && test \"$(id -g)\" = " +
                   std::to_string(ids_.gid) + " && echo hi > /workspace/out");
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  ASSERT_EQ(r.exit_code, 0);
  struct stat st {};
  ASSERT_EQ(::stat(Host("out").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ids_.uid);  // the host sees the mapped uid, never root
  std::ifstream in(Host("out"));
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "hi");
}

TEST_F(LauncherTest, RootSupplementaryGroupsAreDropped) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  if (::geteuid() != 0) GTEST_SKIP() << "only meaningful when the supervisor is root";
  // /proc/self/status lists supplementary groups as host-visible kgids mapped inside; an
  // unmapped group (such as root's gid 0) would show as 65534.
  RunResult r = Sh("grep -q '^Groups:[[:space:]]*$' /proc/self/status");
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
}

TEST_F(LauncherTest, ReadOnlyBindRefusesWritesWithErofs) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  RunResult r =
      Run({"perl", "-e", "open(my $f, '>', '/usr/tollgate-probe') or exit($!+0); exit 0"});
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, EROFS);
}

TEST_F(LauncherTest, ReadOnlyRootRefusesNewTopLevelEntries) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  AddRootReadOnly();
  RunResult r = Run({"perl", "-e", "mkdir('/newdir') or exit($!+0); exit 0"});
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, EROFS);
}

TEST_F(LauncherTest, NoexecTmpRefusesExecution) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  RunResult r =
      Sh("cp /usr/bin/true /tmp/t && chmod 755 /tmp/t && exec perl -e 'exec(\"/tmp/t\") or "
         "exit($!+0)'");
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, EACCES);
}

TEST_F(LauncherTest, HiddenFileAndDirectoryAreUnreadable) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  WriteHostFile(".env", "SECRET=1\n");
  WriteHostFile("keys/id_rsa", "PRIVATE\n");
  plan_.mounts.ops.push_back(Op(MountOpKind::kHide, "", "/workspace/.env"));
  plan_.mounts.ops.push_back(Op(MountOpKind::kHide, "", "/workspace/keys"));
  plan_.mounts.ops.push_back(Op(MountOpKind::kHide, "", "/workspace/absent"));
  RunResult r =
      Run({"perl", "-e",
           "open(my $f, '<', '/workspace/.env') and exit(100); exit(101) unless $!{EACCES};"
           "opendir(my $d, '/workspace/keys') and exit(102); exit(103) unless $!{EACCES};"
           "open($f, '<', '/workspace/keys/id_rsa') and exit(104); exit 0"});
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(Skipped(r, "/workspace/absent")) << Describe(r);
}

// ---------------------------------------------------------------- protect

TEST_F(LauncherTest, ProtectedExistingFileCannotBeWritten) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  WriteHostFile(".git/config", "[core]\n");
  plan_.mounts.ops.push_back(Op(MountOpKind::kProtect, "", "/workspace/.git/config"));
  RunResult r =
      Run({"perl", "-e", "open(my $f, '>>', '/workspace/.git/config') or exit($!+0); exit 0"});
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, EROFS);
}

TEST_F(LauncherTest, ProtectedMissingPathCannotBeCreatedAndLeavesNoTrace) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  WriteHostFile(".git/HEAD", "ref: refs/heads/main\n");
  plan_.mounts.ops.push_back(Op(MountOpKind::kProtect, "", "/workspace/.git/hooks/pre-commit"));
  plan_.mounts.ops.push_back(Op(MountOpKind::kProtect, "", "/workspace/.claude/settings.json"));
  RunResult r = Run({"perl", "-e",
                     "mkdir('/workspace/.git/hooks') and exit(100); exit(101) unless $!{EEXIST};"
                     "open(my $f, '>', '/workspace/.git/hooks/pre-commit') and exit(102);"
                     "exit(103) unless $!{EROFS};"
                     "unlink('/workspace/.git/hooks') and exit(104);"
                     "rename('/workspace/.claude', '/workspace/x') and exit(105);"
                     "open($f, '>', '/workspace/.claude') and exit(106); exit 0"});
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_FALSE(fs::exists(fs::symlink_status(Host(".git/hooks"))));
  EXPECT_FALSE(fs::exists(fs::symlink_status(Host(".claude"))));
  EXPECT_TRUE(fs::exists(Host(".git/HEAD")));
}

TEST_F(LauncherTest, ProtectPlaceholderWithContentIsKept) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  plan_.mounts.ops.push_back(Op(MountOpKind::kProtect, "", "/workspace/.mcp.json"));
  RunResult r = Sh("true");
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_FALSE(fs::exists(fs::symlink_status(Host(".mcp.json"))));
}

TEST_F(LauncherTest, SymlinkAtProtectTargetIsRefused) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  WriteHostFile(".git/HEAD", "x\n");
  ASSERT_EQ(::symlink("/etc/passwd", Host(".git/config").c_str()), 0);
  plan_.mounts.ops.push_back(Op(MountOpKind::kProtect, "", "/workspace/.git/config"));
  RunResult r = Sh("true");
  ASSERT_EQ(r.status, RunStatus::kSetupError) << Describe(r);
  EXPECT_EQ(r.failed_errno, ELOOP);
  EXPECT_EQ(r.failed_path, "/workspace/.git/config");
  EXPECT_EQ(r.ProcessExitCode(), 125);
}

TEST_F(LauncherTest, SymlinkAtBindDestinationIsRefused) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  // CVE-2021-30465: a symlink planted where a later bind lands must not redirect the mount.
  ASSERT_EQ(::symlink("/tmp", Host("cache").c_str()), 0);
  MountOp op = Op(MountOpKind::kBind, "/usr/share", "/workspace/cache");
  plan_.mounts.ops.push_back(op);
  RunResult r = Sh("true");
  ASSERT_EQ(r.status, RunStatus::kSetupError) << Describe(r);
  EXPECT_EQ(r.failed_errno, ELOOP);
}

TEST_F(LauncherTest, MissingOptionalSourceIsSkippedAndReported) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  MountOp op = Op(MountOpKind::kBind, "/nonexistent-tollgate", "/opt/x");
  op.optional = true;
  plan_.mounts.ops.push_back(op);
  RunResult r = Sh("test ! -e /opt/x");
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(Skipped(r, "/opt/x (from /nonexistent-tollgate)")) << Describe(r);
  op.optional = false;
  plan_.mounts.ops.back() = op;
  r = Sh("true");
  ASSERT_EQ(r.status, RunStatus::kSetupError) << Describe(r);
  EXPECT_EQ(r.failed_errno, ENOENT);
  EXPECT_EQ(r.failed_path, "/nonexistent-tollgate");
}

TEST_F(LauncherTest, PinnedDirectoryCannotBeRenamed) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  WriteHostFile(".git/HEAD", "x\n");
  MountOp pin = Op(MountOpKind::kPin, "", "/workspace/.git");
  pin.writable = true;
  plan_.mounts.ops.push_back(pin);
  RunResult r = Run(
      {"perl", "-e",
       "rename('/workspace/.git', '/workspace/moved') and exit(100); exit(101) unless $!{EBUSY};"
       "open(my $f, '>', '/workspace/.git/new') or exit(102); exit 0"});
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
}

// ---------------------------------------------------------------- process hygiene

TEST_F(LauncherTest, LeakedSupervisorFdIsNotInherited) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  int fd = ::open("/", O_RDONLY | O_DIRECTORY);  // no O_CLOEXEC: a leak
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::dup2(fd, 42), 42);
  ::close(fd);
  RunResult r = Sh("test -e /proc/self/fd/42 && exit 1; ls /proc/self/fd | wc -l | grep -qx 4");
  ::close(42);
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
}

// The host's root and the base the view was built in are detached from the sandbox's mount
// namespace, not just out of sight: its mount table holds "/" and the plan's targets, nothing else.
TEST_F(LauncherTest, OnlyThePlansMountsAreLeftInTheNamespace) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  RunResult r;
  std::string mountinfo = RunCapturing({"cat", "/proc/self/mountinfo"}, &r);
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  std::set<std::string> allowed = {"/"};
  for (const auto& op : plan_.mounts.ops) allowed.insert(op.target);
  std::istringstream lines(mountinfo);
  int mounts = 0;
  for (std::string line; std::getline(lines, line); ++mounts) {
    std::istringstream fields(line);
    std::string id, parent, device, root, mount_point;
    fields >> id >> parent >> device >> root >> mount_point;
    EXPECT_TRUE(allowed.count(mount_point)) << "not in the plan: " << line;
  }
  EXPECT_GT(mounts, 5);
}

TEST_F(LauncherTest, EnvironmentIsExactlyThePlan) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  ::setenv("TOLLGATE_TEST_SECRET_TOKEN", "leak", 1);
  plan_.env.vars = {{"A_VAR", "one two"}, {"HOME", "/workspace"}, {"PATH", "/usr/bin:/bin"}};
  RunResult r;
  std::string out = RunCapturing({"env"}, &r);
  ::unsetenv("TOLLGATE_TEST_SECRET_TOKEN");
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(out, "A_VAR=one two\nHOME=/workspace\nPATH=/usr/bin:/bin\n");
}

TEST_F(LauncherTest, ProgramIsFoundInTheSandboxPath) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  // The supervisor's PATH does not matter; the sandbox's does.
  plan_.env.vars = {{"PATH", "/nonexistent:/usr/bin"}};
  RunResult r = Run({"true"});
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
}

TEST_F(LauncherTest, HostnameAndPidNamespace) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  plan_.hostname = "sandbox-test";
  RunResult r = Sh("test \"$(cat /proc/sys/kernel/hostname)\" = sandbox-test && test $$ = 2");
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
}

TEST_F(LauncherTest, SandboxDiesWithTheSupervisor) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  const std::string marker = "1000." + std::to_string(::getpid());
  pid_t supervisor = ::fork();
  ASSERT_GE(supervisor, 0);
  if (supervisor == 0) {
    Run({"sleep", marker});
    _exit(0);
  }
  // Find the sleep on the host by its unique argument.
  auto find_sleep = [&marker]() -> pid_t {
    for (const auto& entry : fs::directory_iterator("/proc")) {
      std::string name = entry.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream in(entry.path() / "cmdline");
      std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (cmdline == "sleep" + std::string(1, '\0') + marker + std::string(1, '\0'))
        return std::stoi(name);
    }
    return 0;
  };
  pid_t sleeper = 0;
  for (int i = 0; i < 200 && sleeper == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    sleeper = find_sleep();
  }
  ASSERT_NE(sleeper, 0) << "the sandboxed sleep never started";
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  ::waitpid(supervisor, nullptr, 0);
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = find_sleep() == 0;
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "the sandbox outlived its supervisor";
}

TEST_F(LauncherTest, SignalToTheSupervisorIsForwarded) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  // Another process sends SIGTERM to this one while the sandbox runs; Launch blocks it and
  // passes it on, so the command ends by SIGTERM and this test process survives.
  pid_t self = ::getpid();
  pid_t sender = ::fork();
  ASSERT_GE(sender, 0);
  if (sender == 0) {
    ::usleep(300 * 1000);
    ::kill(self, SIGTERM);
    _exit(0);
  }
  RunResult r = Run({"sleep", "5"});
  ::waitpid(sender, nullptr, 0);
  ASSERT_EQ(r.status, RunStatus::kSignaled) << Describe(r);
  EXPECT_EQ(r.signal, SIGTERM);
}

// ---------------------------------------------------------------- limits

TEST_F(LauncherTest, WallClockLimitTimesOut) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  AddLimit(LimitKind::kWallSeconds, 1);
  auto start = std::chrono::steady_clock::now();
  RunResult r = Run({"sleep", "30"});
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(r.status, RunStatus::kTimeout) << Describe(r);
  EXPECT_EQ(r.ProcessExitCode(), 124);
  EXPECT_EQ(r.limits_hit, std::vector<LimitKind>{LimitKind::kWallSeconds});
  EXPECT_LT(elapsed, 5.0);
}

TEST_F(LauncherTest, ForkBombHitsTheProcessLimit) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  AddLimit(LimitKind::kProcesses, 10);
  AddLimit(LimitKind::kWallSeconds, 20);
  // A bomb that keeps trying after fork fails (as real ones do) and stays at the limit for a
  // while: the init's sampling must see it there.
  RunResult r = Run({"perl", "-e",
                     "my $failed = 0; for (1..40) { my $p = fork; if (!defined $p) { $failed++; "
                     "next } if (!$p) { sleep 2; exit 0 } } sleep 1; exit($failed ? 3 : 0)"});
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_EQ(r.limits_hit, std::vector<LimitKind>{LimitKind::kProcesses});
  ASSERT_FALSE(r.enforcement.empty());
  EXPECT_NE(r.enforcement[0].mechanism.find("RLIMIT_NPROC"), std::string::npos)
      << r.enforcement[0].mechanism;
}

TEST_F(LauncherTest, FileSizeLimitIsReported) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  AddLimit(LimitKind::kFileSize, 1 << 20);
  RunResult r = Sh("exec head -c 3000000 /dev/zero > /workspace/big");
  ASSERT_EQ(r.status, RunStatus::kSignaled) << Describe(r);
  EXPECT_EQ(r.signal, SIGXFSZ);
  EXPECT_EQ(r.limits_hit, std::vector<LimitKind>{LimitKind::kFileSize});
  EXPECT_EQ(fs::file_size(Host("big")), 1u << 20);
}

TEST_F(LauncherTest, FullTmpfsIsReported) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  for (auto& op : plan_.mounts.ops) {
    if (op.target == "/tmp") op.size = 1 << 20;
  }
  AddLimit(LimitKind::kTmpfs, 1 << 20);
  RunResult r = Sh("head -c 3000000 /dev/zero > /tmp/fill 2>/dev/null; exit 0");
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.limits_hit, std::vector<LimitKind>{LimitKind::kTmpfs});
  ASSERT_EQ(r.enforcement.size(), 1u);
  EXPECT_EQ(r.enforcement[0].mechanism, "tmpfs /dev/shm size=8388608, /tmp size=1048576");
}

TEST_F(LauncherTest, NoLimitIsReportedWhenNoneIsReached) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  AddLimit(LimitKind::kMemory, 256 << 20);
  AddLimit(LimitKind::kProcesses, 50);
  AddLimit(LimitKind::kFileSize, 1 << 20);
  AddLimit(LimitKind::kTmpfs, 16 << 20);
  RunResult r = Sh("echo small > /tmp/x && sleep 0.2");
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_TRUE(r.limits_hit.empty()) << Describe(r);
}

TEST_F(LauncherTest, MemoryLimitIsReported) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  AddLimit(LimitKind::kMemory, 64 << 20);
  RunResult r = Run({"perl", "-e", "my @a; push @a, 'x' x 1048576 while 1"});
  ASSERT_NE(r.status, RunStatus::kSetupError) << Describe(r);
  EXPECT_NE(r.ProcessExitCode(), 0);
  EXPECT_EQ(r.limits_hit, std::vector<LimitKind>{LimitKind::kMemory}) << Describe(r);
}

TEST_F(LauncherTest, APerProcessMemoryCapDoesNotCountAsEnforced) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  AddLimit(LimitKind::kMemory, 1ull << 30);
  plan_.limits.require_enforced = true;
  RunResult r = Sh("true");
  if (r.status == RunStatus::kExited) {
    // A delegated cgroup v2 enforces it for the whole sandbox.
    for (const auto& e : r.enforcement) {
      if (e.kind == LimitKind::kMemory) {
        EXPECT_EQ(e.mechanism, "cgroup memory.max");
      }
    }
    return;
  }
  ASSERT_EQ(r.status, RunStatus::kSetupError) << Describe(r);
  EXPECT_NE(r.reason.find("memory"), std::string::npos) << r.reason;
}

TEST_F(LauncherTest, RequireEnforcedRefusesAnUnenforceableLimit) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  plan_.mounts.ops.erase(
      std::remove_if(plan_.mounts.ops.begin(), plan_.mounts.ops.end(),
                     [](const MountOp& op) { return op.kind == MountOpKind::kTmpfs && op.size; }),
      plan_.mounts.ops.end());
  AddLimit(LimitKind::kTmpfs, 1 << 20);
  plan_.limits.require_enforced = true;
  RunResult r = Sh("true");
  ASSERT_EQ(r.status, RunStatus::kSetupError) << Describe(r);
  EXPECT_NE(r.reason.find("tmpfs"), std::string::npos) << r.reason;
  plan_.limits.require_enforced = false;
  r = Sh("true");
  EXPECT_EQ(r.status, RunStatus::kExited) << Describe(r);
  ASSERT_EQ(r.enforcement.size(), 1u);
  EXPECT_FALSE(r.enforcement[0].enforced);
}

// ---------------------------------------------------------------- Landlock

TEST_F(LauncherTest, LandlockDeniesAMountedPathOutsideItsRules) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  int abi = kernel::LandlockAbiVersion();
  if (abi == 0) GTEST_SKIP() << "Landlock is not available on this kernel";
  plan_.mounts.ops.push_back(Op(MountOpKind::kBind, "/etc", "/etc"));  // mounted, but no rule
  RunResult r =
      Run({"perl", "-e",
           "open(my $f, '<', '/usr/share/perl5') ; opendir(my $d, '/usr/bin') or exit(100);"
           "open($f, '<', '/etc/hostname') and exit(101); exit($!+0)"});
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, EACCES);
  EXPECT_EQ(r.landlock_abi, abi);
  plan_.landlock.mode = policy::LandlockMode::kOff;
  r = Run({"perl", "-e", "open(my $f, '<', '/etc/hostname') or exit($!+0); exit 0"});
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.landlock_abi, 0);
}

TEST_F(LauncherTest, LandlockDeniesTcpWhenAsked) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  if (kernel::LandlockAbiVersion() < 4) GTEST_SKIP() << "Landlock ABI 4 (TCP) not available";
  RunResult r =
      Run({"perl", "-MSocket", "-e",
           "socket(my $s, PF_INET, SOCK_STREAM, 0) or exit(100);"
           "bind($s, pack_sockaddr_in(8080, inet_aton('127.0.0.1'))) and exit(101); exit($!+0)"});
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, EACCES);
}

TEST_F(LauncherTest, ReturningAtTheReportKeepsStatusAndResourceUsage) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  // Burn some CPU in a grandchild: the usage must come from what the init reaped.
  RunResult r = Run({"/bin/sh", "-c", "perl -e '$i++ while $i < 20000000'; exit 3"},
                    /*skip_teardown_wait=*/true);
  ASSERT_EQ(r.status, RunStatus::kExited) << Describe(r);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_GT(r.usage.user_seconds + r.usage.system_seconds, 0.05);
  EXPECT_GT(r.usage.max_rss_kib, 0u);
  // The init may still be tearing the namespaces down: reap it so the test leaves no zombie.
  while (::waitpid(-1, nullptr, 0) > 0) {
  }
}

}  // namespace
}  // namespace tollgate
