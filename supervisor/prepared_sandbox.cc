#include "supervisor/prepared_sandbox.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "supervisor/kernel/fd_passing.h"
#include "supervisor/kernel/launch_trace.h"

namespace tollgate {
namespace {

bool Bind(int fd, const std::string& path) {
  sockaddr_un address;
  return kernel::UnixSocketAddress(path, &address) &&
         ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
}

void Close(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

}  // namespace

std::unique_ptr<PreparedSandbox> PreparedSandbox::Create(int server_fd,
                                                         const std::vector<std::string>& options,
                                                         bool stderr_is_terminal,
                                                         std::string* error) {
  std::unique_ptr<PreparedSandbox> sandbox(new PreparedSandbox());
  sandbox->server_fd_ = server_fd;
  sandbox->key_ = serve::RequestKey(serve::RequestOfThisProcess(options, stderr_is_terminal));
  sandbox->path_ = serve::PreparedSocketPath(sandbox->key_);
  if (sandbox->path_.empty()) {
    *error = "no socket path (TOLLGATE_SERVE_SOCKET is off)";
    return nullptr;
  }
  sandbox->temporary_path_ = sandbox->path_ + "." + std::to_string(::getpid());
  sandbox->listener_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const mode_t old_mask = ::umask(077);
  const bool bound = sandbox->listener_ >= 0 &&
                     Bind(sandbox->listener_, sandbox->temporary_path_) &&
                     ::listen(sandbox->listener_, 8) == 0;
  ::umask(old_mask);
  if (!bound) {
    *error = "cannot listen on " + sandbox->temporary_path_ + ": " + std::strerror(errno);
    return nullptr;
  }
  return sandbox;
}

PreparedSandbox::~PreparedSandbox() {
  Close(&listener_);
  if (!temporary_path_.empty()) ::unlink(temporary_path_.c_str());
  Unpublish();
}

void PreparedSandbox::Unpublish() {
  if (!published_) return;
  published_ = false;
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && st.st_dev == published_device_ &&
      st.st_ino == published_inode_) {
    ::unlink(path_.c_str());
  }
}

std::optional<PreparedSandbox::Client> PreparedSandbox::Wait() {
  // Published by a rename over the name: a client finds this sandbox or the one before, never
  // nothing, and one that finds the one before (already taken) is turned away and launches
  // by itself.
  struct stat bound {};
  if (::lstat(temporary_path_.c_str(), &bound) != 0 ||
      ::rename(temporary_path_.c_str(), path_.c_str()) != 0) {
    return std::nullopt;
  }
  temporary_path_.clear();
  published_ = true;
  published_device_ = bound.st_dev;
  published_inode_ = bound.st_ino;
  if (!serve::Reply(server_fd_, serve::kReady)) return std::nullopt;
  for (;;) {
    struct pollfd fds[2] = {{listener_, POLLIN, 0}, {server_fd_, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    // The server lets the sandbox go (end of file): expired, or the server stopped.
    if (fds[1].revents != 0) return std::nullopt;
    if (!(fds[0].revents & POLLIN)) continue;
    int connection = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection < 0) continue;
    kernel::LaunchTrace("prepared: client connected");
    ucred peer{};
    socklen_t length = sizeof peer;
    // Another user's client never gets this user's sandbox (the socket's mode says so too).
    if (::getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &peer, &length) != 0 ||
        peer.uid != ::geteuid()) {
      ::close(connection);
      continue;
    }
    timeval timeout{2, 0};
    ::setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    Client client;
    std::string bytes;
    int count = 0;
    const bool received =
        serve::ReceiveFrame(connection, serve::kMaxRequestBytes, &bytes, client.stdio, 3, &count);
    if (!received || count != 3 || !serve::DecodeRequest(bytes, &client.request) ||
        client.request.command.empty() || serve::RequestKey(client.request) != key_) {
      for (int i = 0; i < count; ++i) ::close(client.stdio[i]);
      serve::Reply(connection, serve::kMiss, "not the configuration prepared here");
      ::close(connection);
      continue;
    }
    timeval none{0, 0};
    ::setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    // One run only: later clients find no socket and launch by themselves.
    Close(&listener_);
    Unpublish();
    serve::Reply(server_fd_, serve::kTaken);
    client.connection = connection;
    return client;
  }
}

void PreparedSandbox::TellStale() {
  serve::Reply(server_fd_, serve::kStale);
}

}  // namespace tollgate
