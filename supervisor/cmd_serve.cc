// tollgate serve (docs/SERVE.md): keeps one sandbox prepared for each run configuration it has
// seen (tollgate's options, the working directory, the environment, whether stderr is a
// terminal), so that the next `tollgate run` of that configuration only hands it its command.
//
// A prepared sandbox is `tollgate run --prepared-fd 3 …` started in the client's directory and
// environment: the very same launch, profile load and audit log, up to the point where the
// command would exec. It listens on a socket named by its configuration's key
// (prepared_sandbox.h), says kReady on fd 3, and takes the first client of that key, which
// connects to it directly; it tells the server kTaken, and the server prepares the next one
// when that run ends. A configuration's first run is launched by the client itself: the server
// only ever answers kMiss, and prepares a sandbox for next time.
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "policy/profile_loader.h"
#include "supervisor/commands.h"
#include "supervisor/kernel/fd_passing.h"
#include "supervisor/serve_protocol.h"

namespace tollgate {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPrepareDelay{200};

int Fail(const std::string& message) {
  std::cerr << "tollgate serve: " << message << "\n";
  return kExitSetupFailed;
}

// One run configuration and its prepared sandbox (at most one, preparing or ready).
struct Configuration {
  serve::RunRequest request;  // the first request of this configuration; its command unused
  std::string key;
  Clock::time_point last_used;
  pid_t pid = -1;    // the prepared run's supervisor
  int control = -1;  // its fd 3
  bool ready = false;
  Clock::time_point ready_at;
  // Once taken, the next sandbox is prepared when that run ends, or at this time if it runs
  // longer: not while it starts, when it would take half the machine's CPUs from it.
  std::optional<Clock::time_point> prepare_at;
  int running = -1;  // a pidfd of the run that took the last prepared sandbox
  bool ever_taken = false;
};

// The directory of the built-in socket path is made private to this user (it may be in /tmp);
// a socket given by --socket or $TOLLGATE_SERVE_SOCKET is in a directory of the caller's
// choosing. The socket itself is always mode 0600, and each side checks the other's uid.
bool PrepareDirectory(const std::string& dir, bool make_private, std::string* error) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    *error = "cannot create " + dir + ": " + std::strerror(errno);
    return false;
  }
  if (!make_private) return true;
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() ||
      (st.st_mode & 077) != 0) {
    *error = dir + " must be a directory of this user that no one else can use (mode 0700)";
    return false;
  }
  return true;
}

bool Listen(const std::string& path, int* fd, std::string* error) {
  sockaddr_un address;
  if (!kernel::UnixSocketAddress(path, &address)) {
    *error = "the socket path " + path + " is too long";
    return false;
  }
  *fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  // A socket someone answers on is another server's; one no one answers on is left over.
  if (int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0); probe >= 0) {
    bool taken = ::connect(probe, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(probe);
    if (taken) {
      *error = "another server already listens on " + path;
      return false;
    }
  }
  ::unlink(path.c_str());
  const mode_t old_mask = ::umask(077);
  bool ok = *fd >= 0 && ::bind(*fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
            ::listen(*fd, 64) == 0;
  ::umask(old_mask);
  if (!ok) *error = "cannot listen on " + path + ": " + std::strerror(errno);
  return ok;
}

class Server {
 public:
  Server(std::string path, int listener, std::chrono::seconds max_age, std::chrono::seconds keep,
         std::size_t max_configurations)
      : path_(std::move(path)),
        listener_(listener),
        max_age_(max_age),
        keep_(keep),
        max_configurations_(max_configurations),
        identity_(serve::ExecutableIdentity()) {}

  int Run(const sigset_t& signals) {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    signal_fd_ = ::signalfd(-1, &signals, SFD_CLOEXEC | SFD_NONBLOCK);
    timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    itimerspec tick{};
    tick.it_value.tv_sec = tick.it_interval.tv_sec = 1;
    ::timerfd_settime(timer_fd_, 0, &tick, nullptr);
    for (int fd : {listener_, signal_fd_, timer_fd_}) Watch(fd);
    for (;;) {
      epoll_event events[16];
      int n = ::epoll_wait(epoll_, events, 16, -1);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Fail(std::string("epoll_wait: ") + std::strerror(errno));
      for (int i = 0; i < n; ++i) {
        const int fd = events[i].data.fd;
        if (fd == listener_) {
          Accept();
        } else if (fd == signal_fd_) {
          if (!OnSignals()) {
            Shutdown();
            return 0;
          }
        } else if (fd == timer_fd_) {
          std::uint64_t ticks = 0;
          (void)!::read(timer_fd_, &ticks, sizeof ticks);
          Expire();
        } else if (by_running_.count(fd) != 0) {
          OnRunEnded(fd);
        } else {
          OnControl(fd);
        }
      }
    }
  }

 private:
  void Watch(int fd) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &event);
  }

  void Accept() {
    for (;;) {
      int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (connection < 0) return;
      Serve(connection);
      ::close(connection);
    }
  }

  void Serve(int connection) {
    ucred peer{};
    socklen_t length = sizeof peer;
    if (::getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 ||
        peer.uid != ::geteuid()) {
      spdlog::warn("refused a client of uid {}: this server serves uid {} only", peer.uid,
                   ::geteuid());
      return;
    }
    // A client sends its whole request at once; one that does not is not waited for long.
    timeval timeout{2, 0};
    ::setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    std::string bytes;
    int fds[3] = {-1, -1, -1};
    int count = 0;
    serve::RunRequest request;
    const bool received =
        serve::ReceiveFrame(connection, serve::kMaxRequestBytes, &bytes, fds, 3, &count);
    for (int i = 0; i < count; ++i) ::close(fds[i]);  // a client's stdio is not the server's
    if (!received || !serve::DecodeRequest(bytes, &request)) return;
    if (request.executable != identity_) {
      serve::Reply(connection, serve::kMiss,
                   "the server runs another build of tollgate: restart `tollgate serve`");
      return;
    }
    const std::string key = serve::RequestKey(request);
    auto found = configurations_.find(key);
    if (found == configurations_.end()) {
      if (configurations_.size() >= max_configurations_) ForgetLeastRecentlyUsed();
      Configuration c;
      c.request = std::move(request);
      c.request.command.clear();
      c.key = key;
      found = configurations_.emplace(key, std::move(c)).first;
      serve::Reply(connection, serve::kMiss,
                   "a new configuration: a sandbox is prepared for next time");
    } else {
      serve::Reply(connection, serve::kMiss, "the sandbox of this configuration is not ready yet");
    }
    found->second.last_used = Clock::now();
    if (found->second.pid < 0) Prepare(&found->second);
  }

  // Starts `tollgate run <options> --prepared-fd 3` as the client would have, in its
  // directory and environment, in a session of its own (no terminal to stop it).
  void Prepare(Configuration* c) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
      spdlog::error("socketpair: {}", std::strerror(errno));
      return;
    }
    std::vector<std::string> arguments = {"tollgate"};
    arguments.insert(arguments.end(), c->request.options.begin(), c->request.options.end());
    arguments.insert(arguments.end(), {"--prepared-fd", "3"});
    if (c->request.stderr_is_terminal) arguments.push_back("--prepared-stderr-terminal");
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (std::string& entry : c->request.env) envp.push_back(entry.data());
    envp.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
      ::setsid();
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::signal(SIGPIPE, SIG_DFL);
      // fd 3 first: /dev/null may get any free number, 3 included.
      const bool control_ok = pair[1] == 3 ? ::fcntl(3, F_SETFD, 0) == 0 : ::dup2(pair[1], 3) == 3;
      int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
      if (!control_ok || null < 0 || ::dup2(null, 0) != 0 || ::dup2(null, 1) != 1 ||
          ::chdir(c->request.cwd.c_str()) != 0) {
        ::_exit(125);
      }
      ::execve("/proc/self/exe", argv.data(), envp.data());
      ::_exit(125);
    }
    ::close(pair[1]);
    if (pid < 0) {
      spdlog::error("fork: {}", std::strerror(errno));
      ::close(pair[0]);
      return;
    }
    c->pid = pid;
    c->control = pair[0];
    c->ready = false;
    by_control_[pair[0]] = c;
    Watch(pair[0]);
  }

  // The run that took the last prepared sandbox has ended: the next one may be prepared now.
  void OnRunEnded(int fd) {
    Configuration* c = by_running_[fd];
    ForgetRunning(c);
    if (c->prepare_at) {
      c->prepare_at.reset();
      if (c->pid < 0) Prepare(c);
    }
  }

  void ForgetRunning(Configuration* c) {
    if (c->running < 0) return;
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c->running, nullptr);
    by_running_.erase(c->running);
    ::close(c->running);
    c->running = -1;
  }

  // The next tick in `delay`, then every second.
  void ArmTimer(std::chrono::milliseconds delay) {
    itimerspec tick{};
    tick.it_value.tv_sec = static_cast<time_t>(delay.count() / 1000);
    tick.it_value.tv_nsec = static_cast<long>(delay.count() % 1000) * 1'000'000;
    tick.it_interval.tv_sec = 1;
    ::timerfd_settime(timer_fd_, 0, &tick, nullptr);
  }

  // Lets a prepared sandbox go: end of file on its fd 3 makes it abandon the sandbox and exit
  // (or, once taken by a run, changes nothing). Reaped with the other children. Its socket's
  // name goes too: nothing listens there any more (the next sandbox of the configuration binds
  // it anew).
  void Discard(Configuration* c) {
    if (c->pid >= 0) ::unlink(serve::PreparedSocketPath(c->key, path_).c_str());
    if (c->control >= 0) {
      ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c->control, nullptr);
      by_control_.erase(c->control);
      ::close(c->control);
    }
    c->control = -1;
    c->pid = -1;
    c->ready = false;
  }

  void OnControl(int fd) {
    auto found = by_control_.find(fd);
    if (found == by_control_.end()) return;
    Configuration* c = found->second;
    char byte = 0;
    ssize_t n = ::read(fd, &byte, 1);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n == 1 && byte == serve::kReady) {
      c->ready = true;
      c->ready_at = Clock::now();
      spdlog::info("a sandbox is prepared in {}", c->request.cwd);
      return;
    }
    if (n == 1 && byte == serve::kTaken) {
      // The run's supervisor owns the sandbox now. The next one is prepared when that run
      // ends, or after kPrepareDelay if it runs on.
      spdlog::info("a prepared sandbox was taken in {}", c->request.cwd);
      const pid_t taken = c->pid;
      c->last_used = Clock::now();
      c->ever_taken = true;
      Discard(c);
      ForgetRunning(c);
      c->running = static_cast<int>(::syscall(SYS_pidfd_open, taken, 0));
      if (c->running >= 0) {
        by_running_[c->running] = c;
        Watch(c->running);
      }
      c->prepare_at = Clock::now() + kPrepareDelay;
      ArmTimer(kPrepareDelay);
      return;
    }
    if (n == 1 && byte == serve::kStale) {
      // What the profile was loaded from changed: prepare it anew, now.
      spdlog::info("a prepared sandbox in {} was stale: preparing it anew", c->request.cwd);
      Discard(c);
      Prepare(c);
      return;
    }
    // It ended before it was taken: the profile is invalid, the audit log unusable, the sandbox
    // could not be built (its own message went to this server's stderr). The next run of the
    // configuration launches by itself and says why, and a sandbox is prepared again.
    spdlog::warn("preparing a sandbox in {} failed", c->request.cwd);
    Discard(c);
  }

  void ForgetLeastRecentlyUsed() {
    auto oldest = configurations_.begin();
    for (auto it = configurations_.begin(); it != configurations_.end(); ++it) {
      if (it->second.last_used < oldest->second.last_used) oldest = it;
    }
    if (oldest == configurations_.end()) return;
    Discard(&oldest->second);
    ForgetRunning(&oldest->second);
    configurations_.erase(oldest);
  }

  // Once a second: configurations unused for --keep are forgotten; sandboxes older than
  // --max-age are prepared anew, so that none shows the file system as it was long ago.
  void Expire() {
    const auto now = Clock::now();
    for (auto it = configurations_.begin(); it != configurations_.end();) {
      Configuration& c = it->second;
      if (now - c.last_used > keep_) {
        Discard(&c);
        ForgetRunning(&c);
        it = configurations_.erase(it);
        continue;
      }
      if (c.prepare_at && now >= *c.prepare_at) {
        c.prepare_at.reset();
        ForgetRunning(&c);
        if (c.pid < 0) Prepare(&c);
      }
      if (c.ready && now - c.ready_at > max_age_) {
        // Prepared anew only for a configuration whose sandboxes get used: one seen once
        // (a run with a one-off environment) waits for its next run.
        Discard(&c);
        if (c.ever_taken) Prepare(&c);
      }
      ++it;
    }
  }

  // False when the server should stop.
  bool OnSignals() {
    signalfd_siginfo info{};
    bool stop = false;
    while (::read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      if (info.ssi_signo == SIGCHLD) {
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
      } else {
        stop = true;
      }
    }
    return !stop;
  }

  void Shutdown() {
    for (auto& [key, c] : configurations_) {
      Discard(&c);
      ForgetRunning(&c);
    }
    configurations_.clear();
  }

  std::string path_;
  int listener_;
  std::chrono::seconds max_age_;
  std::chrono::seconds keep_;
  std::size_t max_configurations_;
  std::string identity_;
  int epoll_ = -1;
  int signal_fd_ = -1;
  int timer_fd_ = -1;
  std::map<std::string, Configuration> configurations_;
  std::map<int, Configuration*> by_control_;  // a prepared sandbox's fd 3 -> its configuration
  std::map<int, Configuration*> by_running_;  // a taken sandbox's pidfd -> its configuration
};

}  // namespace

int ServeCommand(const ServeArgs& args) {
  const std::optional<std::uint64_t> max_age = policy::ParseDuration(args.max_age);
  const std::optional<std::uint64_t> keep = policy::ParseDuration(args.keep);
  if (!max_age || *max_age == 0) return Fail("--max-age " + args.max_age + " is not a duration");
  if (!keep || *keep == 0) return Fail("--keep " + args.keep + " is not a duration");
  const std::string path = args.socket.empty() ? serve::SocketPath() : args.socket;
  if (path.empty()) return Fail("TOLLGATE_SERVE_SOCKET is off: give --socket");
  const std::string dir =
      path.substr(0, path.rfind('/') == std::string::npos ? 0 : path.rfind('/'));
  std::string error;
  const bool built_in_path = args.socket.empty() && std::getenv("TOLLGATE_SERVE_SOCKET") == nullptr;
  if (!dir.empty() && !PrepareDirectory(dir, built_in_path, &error)) return Fail(error);
  int listener = -1;
  if (!Listen(path, &listener, &error)) return Fail(error);

  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&signals, sig);
  ::sigprocmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  std::cerr << "tollgate serve: listening on " << path << "\n";
  Server server(path, listener, std::chrono::seconds(*max_age), std::chrono::seconds(*keep),
                args.max_configurations);
  const int code = server.Run(signals);
  ::unlink(path.c_str());
  return code;
}

}  // namespace tollgate
