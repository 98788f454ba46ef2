// tollgate serve (docs/SERVE.md): a run configuration's second `tollgate run` goes into a
// sandbox prepared ahead, and behaves exactly as a launch of its own: the command's stdio,
// exit status and signals, the audit records, the profile as it is on disk now.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pwd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using Json = nlohmann::json;

std::string RealHome() {
  if (const char* home = std::getenv("HOME"); home && home[0] != '\0') return home;
  struct passwd* pw = ::getpwuid(::getuid());
  return pw ? pw->pw_dir : "/";
}

// A process started in the background with exactly the given environment, stdin from a file.
class Process {
 public:
  Process(const std::vector<std::string>& argv, const std::vector<std::string>& env,
          const std::string& cwd, const std::string& stdin_path, const std::string& out_path,
          const std::string& err_path)
      : out_path_(out_path), err_path_(err_path) {
    pid_ = ::fork();
    if (pid_ == 0) {
      int in = ::open(stdin_path.empty() ? "/dev/null" : stdin_path.c_str(), O_RDONLY);
      int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (in < 0 || out < 0 || err < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 ||
          ::dup2(err, 2) < 0 || (!cwd.empty() && ::chdir(cwd.c_str()) != 0)) {
        ::_exit(127);
      }
      std::vector<char*> args, envp;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
      args.push_back(nullptr);
      envp.push_back(nullptr);
      ::execve(args[0], args.data(), envp.data());
      ::_exit(127);
    }
  }
  ~Process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }

  // Waits (at most `seconds`) and collects what it printed.
  RunOutput Finish(int seconds = 60) {
    RunOutput output;
    int status = 0;
    for (int i = 0; i < seconds * 20; ++i) {
      pid_t done = ::waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (pid_ > 0) {
      output.timed_out = true;
      return output;
    }
    if (WIFEXITED(status)) output.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) output.signal = WTERMSIG(status);
    output.out = escapes::ReadFile(out_path_);
    output.err = escapes::ReadFile(err_path_);
    return output;
  }

 private:
  pid_t pid_ = -1;
  std::string out_path_;
  std::string err_path_;
};

bool WaitUntil(const std::function<bool()>& done, int seconds = 30) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

class ServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TOLLGATE_SKIP_WITHOUT_NAMESPACES();
    workspace_ = scratch_ / "ws";
    audit_ = scratch_ / "audit";
    socket_ = scratch_ / "serve.sock";
    ASSERT_EQ(Host("mkdir -p '" + workspace_ + "'"), 0);
    scratch_.Handover();
    server_ = std::make_unique<Process>(
        std::vector<std::string>{escapes::BinDir() + "/tollgate", "-v", "serve", "--socket",
                                 socket_},
        Env(), scratch_.path(), "", scratch_ / "serve.out", scratch_ / "serve.log");
    ASSERT_TRUE(WaitUntil([&] { return ServerLog().find("listening on") != std::string::npos; }))
        << ServerLog();
  }
  void TearDown() override {
    if (server_) {
      ::kill(server_->pid(), SIGTERM);
      server_->Finish(10);
    }
  }

  // The client's environment, the same for every run of a test: part of what a prepared
  // sandbox is prepared for.
  std::vector<std::string> Env(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8",
                                    "HOME=" + RealHome(), "TOLLGATE_SERVE_SOCKET=" + socket_};
    env.insert(env.end(), extra.begin(), extra.end());
    return env;
  }

  std::vector<std::string> RunArgs(const std::vector<std::string>& command,
                                   const std::string& profile = "test-runner") const {
    std::vector<std::string> args = {escapes::BinDir() + "/tollgate",
                                     "run",
                                     "--profile",
                                     profile,
                                     "--audit-log",
                                     audit_,
                                     "--workspace",
                                     workspace_,
                                     "--"};
    args.insert(args.end(), command.begin(), command.end());
    return args;
  }

  std::unique_ptr<Process> Start(const std::vector<std::string>& command,
                                 const std::vector<std::string>& extra_env = {},
                                 const std::string& stdin_text = "",
                                 const std::string& profile = "test-runner") {
    const std::string n = std::to_string(++runs_);
    std::string in;
    if (!stdin_text.empty()) {
      in = scratch_ / ("in" + n);
      escapes::WriteFile(in, stdin_text);
    }
    return std::make_unique<Process>(RunArgs(command, profile), Env(extra_env), workspace_, in,
                                     scratch_ / ("out" + n), scratch_ / ("err" + n));
  }

  RunOutput Run(const std::vector<std::string>& command,
                const std::vector<std::string>& extra_env = {}, const std::string& stdin_text = "",
                const std::string& profile = "test-runner") {
    return Start(command, extra_env, stdin_text, profile)->Finish();
  }

  std::string ServerLog() const { return escapes::ReadFile(scratch_ / "serve.log"); }

  // Waits until the server has prepared `n` sandboxes in all.
  void WaitForPrepared(std::size_t n) {
    ASSERT_TRUE(WaitUntil([&] { return Count(ServerLog(), "a sandbox is prepared") >= n; }))
        << ServerLog();
  }

  std::vector<Json> RunStarts() const { return OfKind(ReadAuditLog(audit_), "run.start"); }

  Scratch scratch_;
  std::string workspace_, audit_, socket_;
  std::unique_ptr<Process> server_;
  int runs_ = 0;
};

TEST_F(ServeTest, ASecondRunOfAConfigurationStartsInThePreparedSandbox) {
  // The first run of a configuration launches by itself; the server prepares one for next time.
  RunOutput first = Run({"sh", "-c", "echo first; exit 3"});
  ASSERT_FALSE(first.timed_out);
  EXPECT_EQ(first.exit_code, 3) << first.err;
  EXPECT_EQ(first.out, "first\n");
  WaitForPrepared(1);

  RunOutput second = Run({"sh", "-c",
                          "read line; echo got:$line; cat /proc/1/comm; id -u; echo to-stderr >&2; "
                          "exit 9"},
                         {}, "hello\n");
  ASSERT_FALSE(second.timed_out);
  EXPECT_EQ(second.exit_code, 9) << second.err;
  EXPECT_NE(second.out.find("got:hello\n"), std::string::npos) << second.out;
  // In a sandbox: pid 1 is tollgate's init, the uid is not root.
  EXPECT_NE(second.out.find("tollgate\n"), std::string::npos) << second.out;
  EXPECT_EQ(second.out.find("\n0\n"), std::string::npos) << second.out;
  EXPECT_NE(second.err.find("to-stderr"), std::string::npos) << second.err;
  EXPECT_NE(ServerLog().find("a prepared sandbox was taken"), std::string::npos) << ServerLog();

  const std::vector<Json> starts = RunStarts();
  ASSERT_EQ(starts.size(), 2u);
  EXPECT_FALSE(starts[0]["details"].contains("prepared"));
  ASSERT_TRUE(starts[1]["details"].contains("prepared")) << starts[1].dump();
  EXPECT_GT(starts[1]["details"]["prepared"]["waited_usec"].get<std::uint64_t>(), 0u);
  EXPECT_EQ(starts[1]["details"]["command"][0], "sh");
  // The same profile, the same plan, the same sandbox ids as the run that launched by itself.
  for (const char* field : {"profile_digest", "plan_digest", "plans", "sandbox", "profile_file"})
    EXPECT_EQ(starts[1]["details"][field], starts[0]["details"][field]) << field;
  EXPECT_EQ(starts[1]["rule"], starts[0]["rule"]);
  EXPECT_EQ(starts[1]["profile"], "test-runner");
  const std::vector<Json> records = ReadAuditLog(audit_);
  const std::vector<Json> ends = OfKind(records, "run.end");
  ASSERT_EQ(ends.size(), 2u);
  EXPECT_EQ(ends[1]["run"], starts[1]["run"]);
  EXPECT_EQ(ends[1]["details"]["exit_code"], 9) << ends[1].dump();
  // The prepared run records what a launch records: the exec of the command, in its run.
  bool exec_recorded = false;
  for (const Json& exec : OfKind(records, "exec"))
    exec_recorded = exec_recorded || (exec["run"] == starts[1]["run"]);
  EXPECT_TRUE(exec_recorded);
  RunOutput verify = Tollgate({"audit", "verify", "--audit-log", audit_});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST_F(ServeTest, SignalsReachTheCommandAndTheClientsEndEndsTheRun) {
  ASSERT_EQ(Run({"true"}).exit_code, 0);
  WaitForPrepared(1);
  // The command says it started on stdout, then waits for SIGTERM.
  auto waiting = Start({"sh", "-c",
                        "trap 'echo terminated; exit 42' TERM; echo started; "
                        "while :; do sleep 0.05; done"});
  ASSERT_TRUE(WaitUntil([&] {
    return escapes::ReadFile(scratch_ / ("out" + std::to_string(runs_))).find("started") !=
           std::string::npos;
  }));
  ASSERT_EQ(::kill(waiting->pid(), SIGTERM), 0);
  RunOutput ended = waiting->Finish();
  ASSERT_FALSE(ended.timed_out);
  EXPECT_EQ(ended.exit_code, 42) << ended.err;
  EXPECT_NE(ended.out.find("terminated"), std::string::npos) << ended.out;

  // A client killed outright: its sandbox is killed with it, and the run's end recorded.
  WaitForPrepared(2);
  auto killed = Start({"sleep", "300"});
  ASSERT_TRUE(WaitUntil([&] { return RunStarts().size() == 3; }));
  ASSERT_TRUE(RunStarts()[2]["details"].contains("prepared"));
  const std::string run = RunStarts()[2]["run"];
  ASSERT_EQ(::kill(killed->pid(), SIGKILL), 0);
  killed->Finish();
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (const Json& end : OfKind(ReadAuditLog(audit_), "run.end")) {
          if (end["run"] == run) return true;
        }
        return false;
      },
      20));
  for (const Json& end : OfKind(ReadAuditLog(audit_), "run.end")) {
    if (end["run"] == run) {
      EXPECT_EQ(end["details"]["status"], "signaled") << end.dump();
    }
  }
}

TEST_F(ServeTest, AProfileChangedSinceItWasPreparedIsLoadedAnew) {
  const std::string profiles = workspace_ + "/.tollgate/profiles";
  ASSERT_EQ(Host("mkdir -p '" + profiles + "'"), 0);
  auto write_profile = [&](const std::string& value) {
    escapes::WriteFile(profiles + "/mine.json", Json{{"name", "mine"},
                                                     {"description", "test-runner with a marker"},
                                                     {"extends", "test-runner"},
                                                     {"env", {{"set", {{"MARKER", value}}}}}}
                                                    .dump());
  };
  write_profile("one");
  scratch_.Handover();
  const std::vector<std::string> print = {"sh", "-c", "echo marker=$MARKER"};
  EXPECT_EQ(Run(print, {}, "", "mine").out, "marker=one\n");
  WaitForPrepared(1);
  write_profile("three");
  RunOutput changed = Run(print, {}, "", "mine");
  EXPECT_EQ(changed.out, "marker=three\n") << changed.err;
  // Launched by itself, not in the sandbox prepared with "one".
  ASSERT_EQ(RunStarts().size(), 2u);
  EXPECT_FALSE(RunStarts()[1]["details"].contains("prepared")) << RunStarts()[1].dump();
  // The server prepares one with the new profile.
  WaitForPrepared(2);
  RunOutput again = Run(print, {}, "", "mine");
  EXPECT_EQ(again.out, "marker=three\n") << again.err;
  ASSERT_EQ(RunStarts().size(), 3u);
  EXPECT_TRUE(RunStarts()[2]["details"].contains("prepared")) << RunStarts()[2].dump();
}

TEST_F(ServeTest, AnotherEnvironmentIsAnotherConfiguration) {
  const std::vector<std::string> print = {"sh", "-c", "echo lang=$LANG"};
  EXPECT_EQ(Run(print).out, "lang=C.UTF-8\n");
  WaitForPrepared(1);
  // The same options and directory with one more variable: not the prepared sandbox.
  RunOutput other = Run(print, {"EXTRA=1"});
  EXPECT_EQ(other.exit_code, 0) << other.err;
  ASSERT_EQ(RunStarts().size(), 2u);
  EXPECT_FALSE(RunStarts()[1]["details"].contains("prepared"));
  RunOutput same = Run(print);
  EXPECT_EQ(same.out, "lang=C.UTF-8\n");
  ASSERT_EQ(RunStarts().size(), 3u);
  EXPECT_TRUE(RunStarts()[2]["details"].contains("prepared"));
}

std::vector<std::string> PreparedSockets(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* entry = ::readdir(d)) {
      if (std::string(entry->d_name).rfind("prepared-", 0) == 0) names.push_back(entry->d_name);
    }
    ::closedir(d);
  }
  return names;
}

TEST_F(ServeTest, AForgottenConfigurationLeavesNoSocketBehind) {
  // One configuration at a time: a second one replaces the first.
  ::kill(server_->pid(), SIGTERM);
  server_->Finish(10);
  server_ = std::make_unique<Process>(
      std::vector<std::string>{escapes::BinDir() + "/tollgate", "-v", "serve", "--socket", socket_,
                               "--max-configurations", "1"},
      Env(), scratch_.path(), "", scratch_ / "serve.out", scratch_ / "serve2.log");
  ASSERT_TRUE(WaitUntil([&] {
    return escapes::ReadFile(scratch_ / "serve2.log").find("listening on") != std::string::npos;
  }));
  auto prepared = [&] {
    return Count(escapes::ReadFile(scratch_ / "serve2.log"), "a sandbox is prepared");
  };
  EXPECT_EQ(Run({"true"}, {"WHICH=a"}).exit_code, 0);
  ASSERT_TRUE(WaitUntil([&] { return prepared() >= 1; }));
  ASSERT_EQ(PreparedSockets(scratch_.path()).size(), 1u);
  EXPECT_EQ(Run({"true"}, {"WHICH=b"}).exit_code, 0);
  ASSERT_TRUE(WaitUntil([&] { return prepared() >= 2; }));
  EXPECT_EQ(PreparedSockets(scratch_.path()).size(), 1u);
  // And the one that is left is the one in use.
  EXPECT_EQ(Run({"true"}, {"WHICH=b"}).exit_code, 0);
  ASSERT_EQ(RunStarts().size(), 3u);
  EXPECT_TRUE(RunStarts()[2]["details"].contains("prepared"));
}

TEST_F(ServeTest, AnOldSandboxIsPreparedAnewOnlyForAConfigurationInUse) {
  ::kill(server_->pid(), SIGTERM);
  server_->Finish(10);
  server_ = std::make_unique<Process>(
      std::vector<std::string>{escapes::BinDir() + "/tollgate", "-v", "serve", "--socket", socket_,
                               "--max-age", "1s"},
      Env(), scratch_.path(), "", scratch_ / "serve.out", scratch_ / "serve3.log");
  auto log = [&] { return escapes::ReadFile(scratch_ / "serve3.log"); };
  ASSERT_TRUE(WaitUntil([&] { return log().find("listening on") != std::string::npos; }));
  auto prepared = [&] { return Count(log(), "a sandbox is prepared"); };
  // Seen once, never used: past its age the sandbox goes, and nothing replaces it.
  EXPECT_EQ(Run({"true"}).exit_code, 0);
  ASSERT_TRUE(WaitUntil([&] { return prepared() == 1; }));
  ASSERT_TRUE(WaitUntil([&] { return PreparedSockets(scratch_.path()).empty(); }, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  EXPECT_EQ(prepared(), 1u) << log();
  // Its next run launches by itself, and one after that uses a sandbox: from then on the
  // configuration keeps one, renewed past its age.
  EXPECT_EQ(Run({"true"}).exit_code, 0);
  ASSERT_TRUE(WaitUntil([&] { return prepared() == 2; }));
  EXPECT_EQ(Run({"true"}).exit_code, 0);
  ASSERT_EQ(RunStarts().size(), 3u);
  EXPECT_FALSE(RunStarts()[1]["details"].contains("prepared"));
  EXPECT_TRUE(RunStarts()[2]["details"].contains("prepared"));
  ASSERT_TRUE(WaitUntil([&] { return prepared() >= 4; }, 10)) << log();
  EXPECT_EQ(PreparedSockets(scratch_.path()).size(), 1u);
  // And the renewed one is taken as any other.
  EXPECT_EQ(Run({"true"}).exit_code, 0);
  ASSERT_EQ(RunStarts().size(), 4u);
  EXPECT_TRUE(RunStarts()[3]["details"].contains("prepared"));
}

// What a connection to `path` made as `uid` (-1: as this process) gets back for a frame that
// is not a valid request: the prepared sandbox's answer, or "" when it closed the connection
// unanswered. "connect failed" when it could not connect.
std::string AnswerToGarbage(const std::string& path, long uid) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    if (uid >= 0 &&
        (::setgid(static_cast<gid_t>(uid)) != 0 || ::setuid(static_cast<uid_t>(uid)) != 0))
      ::_exit(1);
    std::string answer = "connect failed";
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      // A frame (a length of 4 in native order, then 4 bytes) that is not a request.
      const std::uint32_t size = 4;
      char frame[8];
      std::memcpy(frame, &size, sizeof size);
      std::memcpy(frame + 4, "junk", 4);
      (void)!::write(fd, frame, sizeof frame);
      answer.clear();
      char buffer[256];
      ssize_t n;
      while ((n = ::read(fd, buffer, sizeof buffer)) > 0) answer.append(buffer, n);
    }
    (void)!::write(pipe_fds[1], answer.data(), answer.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string answer;
  char buffer[256];
  ssize_t n;
  while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) answer.append(buffer, n);
  ::close(pipe_fds[0]);
  ::waitpid(pid, nullptr, 0);
  return answer;
}

TEST_F(ServeTest, APreparedSandboxServesOnlyItsOwnUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root, to connect as another user";
  ASSERT_EQ(Run({"true"}).exit_code, 0);
  WaitForPrepared(1);
  const std::vector<std::string> sockets = PreparedSockets(scratch_.path());
  ASSERT_EQ(sockets.size(), 1u);
  const std::string prepared = scratch_ / sockets[0];
  // Its mode keeps other users out; opened up, the sandbox itself must still refuse them.
  ASSERT_EQ(::chmod(prepared.c_str(), 0666), 0);
  ASSERT_EQ(Host("chmod 0755 '" + scratch_.path() + "'"), 0);
  // The same user is answered (and turned away: no request of its configuration)...
  EXPECT_EQ(AnswerToGarbage(prepared, -1).substr(0, 1), "M");
  // ...another user is not even answered.
  EXPECT_EQ(AnswerToGarbage(prepared, 65534), "");
  // The sandbox is still there for its own configuration's next run.
  RunOutput own = Run({"true"});
  EXPECT_EQ(own.exit_code, 0) << own.err;
  ASSERT_EQ(RunStarts().size(), 2u);
  EXPECT_TRUE(RunStarts()[1]["details"].contains("prepared"));
}

}  // namespace
}  // namespace tollgate::e2e
