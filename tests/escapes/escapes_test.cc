// Attack probes (SECURITY.md classes 1-18, 20, 22, 23, 25) run twice: directly, to show that the
// attempt works (or reaches the kernel) on this machine, and under the real tollgate binary, where
// it must be blocked with the expected errno, tollgate must exit with the probe's own status (1)
// and, for file system attacks, the host must show no trace of the attempt.
//
// docs/SECURITY-TESTS.md lists every case with the layer expected to stop it. A case that fails
// here with "allowed" inside the sandbox is an escape: do not relax its expectation, fix the
// sandbox.
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <ftw.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/escapes/probe_runner.h"

namespace tollgate::escapes {
namespace {

constexpr uid_t kNobody = 65534;  // the sandbox uid the suite picks when it runs as root
constexpr const char* kPwned = "TOLLGATE-PWNED";

bool IsRoot() {
  return geteuid() == 0;
}

void MakeDirs(const std::string& path, mode_t mode = 0755) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') mkdir(path.substr(0, i).c_str(), mode);
  }
}

// Host services the network probes try to reach: a TCP listener (never accepts; the kernel
// completes the handshake) and a UDP echo server, both on every address of the host.
class HostServices {
 public:
  static HostServices& Get() {
    static HostServices services;
    return services;
  }
  int tcp_port() const { return tcp_port_; }
  int udp_port() const { return udp_port_; }
  const std::string& host_ip() const { return host_ip_; }

 private:
  HostServices() {
    tcp_fd_ = Bind(SOCK_STREAM, &tcp_port_);
    if (tcp_fd_ >= 0) listen(tcp_fd_, 128);
    udp_fd_ = Bind(SOCK_DGRAM, &udp_port_);
    if (udp_fd_ >= 0) {
      std::thread([fd = udp_fd_] {
        char buf[512];
        for (;;) {
          sockaddr_storage from{};
          socklen_t len = sizeof from;
          ssize_t n = recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
          if (n > 0)
            sendto(fd, buf, static_cast<size_t>(n), 0, reinterpret_cast<sockaddr*>(&from), len);
        }
      }).detach();
    }
    ifaddrs* addrs = nullptr;
    if (getifaddrs(&addrs) == 0) {
      for (ifaddrs* a = addrs; a != nullptr; a = a->ifa_next) {
        if (a->ifa_addr == nullptr || a->ifa_addr->sa_family != AF_INET) continue;
        if (a->ifa_flags & IFF_LOOPBACK) continue;
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, text,
                  sizeof text);
        host_ip_ = text;
        break;
      }
      freeifaddrs(addrs);
    }
  }
  static int Bind(int type, int* port) {
    int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return -1;
    }
    *port = ntohs(addr.sin_port);
    return fd;
  }
  int tcp_fd_ = -1, udp_fd_ = -1, tcp_port_ = 0, udp_port_ = 0;
  std::string host_ip_;
};

// One run's private tree: the workspace, a fake HOME with planted secrets, a folder outside both
// (targets of planted symlinks), the supervisor's state and cache folders.
struct World {
  std::string root, ws, home, outside, tmp, state;
  pid_t canary = -1;
  int leaked_fd = -1;

  World() {
    char templ[] = "/tmp/tollgate-escape-XXXXXX";
    root = mkdtemp(templ);
    chmod(root.c_str(), 0755);
    ws = root + "/ws";
    home = root + "/home";
    outside = root + "/outside";
    tmp = root + "/tmp";
    state = root + "/state";
    for (const std::string& dir : {ws, home, outside, tmp}) MakeDirs(dir);
    MakeDirs(state, 0700);
    MakeDirs(home + "/.ssh", 0700);
    MakeDirs(home + "/.aws");
    MakeDirs(home + "/.config/gh");
    WriteFile(home + "/.ssh/id_ed25519", "TOLLGATE-SECRET-SSH\n", 0600);
    WriteFile(home + "/.aws/credentials", "TOLLGATE-SECRET-AWS\n", 0600);
    WriteFile(home + "/.config/gh/hosts.yml", "TOLLGATE-SECRET-GH\n", 0600);
    WriteFile(ws + "/.env", "TOLLGATE-SECRET-ENV\n", 0600);
    WriteFile(ws + "/README.md", "a project\n");
    MakeDirs(ws + "/.git/hooks");
    WriteFile(ws + "/.git/HEAD", "ref: refs/heads/main\n");
    WriteFile(ws + "/.git/config", "[core]\n\trepositoryformatversion = 0\n");
    WriteFile(ws + "/.git/hooks/pre-commit.sample", "#!/bin/sh\n", 0755);
    symlink((home + "/.ssh/id_ed25519").c_str(), (ws + "/link-ssh").c_str());
    symlink(".env", (ws + "/link-env").c_str());
  }
  ~World() {
    if (leaked_fd >= 0) close(leaked_fd);
    if (canary > 0) {
      kill(canary, SIGKILL);
      waitpid(canary, nullptr, 0);
    }
    if (getenv("TOLLGATE_KEEP_WORLDS") == nullptr) RemoveTree(root);
  }
  // As root the sandbox runs as nobody (the owner of the workspace): hand it the trees it would
  // own as an ordinary user's.
  void HandToSandboxUser() const {
    if (!IsRoot()) return;
    for (const std::string& dir : {ws, home, outside, tmp}) {
      nftw(
          dir.c_str(),
          [](const char* p, const struct stat*, int, struct FTW*) {
            lchown(p, kNobody, kNobody);
            return 0;
          },
          16, FTW_PHYS);
    }
  }
  // The paths under `dir` whose content holds the payload marker.
  std::vector<std::string> FilesWithMarker(const std::string& dir) const {
    static std::vector<std::string>* found;
    std::vector<std::string> result;
    found = &result;
    nftw(
        dir.c_str(),
        [](const char* p, const struct stat* st, int type, struct FTW*) {
          if (type == FTW_F && S_ISREG(st->st_mode) &&
              ReadFile(p).find(kPwned) != std::string::npos) {
            found->push_back(p);
          }
          return 0;
        },
        16, FTW_PHYS);
    return result;
  }
};

enum class Outside {
  kAllowed,            // the attempt must work (or reach the kernel) outside the sandbox
  kAllowedIfRoot,      // as root it must; an ordinary user may get `outside_errnos` from the kernel
  kSkipUnlessAllowed,  // a kernel or host feature: skip the case when it does not work outside
  kRootOnly,           // the case needs root (a setuid-root file); skipped otherwise
  kNever,              // destructive outside a sandbox: run inside only
};

struct Case {
  std::string name;
  int cls = 0;
  std::string probe;  // probe-<probe> in BinDir(), or a path with placeholders
  std::vector<std::string> args;
  std::string profile = "workspace-write";
  std::set<std::string> blocked = {"EPERM"};  // errnos accepted inside the sandbox
  Outside outside = Outside::kAllowed;
  std::set<std::string> outside_errnos;  // kAllowedIfRoot: what an ordinary user gets
  std::set<std::string> absent_outside;  // outside errnos meaning "not on this host": skip
  bool may_refuse_launch = false;        // tollgate exiting 125 (setup refused) also passes,
  std::string refusal_mentions;          // when its message names this
  std::string profile_filesystem;        // extra JSON members of the test profile's filesystem
  std::vector<std::string> env;          // extra environment for both runs
  bool leak_fd = false;                  // leak a directory fd of the fake HOME into both runs
  bool outside_as_nobody = false;        // run the outside probe as uid 65534 (root only)
  // The syscall the filter refuses: the run's audit log must hold a syscall.denied record of it.
  // Empty when the refusal is not seccomp's (Landlock, the mount view, a capability) or is a
  // compatibility answer that is not recorded (clone3's ENOSYS).
  std::string denied_syscall;
  std::function<void(World&)> setup;
  std::function<void(const World&, bool inside)> verify;
};

// gtest prints a failing parameter with this instead of its bytes.
void PrintTo(const Case& c, std::ostream* os) {
  *os << "class " << c.cls << " probe-" << c.probe;
  for (const std::string& arg : c.args) *os << " " << arg;
  *os << " (profile " << c.profile << ")";
}

struct ProbeRun {
  ProcessResult process;
  ProbeLine probe;
  nlohmann::json result;  // --result-json, when tollgate wrote it
  std::string Describe() const {
    std::string text = "probe line: " + (probe.found ? probe.line : "(none)") +
                       "\nexit code: " + std::to_string(process.exit_code) +
                       " signal: " + std::to_string(process.signal) +
                       (process.timed_out ? " TIMED OUT" : "") + "\nstdout:\n" + process.out +
                       "\nstderr:\n" + process.err;
    if (!result.is_null()) text += "\nresult json: " + result.dump();
    return text;
  }
};

std::string Expand(std::string arg, const World& w, bool inside) {
  HostServices& services = HostServices::Get();
  const std::map<std::string, std::string> values = {
      {"{ws}", w.ws},
      {"{home}", w.home},
      {"{outside}", w.outside},
      {"{bindir}", BinDir()},
      {"{tollgate}", BinDir() + "/tollgate"},
      {"{port}", std::to_string(services.tcp_port())},
      {"{udp-port}", std::to_string(services.udp_port())},
      {"{host-ip}", services.host_ip()},
      // A writable place that must not be executable inside; the world's own tmp outside.
      {"{tmp}", inside ? "/tmp" : w.tmp},
      {"{shm}", inside ? "/dev/shm" : w.tmp},
      {"{sandbox-home}", inside ? "$HOME" : w.tmp},
      // The supervisor inside (the child that execs tollgate); the test process outside.
      {"{supervisor}", inside ? "{self}" : std::to_string(getpid())},
  };
  for (const auto& [key, value] : values) {
    for (size_t at = arg.find(key); at != std::string::npos;
         at = arg.find(key, at + value.size())) {
      arg.replace(at, key.size(), value);
    }
  }
  return arg;
}

std::vector<std::string> BaseEnv(const World& w, const Case& c) {
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin",
                                  "HOME=" + w.home,
                                  "USER=" + std::string(IsRoot() ? "root" : "user"),
                                  "LANG=C.UTF-8",
                                  "XDG_STATE_HOME=" + w.state,
                                  "XDG_CACHE_HOME=" + w.root + "/cache",
                                  "TMPDIR=" + w.tmp};
  for (const std::string& var : c.env) env.push_back(Expand(var, w, false));
  return env;
}

std::vector<std::string> ProbeCommand(const Case& c, const World& w, bool inside) {
  std::vector<std::string> argv;
  argv.push_back(c.probe.find('/') == std::string::npos && c.probe.find('{') == std::string::npos
                     ? BinDir() + "/probe-" + c.probe
                     : Expand(c.probe, w, inside));
  for (const std::string& arg : c.args) argv.push_back(Expand(arg, w, inside));
  return argv;
}

void Prepare(World& w, const Case& c) {
  w.HandToSandboxUser();
  if (c.setup) c.setup(w);
  if (c.leak_fd) w.leaked_fd = open(w.home.c_str(), O_RDONLY | O_DIRECTORY);  // no O_CLOEXEC
}

ProbeRun RunOutside(World& w, const Case& c) {
  ProcessSpec spec;
  spec.argv = ProbeCommand(c, w, false);
  spec.env = BaseEnv(w, c);
  spec.cwd = w.ws;
  spec.stdout_path = w.root + "/outside.out";
  spec.stderr_path = w.root + "/outside.err";
  spec.keep_fd = w.leaked_fd;
  spec.timeout_seconds = 30;
  if (c.outside_as_nobody) spec.run_as_uid = kNobody;
  ProbeRun run;
  run.process = RunProcess(spec);
  run.probe = ParseProbeLine(run.process.out);
  return run;
}

ProbeRun RunInside(World& w, const Case& c) {
  std::string profile = w.root + "/profile.json";
  std::string extra = c.profile_filesystem.empty() ? "" : ", " + c.profile_filesystem;
  WriteFile(profile, R"({"name": "escape-)" + c.profile + R"(", "description": "escape test: )" +
                         c.profile + R"( plus the probe binaries", "extends": [")" + c.profile +
                         R"("], "filesystem": {"read": [")" + BinDir() + R"("], "exec": [")" +
                         BinDir() + R"("])" + extra + "}}\n");
  ProcessSpec spec;
  spec.argv = {BinDir() + "/tollgate",
               "run",
               "--profile",
               profile,
               "--workspace",
               w.ws,
               "--result-json",
               w.root + "/result.json",
               "--audit-log",
               w.root + "/audit",
               "--"};
  for (const std::string& arg : ProbeCommand(c, w, true)) spec.argv.push_back(arg);
  spec.env = BaseEnv(w, c);
  spec.cwd = w.ws;
  spec.stdout_path = w.root + "/inside.out";
  spec.stderr_path = w.root + "/inside.err";
  spec.keep_fd = w.leaked_fd;
  spec.timeout_seconds = 60;
  ProbeRun run;
  run.process = RunProcess(spec);
  run.probe = ParseProbeLine(run.process.out);
  std::string json = ReadFile(w.root + "/result.json");
  if (!json.empty()) run.result = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  return run;
}

std::string Join(const std::set<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : "|") + item;
  return text;
}

// The records of `kind` in an audit log directory, in chain order.
std::vector<nlohmann::json> AuditRecords(const std::string& dir, const std::string& kind) {
  std::vector<nlohmann::json> records;
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.rfind("audit-", 0) == 0 && name.size() > 6 &&
          name.compare(name.size() - 6, 6, ".jsonl") == 0)
        names.push_back(name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::istringstream lines(ReadFile(dir + "/" + name));
    for (std::string line; std::getline(lines, line);) {
      nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
      if (record.is_object() && record.value("kind", "") == kind) records.push_back(record);
    }
  }
  return records;
}

class EscapeTest : public ::testing::TestWithParam<Case> {};

TEST_P(EscapeTest, BlockedInsideOnly) {
  const Case& c = GetParam();
  ASSERT_EQ(access((BinDir() + "/tollgate").c_str(), X_OK), 0)
      << "no tollgate next to the test binary in " << BinDir();
  if (c.outside == Outside::kRootOnly && !IsRoot()) {
    GTEST_SKIP() << "class " << c.cls << " " << c.name
                 << ": needs root to make a setuid-root file; run the suite as root";
  }

  if (c.outside != Outside::kNever) {
    World w;
    Prepare(w, c);
    ProbeRun outside = RunOutside(w, c);
    ASSERT_TRUE(outside.probe.found) << "the probe printed no RESULT line outside the sandbox\n"
                                     << outside.Describe();
    if (outside.probe.verdict == "skip") GTEST_SKIP() << outside.probe.line;
    std::cout << "[ outside ] " << outside.probe.line << "\n";
    if (outside.probe.verdict == "blocked" && c.absent_outside.count(outside.probe.err)) {
      GTEST_SKIP() << "not present on this host, so nothing to block: " << outside.probe.line;
    }
    switch (c.outside) {
      case Outside::kSkipUnlessAllowed:
        if (outside.probe.verdict != "allowed") {
          GTEST_SKIP() << "not available on this host, so nothing to block: " << outside.probe.line;
        }
        break;
      case Outside::kAllowedIfRoot:
        if (!IsRoot()) {
          ASSERT_TRUE(outside.probe.verdict == "allowed" ||
                      c.outside_errnos.count(outside.probe.err))
              << "an ordinary user should get " << Join(c.outside_errnos)
              << " from the kernel outside the sandbox\n"
              << outside.Describe();
          if (outside.probe.verdict != "allowed") {
            std::cout << "[ note    ] as an ordinary user the kernel already refuses this ("
                      << outside.probe.err << "); the run as root is the proof\n";
          }
          break;
        }
        [[fallthrough]];
      default:
        ASSERT_EQ(outside.probe.verdict, "allowed")
            << "the attempt must work outside the sandbox, or the probe proves nothing\n"
            << outside.Describe();
        EXPECT_EQ(outside.process.exit_code, 0) << outside.Describe();
    }
    if (c.verify) c.verify(w, false);
  }

  World w;
  Prepare(w, c);
  ProbeRun inside = RunInside(w, c);
  if (c.may_refuse_launch && inside.process.exit_code == 125) {
    std::cout << "[ inside  ] tollgate refused to launch (125): " << inside.process.err << "\n";
    EXPECT_NE(inside.process.err.find(c.refusal_mentions), std::string::npos)
        << "tollgate refused to launch, but not because of " << c.refusal_mentions << "\n"
        << inside.Describe();
    if (c.verify) c.verify(w, true);
    return;
  }
  ASSERT_FALSE(inside.process.timed_out) << inside.Describe();
  ASSERT_TRUE(inside.probe.found) << "the probe printed no RESULT line inside the sandbox\n"
                                  << inside.Describe();
  std::cout << "[ inside  ] " << inside.probe.line << "\n";
  EXPECT_EQ(inside.probe.verdict, "blocked")
      << "ESCAPE: class " << c.cls << " attack succeeded inside the sandbox\n"
      << inside.Describe();
  EXPECT_TRUE(c.blocked.count(inside.probe.err))
      << "blocked with " << inside.probe.err << ", expected " << Join(c.blocked) << "\n"
      << inside.Describe();
  int probe_status = inside.probe.verdict == "allowed"   ? 0
                     : inside.probe.verdict == "blocked" ? 1
                                                         : 2;
  EXPECT_EQ(inside.process.exit_code, probe_status)
      << "tollgate must exit with the probe's own status\n"
      << inside.Describe();
  ASSERT_TRUE(inside.result.is_object()) << "no --result-json written\n" << inside.Describe();
  EXPECT_EQ(inside.result.value("status", ""), "exited") << inside.Describe();
  EXPECT_EQ(inside.result.value("exit_code", -1), probe_status) << inside.Describe();
  if (!c.denied_syscall.empty()) {
    std::vector<nlohmann::json> denied = AuditRecords(w.root + "/audit", "syscall.denied");
    EXPECT_TRUE(std::any_of(denied.begin(), denied.end(),
                            [&](const nlohmann::json& r) {
                              return r["details"].value("syscall", "") == c.denied_syscall &&
                                     r["verdict"] == "deny";
                            }))
        << "no syscall.denied record of " << c.denied_syscall << " in the audit log; found "
        << nlohmann::json(denied).dump();
  }
  if (c.verify) c.verify(w, true);
}

// Class 20: kill the supervisor and expect the sandbox to live on; it must die with it. The
// sandboxed shell appends to a heartbeat file in the workspace (for at most ~20 s, so a surviving
// sandbox cannot outlive the test by long); after SIGKILL to tollgate the file must stop growing.
TEST(EscapeSupervisorDeath, SandboxDiesWithTheSupervisor) {
  ASSERT_EQ(access((BinDir() + "/tollgate").c_str(), X_OK), 0) << "no tollgate in " << BinDir();
  World w;
  w.HandToSandboxUser();
  const std::string beat = w.ws + "/heartbeat";
  Case c;
  ProcessSpec spec;
  spec.argv = {
      BinDir() + "/tollgate",
      "run",
      "--profile",
      "workspace-write",
      "--workspace",
      w.ws,
      "--audit-log",
      w.root + "/audit",
      "--",
      "/bin/sh",
      "-c",
      "i=0; while [ $i -lt 400 ]; do echo x >> " + beat + "; sleep 0.05; i=$((i+1)); done"};
  spec.env = BaseEnv(w, c);
  std::vector<char*> argv, envp;
  for (std::string& arg : spec.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  for (std::string& var : spec.env) envp.push_back(var.data());
  envp.push_back(nullptr);
  std::string log = w.root + "/supervisor.err";
  int err = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(err, 2);
    if (chdir(w.ws.c_str()) != 0) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(err);
  ASSERT_GT(pid, 0);
  auto size = [&beat] {
    struct stat st;
    return stat(beat.c_str(), &st) == 0 ? st.st_size : -1;
  };
  for (int i = 0; i < 200 && size() <= 0; ++i) usleep(50000);
  if (size() <= 0) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    FAIL() << "the sandboxed heartbeat never started\n" << ReadFile(log);
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  usleep(500000);
  off_t after_kill = size();
  usleep(1000000);
  EXPECT_EQ(size(), after_kill)
      << "ESCAPE: the sandbox kept running after its supervisor was killed";
  // The audit log holds every record written before the kill, each whole, the chain intact.
  ProcessSpec verify;
  verify.argv = {BinDir() + "/tollgate", "audit", "verify", "--audit-log", w.root + "/audit"};
  verify.env = BaseEnv(w, c);
  verify.stdout_path = w.root + "/verify.out";
  verify.stderr_path = w.root + "/verify.err";
  verify.timeout_seconds = 30;
  ProcessResult verified = RunProcess(verify);
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  std::vector<nlohmann::json> execs = AuditRecords(w.root + "/audit", "exec");
  EXPECT_GE(execs.size(), 2u) << "the shell and at least one sleep were recorded";
  EXPECT_EQ(AuditRecords(w.root + "/audit", "run.end").size(), 0u)
      << "a killed supervisor cannot have ended the run";
}

// ------------------------------------------------------------------------------ the cases

// Inside: no file under the workspace (or the folder outside it) holds the payload, except the
// probe's own staging file (*.tollgate-tmp) in the writable part of the workspace.
void NoPayloadInside(const World& w, bool inside) {
  std::vector<std::string> hits;
  for (const std::string& dir : {w.ws, w.outside}) {
    for (const std::string& hit : w.FilesWithMarker(dir)) {
      if (!hit.ends_with(".tollgate-tmp")) hits.push_back(hit);
    }
  }
  if (inside) {
    for (const std::string& hit : hits) ADD_FAILURE() << "ESCAPE: the sandbox wrote " << hit;
  } else {
    EXPECT_FALSE(hits.empty())
        << "the probe claims it wrote the payload outside, but no file has it";
  }
}

void RemoveGit(World& w) {
  RemoveTree(w.ws + "/.git");
}

void PlantAgentSettings(World& w) {
  MakeDirs(w.ws + "/.claude");
  MakeDirs(w.ws + "/.codex");
  WriteFile(w.ws + "/.claude/settings.json", "{}\n");
  WriteFile(w.ws + "/.mcp.json", "{}\n");
  WriteFile(w.ws + "/.codex/config.toml", "\n");
  WriteFile(w.ws + "/.envrc", "\n");
  w.HandToSandboxUser();
}

// The syscall each kernel-surface probe makes that the filter refuses.
std::string DeniedSyscall(const std::string& probe, const std::string& arg) {
  static const std::map<std::string, std::string> kByArg = {
      {"tty/tiocsti", "ioctl"},
      {"tty/tiocsti-high", "ioctl"},
      {"tty/tioclinux", "ioctl"},
      {"tty/tioclinux-high", "ioctl"},
      {"ptrace/attach", "ptrace"},
      {"ptrace/seize", "ptrace"},
      {"ptrace/vm_readv", "process_vm_readv"},
      {"ptrace/vm_writev", "process_vm_writev"},
      {"userns/unshare-user", "unshare"},
      {"userns/unshare-user-mnt", "unshare"},
      {"userns/unshare-all", "unshare"},
      {"userns/clone-user", "clone"},
      {"userns/clone-user-mnt", "clone"},
      {"userns/clone3-user", ""},  // ENOSYS in the kernel, for libc's fallback: not recorded
      {"userns/clone3-badsize", ""},
      {"iouring/setup", "io_uring_setup"},
      {"iouring/enter", "io_uring_enter"},
      {"iouring/register", "io_uring_register"},
      {"abi/int80-getpid", "getpid"},
      {"abi/int80-ptrace", "ptrace"},
      {"abi/int80-mount", "mount"},
      {"abi/x32-getpid", "getpid"},
      {"abi/x32-ptrace", "ptrace"},
      {"persona/read-implies-exec", "personality"},
      {"persona/read-implies-exec-high", "personality"},
      {"persona/seccomp-listener", "seccomp"},
      {"sockfam/vsock", "socket"},
      {"sockfam/packet", "socket"},
      {"sockfam/netlink", "socket"},
  };
  auto it = kByArg.find(probe + "/" + arg);
  return it != kByArg.end() ? it->second : arg;  // else the probe's argument is the syscall
}

std::vector<Case> KernelCases() {
  std::vector<Case> cases;
  auto add = [&](int cls, const std::string& probe, const std::string& arg,
                 std::set<std::string> blocked = {"EPERM"}, Outside outside = Outside::kAllowed,
                 std::set<std::string> outside_errnos = {}) {
    Case c;
    c.name = probe + "_" + arg;
    c.cls = cls;
    c.probe = probe;
    c.args = {arg};
    c.blocked = std::move(blocked);
    c.outside = outside;
    c.outside_errnos = std::move(outside_errnos);
    c.denied_syscall = DeniedSyscall(probe, arg);
    cases.push_back(c);
  };
  for (const char* arg : {"tiocsti", "tiocsti-high", "tioclinux", "tioclinux-high"})
    add(1, "tty", arg);
  for (const char* arg : {"open_by_handle_at", "name_to_handle_at"}) add(2, "handle", arg);
  for (const char* arg : {"attach", "seize", "vm_readv", "vm_writev", "pidfd_getfd", "kcmp"}) {
    add(3, "ptrace", arg);
  }
  // A nested user namespace may also be refused by the kernel (user.max_user_namespaces = 0
  // inside: ENOSPC); clone3 is commonly answered ENOSYS so that libc falls back to clone.
  for (const char* arg :
       {"unshare-user", "unshare-user-mnt", "unshare-all", "clone-user", "clone-user-mnt"}) {
    add(4, "userns", arg, {"EPERM", "ENOSPC"});
  }
  add(4, "userns", "clone3-user", {"EPERM", "ENOSPC", "ENOSYS"});
  add(4, "userns", "clone3-badsize", {"EPERM", "ENOSYS"});
  add(4, "userns", "setns");
  for (const char* arg : {"mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount", "fspick",
                          "fsconfig", "open_tree", "move_mount", "mount_setattr"}) {
    add(5, "mount", arg);
  }
  for (const char* arg :
       {"keyctl", "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd"}) {
    add(6, "keyring", arg);
  }
  for (const char* arg : {"setup", "enter", "register"})
    add(7, "iouring", arg, {"EPERM", "ENOSYS"});
  for (const char* arg : {"int80-getpid", "int80-ptrace", "int80-mount"}) {
    add(8, "abi", arg, {"ENOSYS", "EPERM"}, Outside::kSkipUnlessAllowed);
  }
  for (const char* arg : {"x32-getpid", "x32-ptrace"}) {
    add(8, "abi", arg, {"ENOSYS", "EPERM"}, Outside::kSkipUnlessAllowed);
  }
  for (const char* arg : {"read-implies-exec", "read-implies-exec-high", "seccomp-listener"}) {
    add(9, "persona", arg);
  }
  for (const char* arg : {"vsock", "packet", "netlink"}) {
    add(10, "sockfam", arg, {"EPERM", "EAFNOSUPPORT", "EACCES"});
  }
  for (const char* arg : {"init_module", "finit_module", "delete_module", "kexec_load",
                          "kexec_file_load", "clock_settime", "settimeofday", "adjtimex",
                          "clock_adjtime", "iopl", "ioperm", "quotactl"}) {
    add(11, "admin", arg);
  }
  // These check their capability before their arguments.
  for (const char* arg : {"reboot", "swapon", "swapoff", "acct", "syslog"}) {
    add(11, "admin", arg, {"EPERM"}, Outside::kAllowedIfRoot, {"EPERM"});
  }
  return cases;
}

std::vector<Case> FilesystemCases() {
  std::vector<Case> cases;
  const std::set<std::string> unreadable = {"ENOENT", "EACCES", "EPERM"};
  const std::set<std::string> hidden = {"ENOENT", "EACCES", "EPERM", "NONE"};  // NONE: empty cover
  auto secret = [&](const std::string& name, const std::string& profile,
                    std::vector<std::string> args, std::set<std::string> blocked) {
    Case c;
    c.name = name + "_" + profile;
    c.cls = 12;
    c.probe = "secret";
    c.args = std::move(args);
    c.profile = profile;
    c.blocked = std::move(blocked);
    cases.push_back(c);
  };
  for (const char* profile : {"read-only", "workspace-write"}) {
    secret("ssh_key", profile, {"read", "{home}/.ssh/id_ed25519", "TOLLGATE-SECRET-SSH"},
           unreadable);
  }
  secret("aws_credentials", "workspace-write",
         {"read", "{home}/.aws/credentials", "TOLLGATE-SECRET-AWS"}, unreadable);
  secret("gh_hosts", "read-only", {"read", "{home}/.config/gh/hosts.yml", "TOLLGATE-SECRET-GH"},
         unreadable);
  secret("ssh_key_via_planted_symlink", "workspace-write",
         {"read", "{ws}/link-ssh", "TOLLGATE-SECRET-SSH"}, unreadable);
  secret("ssh_key_via_proc_root", "workspace-write",
         {"proc-root", "{home}/.ssh/id_ed25519", "TOLLGATE-SECRET-SSH"}, unreadable);
  secret("ssh_key_via_hardlink", "workspace-write",
         {"hardlink", "{home}/.ssh/id_ed25519", "{ws}/hardlink-ssh", "TOLLGATE-SECRET-SSH"},
         {"ENOENT", "EACCES", "EPERM", "EXDEV"});
  secret("ssh_key_via_own_symlink", "workspace-write",
         {"symlink", "{home}/.ssh/id_ed25519", "{ws}/symlink-ssh", "TOLLGATE-SECRET-SSH"},
         unreadable);
  for (const char* profile : {"read-only", "workspace-write", "test-runner"}) {
    secret("dotenv", profile, {"read", "{ws}/.env", "TOLLGATE-SECRET-ENV"}, hidden);
  }
  secret("dotenv_via_planted_symlink", "workspace-write",
         {"read", "{ws}/link-env", "TOLLGATE-SECRET-ENV"}, hidden);
  secret("dotenv_via_proc_root", "workspace-write",
         {"proc-root", "{ws}/.env", "TOLLGATE-SECRET-ENV"}, hidden);
  secret("dotenv_via_hardlink", "workspace-write",
         {"hardlink", "{ws}/.env", "{ws}/hardlink-env", "TOLLGATE-SECRET-ENV"},
         {"ENOENT", "EACCES", "EPERM", "EXDEV", "NONE"});

  // Class 13: protected paths in a writable workspace.
  const std::set<std::string> refused = {"EROFS",  "EACCES", "EPERM",   "EBUSY", "EXDEV",
                                         "ENOENT", "EEXIST", "ENOTDIR", "EISDIR"};
  auto protect = [&](const std::string& name, std::vector<std::string> args,
                     std::function<void(World&)> setup = nullptr) {
    Case c;
    c.name = name;
    c.cls = 13;
    c.probe = "protect";
    c.args = std::move(args);
    c.blocked = refused;
    c.setup = std::move(setup);
    c.verify = NoPayloadInside;
    cases.push_back(c);
  };
  // The paths exist at launch.
  protect("git_hook_new_file", {"write", "{ws}/.git/hooks/pre-commit"});
  protect("git_config", {"write", "{ws}/.git/config"});
  protect("git_config_renamed_over",
          {"rename-over", "{ws}/.git/config", "{ws}/config.tollgate-tmp"});
  protect("git_hooks_renamed_away", {"rename-recreate", "{ws}/.git/hooks", "pre-commit"});
  protect("git_dir_renamed_away", {"rename-recreate", "{ws}/.git", "hooks/pre-commit"});
  protect("claude_settings", {"write", "{ws}/.claude/settings.json"}, PlantAgentSettings);
  protect("claude_dir_renamed_away", {"rename-recreate", "{ws}/.claude", "settings.json"},
          PlantAgentSettings);
  protect("mcp_json", {"write", "{ws}/.mcp.json"}, PlantAgentSettings);
  protect("codex_config", {"write", "{ws}/.codex/config.toml"}, PlantAgentSettings);
  protect("envrc", {"write", "{ws}/.envrc"}, PlantAgentSettings);
  // The paths do not exist at launch (CVE-2026-25725).
  protect("absent_git_hook", {"mkdirs-write", "{ws}/.git/hooks/pre-commit"}, RemoveGit);
  protect("absent_git_config", {"mkdirs-write", "{ws}/.git/config"}, RemoveGit);
  protect("absent_claude_settings", {"mkdirs-write", "{ws}/.claude/settings.json"});
  protect("absent_mcp_json", {"write", "{ws}/.mcp.json"});
  protect("absent_codex_config", {"mkdirs-write", "{ws}/.codex/config.toml"});
  protect("absent_envrc", {"write", "{ws}/.envrc"});
  protect("absent_bashrc", {"write", "{ws}/.bashrc"});
  protect("absent_vscode_settings", {"mkdirs-write", "{ws}/.vscode/settings.json"});

  // Class 15: a symlink planted at a protected destination before launch; the launch may refuse,
  // or the write must fail, and the target outside the workspace must stay untouched.
  auto planted = [&](const std::string& name, const std::string& link, const std::string& target,
                     bool target_is_dir, std::vector<std::string> args) {
    Case c;
    c.name = name;
    c.cls = 15;
    c.probe = "protect";
    c.args = std::move(args);
    c.blocked = refused;
    c.may_refuse_launch = true;
    c.refusal_mentions = link;
    c.setup = [link, target, target_is_dir](World& w) {
      RemoveTree(w.ws + "/" + link);
      if (target_is_dir) MakeDirs(w.outside + "/" + target);
      symlink((w.outside + "/" + target).c_str(), (w.ws + "/" + link).c_str());
      w.HandToSandboxUser();
    };
    c.verify = NoPayloadInside;
    cases.push_back(c);
  };
  planted("symlinked_git_hooks", ".git/hooks", "hooks", true,
          {"write", "{ws}/.git/hooks/pre-commit"});
  planted("symlinked_git_config_dangling", ".git/config", "gitconfig", false,
          {"write", "{ws}/.git/config"});
  planted("symlinked_claude_dir", ".claude", "claude", true,
          {"write", "{ws}/.claude/settings.json"});
  planted("symlinked_mcp_json_dangling", ".mcp.json", "mcp.json", false,
          {"write", "{ws}/.mcp.json"});
  {
    Case c;
    c.name = "dotdot_in_profile_path";
    c.cls = 15;
    c.probe = "protect";
    c.args = {"write", "{ws}/../outside/escape"};
    c.blocked = refused;
    c.may_refuse_launch = true;
    c.refusal_mentions = "'..'";
    c.profile_filesystem = R"("write": ["{workspace}/../outside"])";
    c.verify = NoPayloadInside;
    cases.push_back(c);
  }

  // Class 14: a directory fd of the host leaked into tollgate.
  {
    Case c;
    c.name = "leaked_fd";
    c.cls = 14;
    c.probe = "fds";
    c.blocked = {"NONE"};
    c.leak_fd = true;
    cases.push_back(c);
  }

  // Class 16: the supervisor and system binaries.
  const std::set<std::string> readonly = {"EROFS", "EACCES", "EPERM", "ENOENT"};
  auto overwrite = [&](const std::string& name, std::vector<std::string> args) {
    Case c;
    c.name = name;
    c.cls = 16;
    c.probe = "overwrite";
    c.args = std::move(args);
    c.blocked = readonly;
    c.outside = Outside::kAllowedIfRoot;
    c.outside_errnos = {"EACCES"};
    cases.push_back(c);
  };
  overwrite("supervisor_binary", {"open-write", "{tollgate}"});
  overwrite("proc_self_exe", {"self-exe"});
  overwrite("proc_parent_exe", {"parent-exe"});
  overwrite("usr", {"usr-mkdir"});

  // Class 17: kernel tunables.
  for (const char* arg : {"core-pattern", "sysrq-trigger", "proc-sys", "sys"}) {
    Case c;
    c.name = std::string("sysfs_") + arg;
    c.cls = 17;
    c.probe = "sysfs";
    c.args = {arg};
    c.blocked = readonly;
    c.outside = Outside::kAllowedIfRoot;
    c.outside_errnos = {"EACCES"};
    c.absent_outside = {"ENOENT"};
    cases.push_back(c);
  }

  // Class 18: execute what was written to a writable, non-exec area.
  auto noexec = [&](const std::string& name, std::vector<std::string> args,
                    std::set<std::string> blocked) {
    Case c;
    c.name = name;
    c.cls = 18;
    c.probe = "noexec";
    c.args = std::move(args);
    c.blocked = std::move(blocked);
    cases.push_back(c);
  };
  noexec("exec_from_tmp", {"exec", "{tmp}"}, {"EACCES", "EPERM", "EROFS", "ENOENT"});
  noexec("exec_from_home", {"exec", "{sandbox-home}"}, {"EACCES", "EPERM", "EROFS", "ENOENT"});
  noexec("exec_from_dev_shm", {"exec", "{shm}"}, {"EACCES", "EPERM", "EROFS", "ENOENT"});
  noexec("ldso_from_tmp", {"ldso", "{tmp}"}, {"NONE", "EACCES", "EPERM"});
  noexec("mmap_exec_from_tmp", {"mmap", "{tmp}"}, {"EPERM", "EACCES"});
  for (const char* profile : {"workspace-write", "read-only"}) {
    // ENOSYS: the filter refuses memfds that are not sealed non-executable, so that libraries
    // fall back to files on the noexec tmpfs.
    noexec(std::string("memfd_exec_") + profile, {"memfd"}, {"ENOSYS", "EPERM", "EACCES"});
    cases.back().profile = profile;
    noexec(std::string("memfd_exec_flag_") + profile, {"memfd-exec-flag"},
           {"ENOSYS", "EPERM", "EACCES"});
    cases.back().profile = profile;
  }
  return cases;
}

std::vector<Case> ProcessAndNetworkCases() {
  std::vector<Case> cases;
  {
    Case c;
    c.name = "supervisor_visible";
    c.cls = 20;
    c.probe = "signal";
    c.args = {"pid", "{supervisor}"};
    c.blocked = {"ESRCH"};
    cases.push_back(c);
  }
  {
    // kill(-1, SIGKILL) inside: the supervisor must survive and report the probe's status, and a
    // host process of the sandbox's own uid must survive too.
    Case c;
    c.name = "kill_all";
    c.cls = 20;
    c.probe = "signal";
    c.args = {"kill-all"};
    c.blocked = {"NONE", "ESRCH"};
    c.outside = Outside::kNever;
    c.setup = [](World& w) {
      w.canary = fork();
      if (w.canary == 0) {
        if (IsRoot() && (setgid(kNobody) != 0 || setuid(kNobody) != 0)) _exit(1);
        for (;;) pause();
      }
    };
    c.verify = [](const World& w, bool) {
      EXPECT_EQ(waitpid(w.canary, nullptr, WNOHANG), 0)
          << "ESCAPE: kill(-1) inside the sandbox killed a host process of the sandbox's uid";
    };
    cases.push_back(c);
  }
  {
    Case c;
    c.name = "setuid_root_binary";
    c.cls = 22;
    c.probe = "{ws}/euid-setuid";
    c.blocked = {"NONE"};
    c.outside = Outside::kRootOnly;
    c.outside_as_nobody = true;
    c.setup = [](World& w) {
      std::string copy = w.ws + "/euid-setuid";
      WriteFile(copy, ReadFile(BinDir() + "/probe-euid"), 0755);
      chown(copy.c_str(), 0, 0);
      chmod(copy.c_str(), 04755);
    };
    cases.push_back(c);
  }
  {
    Case c;
    c.name = "secret_env";
    c.cls = 23;
    c.probe = "env";
    c.args = {"GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "MY_API_KEY", "DB_PASSWORD",
              "SSH_AUTH_SOCK"};
    c.env = {"GITHUB_TOKEN=ghp_tollgatetest", "AWS_SECRET_ACCESS_KEY=tollgate/test",
             "MY_API_KEY=tollgate-test", "DB_PASSWORD=tollgate-test",
             "SSH_AUTH_SOCK={outside}/agent.sock"};
    c.blocked = {"NONE"};
    cases.push_back(c);
  }
  auto net = [&](const std::string& name, std::vector<std::string> args,
                 std::set<std::string> blocked, Outside outside = Outside::kAllowed) {
    Case c;
    c.name = name;
    c.cls = 25;
    c.probe = "net";
    c.args = std::move(args);
    c.blocked = std::move(blocked);
    c.outside = outside;
    cases.push_back(c);
  };
  const std::set<std::string> unreachable = {"ECONNREFUSED", "ENETUNREACH", "EHOSTUNREACH",
                                             "EACCES",       "EPERM",       "ETIMEDOUT"};
  net("tcp_host_loopback", {"tcp", "127.0.0.1", "{port}"}, unreachable);
  net("tcp_host_address", {"tcp", "{host-ip}", "{port}"}, unreachable, Outside::kSkipUnlessAllowed);
  net("udp_host_loopback", {"udp", "127.0.0.1", "{udp-port}"}, unreachable);
  net("udp_host_address", {"udp", "{host-ip}", "{udp-port}"}, unreachable,
      Outside::kSkipUnlessAllowed);
  // DNS is tried inside only: outside, the query would leave this machine for its resolver.
  // Inside, the kernel itself answers that there is no route, which a filter never says.
  net("dns_lookup", {"dns", "example.com"}, {"NONE"}, Outside::kNever);
  net("dns_host_resolver", {"resolver"}, {"ENETUNREACH", "EACCES"}, Outside::kNever);
  {
    Case c;
    c.name = "netlink_route";
    c.cls = 25;
    c.probe = "sockfam";
    c.args = {"netlink-route"};
    c.blocked = {"EPERM", "EAFNOSUPPORT", "EACCES"};
    cases.push_back(c);
  }
  return cases;
}

std::vector<Case> AllCases() {
  std::vector<Case> cases = KernelCases();
  for (auto& more : {FilesystemCases(), ProcessAndNetworkCases()}) {
    cases.insert(cases.end(), more.begin(), more.end());
  }
  return cases;
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  std::string name = "c" + std::to_string(info.param.cls) + "_" + info.param.name;
  for (char& ch : name) {
    if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Security, EscapeTest, ::testing::ValuesIn(AllCases()), CaseName);

}  // namespace
}  // namespace tollgate::escapes
