#include "supervisor/approvals.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "supervisor/placeholder_ledger.h"

namespace tollgate {
namespace {

constexpr std::size_t kMaxRequestBytes = 4096;
constexpr std::size_t kMaxClients = 64;

bool MakeDirectory(const std::string& path) {
  std::size_t at = 1;
  while (at != std::string::npos) {
    at = path.find('/', at + 1);
    std::string part = path.substr(0, at);
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return false;
  }
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid() &&
         (st.st_mode & 0077) == 0;
}

void Watch(int epoll_fd, int fd) {
  struct epoll_event event {};
  event.events = EPOLLIN | EPOLLRDHUP;
  event.data.fd = fd;
  ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

}  // namespace

std::string ApprovalsDirectory() {
  std::string state = PlaceholderLedger::StateDirectory();
  return state.empty() ? state : state + "/approvals";
}

nlohmann::json PendingToJson(const PendingApproval& pending) {
  return {{"id", pending.id},
          {"tool", pending.tool},
          {"argv", pending.argv},
          {"cwd", pending.cwd},
          {"rule", pending.rule},
          {"why", pending.why},
          {"asked_unix_ns", pending.asked_unix_ns},
          {"deadline_unix_ns", pending.deadline_unix_ns}};
}

std::unique_ptr<ApprovalServer> ApprovalServer::Open(const std::string& dir, const std::string& run,
                                                     int epoll_fd, Lister lister, Answerer answerer,
                                                     std::string* error) {
  if (dir.empty() || !MakeDirectory(dir)) {
    *error = "cannot use the approvals directory " + (dir.empty() ? "(none found)" : dir) +
             ": it must be a directory of this user's, mode 0700";
    return nullptr;
  }
  std::unique_ptr<ApprovalServer> server(new ApprovalServer());
  server->run_ = run;
  server->path_ = dir + "/" + run + ".sock";
  server->epoll_fd_ = epoll_fd;
  server->lister_ = std::move(lister);
  server->answerer_ = std::move(answerer);
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  if (server->path_.size() >= sizeof address.sun_path) {
    *error = "the approvals socket path is too long: " + server->path_;
    return nullptr;
  }
  std::strcpy(address.sun_path, server->path_.c_str());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  ::unlink(server->path_.c_str());
  if (fd < 0 || ::bind(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, 16) != 0) {
    *error = "cannot listen on " + server->path_ + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
    return nullptr;
  }
  server->listener_ = fd;
  Watch(epoll_fd, fd);
  return server;
}

ApprovalServer::~ApprovalServer() {
  for (const auto& [fd, pending] : clients_) ::close(fd);
  if (listener_ >= 0) {
    ::close(listener_);
    ::unlink(path_.c_str());
  }
}

bool ApprovalServer::Owns(int fd) const {
  return fd == listener_ || clients_.count(fd) > 0;
}

void ApprovalServer::OnReady(int fd) {
  if (fd == listener_) {
    for (;;) {
      int client = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (client < 0) return;
      // Only this user (or root) may answer: the directory is 0700, and the peer is checked.
      struct ucred peer {};
      socklen_t size = sizeof peer;
      if (clients_.size() >= kMaxClients ||
          ::getsockopt(client, SOL_SOCKET, SO_PEERCRED, &peer, &size) != 0 ||
          (peer.uid != ::geteuid() && peer.uid != 0)) {
        ::close(client);
        continue;
      }
      clients_[client];
      Watch(epoll_fd_, client);
    }
  }
  auto it = clients_.find(fd);
  if (it == clients_.end()) return;
  char buffer[1024];
  ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n > 0) it->second.append(buffer, static_cast<std::size_t>(n));
  std::size_t newline = it->second.find('\n');
  if (newline == std::string::npos && n > 0 && it->second.size() < kMaxRequestBytes) return;
  if (newline != std::string::npos) {
    std::string reply = Handle(it->second.substr(0, newline)) + "\n";
    (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  clients_.erase(it);
}

std::string ApprovalServer::Handle(const std::string& line) {
  nlohmann::json request = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!request.is_object() || !request.contains("op") || !request["op"].is_string())
    return nlohmann::json({{"error", "expected {\"op\": ...}"}}).dump();
  const std::string op = request["op"].get<std::string>();
  if (op == "list") {
    nlohmann::json pending = nlohmann::json::array();
    for (const PendingApproval& item : lister_()) pending.push_back(PendingToJson(item));
    return nlohmann::json({{"run", run_}, {"pending", pending}}).dump();
  }
  if (op == "answer") {
    if (!request.contains("id") || !request["id"].is_number_unsigned() ||
        !request.contains("answer") || !request["answer"].is_string()) {
      return nlohmann::json({{"error", "answer needs \"id\" and \"answer\""}}).dump();
    }
    const std::string text = request["answer"].get<std::string>();
    ApprovalAnswer answer;
    if (text == "once") {
      answer = ApprovalAnswer::kOnce;
    } else if (text == "run") {
      answer = ApprovalAnswer::kForRun;
    } else if (text == "deny") {
      answer = ApprovalAnswer::kDeny;
    } else {
      return nlohmann::json({{"error", "answer is once, run or deny"}}).dump();
    }
    std::string error = answerer_(request["id"].get<std::uint64_t>(), answer);
    if (!error.empty()) return nlohmann::json({{"error", error}}).dump();
    return nlohmann::json({{"ok", true}}).dump();
  }
  return nlohmann::json({{"error", "unknown op " + op}}).dump();
}

}  // namespace tollgate
