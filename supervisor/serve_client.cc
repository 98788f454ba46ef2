#include "supervisor/serve_client.h"

#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "supervisor/commands.h"
#include "supervisor/kernel/launch_trace.h"
#include "supervisor/serve_protocol.h"

extern char** environ;

namespace tollgate {
namespace {

// What a launch forwards to its command (launcher.cc). Here terminal signals are forwarded as
// well: the prepared sandbox is not in this terminal's foreground process group.
constexpr int kRelayedSignals[] = {SIGTERM, SIGINT,  SIGHUP,   SIGQUIT,
                                   SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};

class Connection {
 public:
  ~Connection() {
    if (fd >= 0) ::close(fd);
  }
  int fd = -1;
};

bool ConnectTo(const std::string& path, Connection* connection) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) return false;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  connection->fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connection->fd < 0) return false;
  if (::connect(connection->fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return false;
  // Only a server of this very user: another could see the environment and the terminal.
  ucred peer{};
  socklen_t length = sizeof peer;
  if (::getsockopt(connection->fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 ||
      peer.uid != ::geteuid()) {
    spdlog::warn("the server socket {} belongs to uid {}, not this user: not used", path,
                 peer.uid);
    return false;
  }
  return true;
}

// Reads until end of file (a kMiss's reason).
std::string ReadRest(int fd) {
  std::string text;
  char buffer[512];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

}  // namespace

std::optional<int> RunThroughServer(const std::vector<std::string>& options,
                                    const std::vector<std::string>& command) {
  const std::string path = serve::SocketPath();
  if (path.empty()) return std::nullopt;
  Connection server;
  if (!ConnectTo(path, &server)) return std::nullopt;
  kernel::LaunchTrace("client: connected");

  serve::RunRequest request;
  request.executable = serve::ExecutableIdentity();
  request.options = options;
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return std::nullopt;
  request.cwd = cwd;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry)
    request.env.emplace_back(*entry);
  request.stderr_is_terminal = ::isatty(STDERR_FILENO) == 1;
  request.command = command;
  // Signals that arrive from here on wait: forwarded once the run is accepted, delivered to
  // this process as usual if it is not (the run is then launched here).
  sigset_t relayed, saved;
  sigemptyset(&relayed);
  for (int sig : kRelayedSignals) sigaddset(&relayed, sig);
  ::sigprocmask(SIG_BLOCK, &relayed, &saved);
  auto unblock = [&saved] { ::sigprocmask(SIG_SETMASK, &saved, nullptr); };

  const int stdio[3] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
  if (!serve::SendFrame(server.fd, serve::EncodeRequest(request), stdio, 3).ok) {
    unblock();
    return std::nullopt;
  }
  char answer = 0;
  ssize_t n;
  do {
    n = ::read(server.fd, &answer, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1 || answer != serve::kAccepted) {
    if (n == 1 && answer == serve::kMiss)
      spdlog::debug("no prepared sandbox: {}", ReadRest(server.fd));
    unblock();
    return std::nullopt;
  }
  kernel::LaunchTrace("client: accepted");
  spdlog::debug("running in a sandbox prepared by the server at {}", path);

  // Accepted: the command runs with this process's stdio. Relay signals until its status comes.
  int signals = ::signalfd(-1, &relayed, SFD_CLOEXEC | SFD_NONBLOCK);
  struct pollfd fds[2] = {{server.fd, POLLIN, 0}, {signals, POLLIN, 0}};
  char status[1 + sizeof(std::int32_t)];
  std::size_t have = 0;
  for (;;) {
    if (::poll(fds, signals >= 0 ? 2 : 1, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info{};
      while (::read(signals, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        unsigned char number = static_cast<unsigned char>(info.ssi_signo);
        (void)!::send(server.fd, &number, 1, MSG_NOSIGNAL);
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = ::read(server.fd, status + have, sizeof status - have);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      have += static_cast<std::size_t>(got);
      if (have == sizeof status) break;
    }
  }
  if (signals >= 0) ::close(signals);
  kernel::LaunchTrace("client: status received");
  if (have == sizeof status && status[0] == serve::kExit) {
    std::int32_t code = 0;
    std::memcpy(&code, status + 1, sizeof code);
    return code;
  }
  std::cerr << "tollgate: the server's supervisor of this run ended without its status (see "
               "the audit log)\n";
  return kExitSetupFailed;
}

}  // namespace tollgate
