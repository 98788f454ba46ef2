// tollgate-shim: stands at every path of every mediated tool inside a sandbox.
//
// It decides nothing itself. It sends the call (the path it was started as, argv, cwd, the
// environment, its process group) with its stdio and working directory to the supervisor over
// the broker socket, then either prints the refusal and exits 126, or waits while the tool runs
// (started by the sandbox's tool spawner with the fds handed over), forwarding the signals sent
// to it, and ends the way the tool ended.
//
// Kept small and linked statically: its start is part of every mediated call's cost.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <variant>

#include "shims/protocol.h"
#include "supervisor/kernel/fd_passing.h"

extern char** environ;

namespace {

namespace protocol = tollgate::shim_protocol;

constexpr int kExitShimFailed = 126;

// Signals passed on to the tool when something other than the terminal sent them: the
// terminal's own (^C) reach the tool directly, as it runs in the shim's process group.
constexpr int kForwarded[] = {SIGINT,  SIGTERM, SIGHUP,   SIGQUIT,
                              SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

[[noreturn]] void Fail(const char* tool, const std::string& what) {
  std::fprintf(stderr, "tollgate: %s: %s\n", tool, what.c_str());
  std::_Exit(kExitShimFailed);
}

std::string SelfPath(const char* argv0) {
  char buffer[4096];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof buffer - 1);
  if (n > 0) return std::string(buffer, static_cast<std::size_t>(n));
  // No /proc in this sandbox: the name the kernel executed (absolute when found through PATH).
  const char* execfn = reinterpret_cast<const char*>(::getauxval(AT_EXECFN));
  if (execfn != nullptr && execfn[0] == '/') return execfn;
  return argv0 != nullptr ? argv0 : "";
}

int OpenOrNull(int fd, int flags) {
  if (::fcntl(fd, F_GETFD) >= 0) return fd;
  return ::open("/dev/null", flags | O_CLOEXEC);
}

bool WriteAll(int fd, const std::string& bytes) {
  return tollgate::kernel::SendAll(fd, bytes.data(), bytes.size());
}

[[noreturn]] void EndLikeTheTool(int wait_status) {
  if (WIFEXITED(wait_status)) std::_Exit(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    int sig = WTERMSIG(wait_status);
    ::signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
    ::raise(sig);
    std::_Exit(128 + sig);
  }
  std::_Exit(kExitShimFailed);
}

}  // namespace

int main(int argc, char** argv) {
  const char* name = argc > 0 && argv[0] != nullptr ? argv[0] : "tool";
  if (const char* slash = std::strrchr(name, '/')) name = slash + 1;

  protocol::Call call;
  call.exe = SelfPath(argc > 0 ? argv[0] : nullptr);
  for (int i = 0; i < argc; ++i) call.argv.emplace_back(argv[i]);
  if (call.argv.empty()) call.argv.emplace_back(call.exe);
  char cwd[4096];
  call.cwd = ::getcwd(cwd, sizeof cwd) != nullptr ? cwd : "/";
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry)
    call.env.emplace_back(*entry);
  call.pgid = static_cast<std::int32_t>(::getpgrp());
  call.fd_count = protocol::kMaxCallFds;

  int fds[4] = {OpenOrNull(0, O_RDONLY), OpenOrNull(1, O_WRONLY), OpenOrNull(2, O_WRONLY),
                ::open(".", O_PATH | O_DIRECTORY | O_CLOEXEC)};
  if (fds[3] < 0) fds[3] = ::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  for (int fd : fds) {
    if (fd < 0) Fail(name, std::string("cannot pass on stdio: ") + std::strerror(errno));
  }

  // Signals are collected from here on, so none sent while the call is decided is lost.
  sigset_t forwarded;
  sigemptyset(&forwarded);
  for (int sig : kForwarded) sigaddset(&forwarded, sig);
  ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
  int signal_fd = ::signalfd(-1, &forwarded, SFD_CLOEXEC | SFD_NONBLOCK);

  int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, protocol::kSocketPath, sizeof address.sun_path - 1);
  if (sock < 0 ||
      ::connect(sock, reinterpret_cast<struct sockaddr*>(&address), sizeof address) != 0) {
    Fail(name, std::string("cannot reach the tollgate supervisor at ") + protocol::kSocketPath +
                   " (" + std::strerror(errno) + "); " + name + " only runs through it here");
  }
  std::string frame = protocol::Encode(call);
  if (!tollgate::kernel::SendWithFds(sock, frame.data(), frame.size(), fds, 4).ok)
    Fail(name, std::string("cannot send the call to the supervisor: ") + std::strerror(errno));

  std::string pending;
  bool allowed = false;
  for (;;) {
    struct pollfd wait[2] = {{sock, POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (::poll(wait, signal_fd >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      Fail(name, std::string("poll: ") + std::strerror(errno));
    }
    if (signal_fd >= 0 && (wait[1].revents & POLLIN)) {
      struct signalfd_siginfo info;
      while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        if (info.ssi_code == SI_KERNEL) continue;  // the terminal's: the tool has it already
        protocol::Signal signal;
        signal.signo = static_cast<std::int32_t>(info.ssi_signo);
        WriteAll(sock, protocol::Encode(signal));
      }
    }
    if (!(wait[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    char buffer[4096];
    ssize_t n = ::read(sock, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Fail(name, allowed ? "the tollgate supervisor went away while the tool ran"
                         : "the tollgate supervisor closed the connection without a decision");
    }
    pending.append(buffer, static_cast<std::size_t>(n));
    for (;;) {
      protocol::DecodeResult decoded = protocol::Decode(pending);
      if (decoded.state == protocol::DecodeState::kNeedMore) break;
      if (decoded.state == protocol::DecodeState::kError)
        Fail(name, "a malformed answer from the supervisor: " + decoded.error);
      pending.erase(0, decoded.consumed);
      if (const auto* decision = std::get_if<protocol::Decision>(&decoded.message)) {
        if (decision->verdict == protocol::Verdict::kDeny) {
          std::fprintf(stderr, "%s\n", decision->message.c_str());
          std::_Exit(decision->exit_code);
        }
        allowed = true;
      } else if (const auto* exit = std::get_if<protocol::Exit>(&decoded.message)) {
        EndLikeTheTool(exit->wait_status);
      }
    }
  }
}
