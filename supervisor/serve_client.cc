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
#include "supervisor/kernel/fd_passing.h"
#include "supervisor/kernel/launch_trace.h"
#include "supervisor/serve_protocol.h"

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

bool ConnectTo(const std::string& path, Connection* connection, bool quiet = false) {
  sockaddr_un address;
  if (!kernel::UnixSocketAddress(path, &address)) return false;
  connection->fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (connection->fd < 0) return false;
  if (::connect(connection->fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    return false;
  // Only a server of this very user: another could see the environment and the terminal.
  ucred peer{};
  socklen_t length = sizeof peer;
  if (::getsockopt(connection->fd, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 ||
      peer.uid != ::geteuid()) {
    if (!quiet)
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

// Tells the server of a run it had no sandbox prepared for, so that it prepares one.
void TellServer(const Connection& server, const serve::RunRequest& request) {
  if (!serve::SendFrame(server.fd, serve::EncodeRequest(request), nullptr, 0).ok) return;
  char answer = 0;
  if (::read(server.fd, &answer, 1) == 1 && answer == serve::kMiss)
    spdlog::debug("no prepared sandbox: {}", ReadRest(server.fd));
}

serve::RunRequest MakeRequest(const std::vector<std::string>& options,
                              const std::vector<std::string>& command) {
  return serve::RequestOfThisProcess(options, ::isatty(STDERR_FILENO) == 1, command);
}

// The run in the sandbox prepared for `request`, if one is ready and takes it. Logs nothing:
// it may run before the logger is set up.
std::optional<int> RunInPrepared(const serve::RunRequest& request) {
  if (request.cwd.empty()) return std::nullopt;
  const std::string prepared_path = serve::PreparedSocketPath(serve::RequestKey(request));
  Connection sandbox;
  if (prepared_path.empty() || !ConnectTo(prepared_path, &sandbox, /*quiet=*/true))
    return std::nullopt;
  kernel::LaunchTrace("client: connected");
  // Signals that arrive from here on wait: forwarded once the run is accepted, delivered to
  // this process as usual if it is not (the run is then launched here).
  sigset_t relayed, saved;
  sigemptyset(&relayed);
  for (int sig : kRelayedSignals) sigaddset(&relayed, sig);
  ::sigprocmask(SIG_BLOCK, &relayed, &saved);
  const int stdio[3] = {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO};
  char answer = 0;
  ssize_t n = -1;
  if (serve::SendFrame(sandbox.fd, serve::EncodeRequest(request), stdio, 3).ok) {
    do {
      n = ::read(sandbox.fd, &answer, 1);
    } while (n < 0 && errno == EINTR);
  }
  if (n != 1 || answer != serve::kAccepted) {
    ::sigprocmask(SIG_SETMASK, &saved, nullptr);
    return std::nullopt;
  }
  kernel::LaunchTrace("client: accepted");

  // Accepted: the command runs with this process's stdio. Relay signals until its status comes.
  int signals = ::signalfd(-1, &relayed, SFD_CLOEXEC | SFD_NONBLOCK);
  struct pollfd fds[2] = {{sandbox.fd, POLLIN, 0}, {signals, POLLIN, 0}};
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
        (void)!::send(sandbox.fd, &number, 1, MSG_NOSIGNAL);
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = ::read(sandbox.fd, status + have, sizeof status - have);
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
  std::cerr << "tollgate: the supervisor of this prepared run ended without its status (see "
               "the audit log)\n";
  return kExitSetupFailed;
}

}  // namespace

std::optional<int> RunInPreparedSandbox(const std::vector<std::string>& options,
                                        const std::vector<std::string>& command) {
  if (serve::SocketPath().empty()) return std::nullopt;
  return RunInPrepared(MakeRequest(options, command));
}

std::optional<int> RunThroughServer(const std::vector<std::string>& options,
                                    const std::vector<std::string>& command, bool try_prepared) {
  const std::string path = serve::SocketPath();
  if (path.empty()) return std::nullopt;
  std::optional<serve::RunRequest> request;
  if (try_prepared) {
    request = MakeRequest(options, command);
    if (std::optional<int> code = RunInPrepared(*request)) return code;
  }
  // Connected only now: the server reads a connection's request at once. Without a server (the
  // usual case when main() already tried the prepared sandbox) a launch of its own pays one
  // failed connect, not a request built for no one.
  Connection server;
  if (!ConnectTo(path, &server)) return std::nullopt;
  if (!request) request = MakeRequest(options, command);
  TellServer(server, *request);
  return std::nullopt;
}

}  // namespace tollgate
