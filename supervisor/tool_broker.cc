#include "supervisor/tool_broker.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>
#include <variant>

#include "policy/tool_rules.h"
#include "shims/protocol.h"
#include "supervisor/kernel/fd_passing.h"
#include "supervisor/kernel/seccomp_notify.h"
#include "supervisor/process_description.h"

namespace tollgate {

namespace protocol = shim_protocol;

namespace {

// More than this many shims waiting at once are refused as they connect (and recorded): the
// supervisor's memory stays bounded whatever the sandbox does.
constexpr std::size_t kMaxConnections = 4096;
constexpr std::size_t kMaxBufferedBytes = protocol::kMaxPayload + protocol::kHeaderSize;

std::string Basename(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct ToolBroker::Connection {
  int fd = -1;
  pid_t host_pid = 0;  // SO_PEERCRED
  uid_t uid = 0;
  bool in_sandbox = false;
  std::string pending;
  int fds[kernel::kSpawnFdCount] = {-1, -1, -1, -1};
  int fd_count = 0;
  enum class State { kAwaitCall, kSpawning, kRunning, kDone } state = State::kAwaitCall;
  std::uint64_t call_id = 0;
  std::string tool;
  std::int64_t started_ns = 0;
  bool shim_gone = false;
  std::optional<audit::ProcessInfo> process;
  audit::Json process_details = audit::Json::object();

  void CloseFds() {
    for (int& fd_ref : fds) {
      if (fd_ref >= 0) ::close(fd_ref);
      fd_ref = -1;
    }
    fd_count = 0;
  }
};

ToolBroker::ToolBroker(BrokerOptions options, int epoll_fd, int spawner_channel)
    : options_(std::move(options)), epoll_fd_(epoll_fd), spawner_channel_(spawner_channel) {
  sandbox_pid_namespace_ =
      kernel::ReadProcessLink(options_.init_pid, "ns/pid");  // the init's: the sandbox's own
}

ToolBroker::~ToolBroker() {
  for (auto& [fd, connection] : connections_) {
    connection->CloseFds();
    ::close(fd);
  }
  if (listener_ >= 0) ::close(listener_);
}

void ToolBroker::SetListener(int listener) {
  listener_ = listener;
  struct epoll_event event {};
  event.events = EPOLLIN;
  event.data.fd = listener;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listener, &event);
}

bool ToolBroker::Owns(int fd) const {
  return fd == listener_ || fd == spawner_channel_ || connections_.count(fd) > 0;
}

bool ToolBroker::OnReady(int fd, std::uint32_t events) {
  if (fd == listener_) return Accept();
  if (fd == spawner_channel_) return OnSpawnerReadable();
  auto it = connections_.find(fd);
  if (it == connections_.end()) return true;
  (void)events;
  return OnConnectionReadable(it->second.get());
}

bool ToolBroker::Accept() {
  for (int accepted = 0; accepted < 64; ++accepted) {
    int fd = ::accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return true;  // EAGAIN, or a connection that went away before it was taken
    auto connection = std::make_unique<Connection>();
    connection->fd = fd;
    struct ucred peer {};
    socklen_t size = sizeof peer;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &peer, &size) == 0) {
      connection->host_pid = peer.pid;
      connection->uid = peer.uid;
      // The caller's pid namespace must be the sandbox's: a process outside (another sandbox,
      // the host) that found the socket is not this run's agent.
      connection->in_sandbox =
          peer.pid > 0 && !sandbox_pid_namespace_.empty() &&
          kernel::ReadProcessLink(peer.pid, "ns/pid") == sandbox_pid_namespace_;
      connection->process = DescribeProcess(peer.pid, &connection->process_details);
    }
    Connection* raw = connection.get();
    connections_[fd] = std::move(connection);
    if (connections_.size() > kMaxConnections) {
      if (!Refuse(raw, "broker", "too many calls at once",
                  "tollgate: refused: more than " + std::to_string(kMaxConnections) +
                      " tool calls are waiting at once")) {
        return false;
      }
      continue;
    }
    struct epoll_event event {};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.fd = fd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
  }
  return true;
}

bool ToolBroker::OnConnectionReadable(Connection* c) {
  char buffer[64 * 1024];
  for (;;) {
    std::size_t received = 0;
    int fds[kernel::kMaxPassedFds];
    int fd_count = 0;
    kernel::Status status = kernel::ReceiveWithFds(c->fd, buffer, sizeof buffer, &received, fds,
                                                   kernel::kSpawnFdCount, &fd_count);
    if (!status.ok && (status.error == EAGAIN || status.error == EWOULDBLOCK)) break;
    if (!status.ok) {
      if (c->state == Connection::State::kAwaitCall)
        return Refuse(c, "protocol", "the call could not be received: " + status.ToString(),
                      "tollgate: refused: the call could not be received");
      received = 0;  // treat as the shim going away
    }
    for (int i = 0; i < fd_count; ++i) {
      if (c->state != Connection::State::kAwaitCall || c->fd_count >= kernel::kSpawnFdCount) {
        ::close(fds[i]);
        continue;
      }
      c->fds[c->fd_count++] = fds[i];
    }
    if (received == 0) {
      // The shim went away: a tool it started is stopped (nothing waits for it any more).
      if (c->state == Connection::State::kRunning || c->state == Connection::State::kSpawning) {
        c->shim_gone = true;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
        if (c->state == Connection::State::kRunning)
          (void)kernel::SendSpawnSignal(spawner_channel_, c->call_id, SIGKILL);
        return true;
      }
      if (c->state == Connection::State::kAwaitCall && !c->pending.empty()) {
        return Refuse(
            c, "protocol",
            "the call was cut short (" + std::to_string(c->pending.size()) + " bytes, then end)",
            "tollgate: refused: truncated call");
      }
      Close(c);
      return true;
    }
    if (c->pending.size() + received > kMaxBufferedBytes) {
      return Refuse(c, "protocol",
                    "the call exceeds " + std::to_string(kMaxBufferedBytes) + " bytes",
                    "tollgate: refused: the call is too large");
    }
    c->pending.append(buffer, received);
    for (;;) {
      protocol::DecodeResult decoded = protocol::Decode(c->pending);
      if (decoded.state == protocol::DecodeState::kNeedMore) break;
      if (decoded.state == protocol::DecodeState::kError) {
        if (c->state != Connection::State::kAwaitCall) {
          // A running call's shim sent garbage: stop listening to it; the tool runs on.
          ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
          return true;
        }
        return Refuse(c, "protocol", "malformed call: " + decoded.error,
                      "tollgate: refused: malformed call (" + decoded.error + ")");
      }
      c->pending.erase(0, decoded.consumed);
      if (const auto* call = std::get_if<protocol::Call>(&decoded.message)) {
        if (c->state != Connection::State::kAwaitCall) continue;  // one call per connection
        if (!HandleCall(c, *call)) return false;
        if (connections_.count(c->fd) == 0) return true;  // refused and closed
      } else if (const auto* signal = std::get_if<protocol::Signal>(&decoded.message)) {
        if (c->state == Connection::State::kRunning)
          (void)kernel::SendSpawnSignal(spawner_channel_, c->call_id, signal->signo);
      } else if (c->state == Connection::State::kAwaitCall) {
        return Refuse(c, "protocol", "expected a call, got another message",
                      "tollgate: refused: expected a call");
      }
    }
  }
  return true;
}

bool ToolBroker::HandleCall(Connection* c, const protocol::Call& call) {
  ++calls_;
  if (!c->in_sandbox) {
    return Refuse(c, "broker",
                  "the caller (host pid " + std::to_string(c->host_pid) +
                      ") is not a process of this sandbox",
                  "tollgate: refused: the caller is not in this sandbox");
  }
  if (c->fd_count != kernel::kSpawnFdCount) {
    return Refuse(c, "protocol",
                  "the call came with " + std::to_string(c->fd_count) + " descriptors, not 4",
                  "tollgate: refused: the call must pass stdin, stdout, stderr and its cwd");
  }
  std::size_t index = options_.paths.size();
  for (std::size_t i = 0; i < options_.paths.size(); ++i) {
    if (options_.paths[i].path == call.exe) {
      index = i;
      break;
    }
  }
  if (index == options_.paths.size()) {
    return Refuse(c, "broker", call.exe + " is not a mediated tool",
                  "tollgate: refused: " + call.exe + " is not a tool this profile mediates");
  }
  const MediatedPath& mediated = options_.paths[index];
  const policy::ToolSpec& tool = options_.tools->at(mediated.tool);
  c->tool = tool.name;

  policy::ToolCall request;
  request.invoked_as = Basename(call.argv[0]);
  request.args.assign(call.argv.begin() + 1, call.argv.end());
  // The working directory is the one the shim passed, as the sandbox names it, not the one it
  // says: a relative path is decided where it will be used.
  std::string fd_link = "/proc/self/fd/" + std::to_string(c->fds[3]);
  char cwd[4096];
  ssize_t n = ::readlink(fd_link.c_str(), cwd, sizeof cwd - 1);
  request.cwd = n > 0 ? std::string(cwd, static_cast<std::size_t>(n)) : call.cwd;
  request.env = call.env;
  policy::ToolDecision decision = policy::DecideToolCall(tool, request);

  policy::ToolVerdict verdict = decision.verdict;
  std::string reason = decision.reason;
  if (verdict == policy::ToolVerdict::kAsk && options_.ask_is_deny) {
    verdict = policy::ToolVerdict::kDeny;
    reason = "needs approval, and no one can approve in this run: " + decision.reason;
  }
  const bool allowed =
      verdict == policy::ToolVerdict::kAllow || (verdict == policy::ToolVerdict::kAsk && false);

  audit::Event event;
  event.kind = "tool.call";
  event.verdict = allowed ? audit::Verdict::kAllow : audit::Verdict::kDeny;
  event.rule = tool.name + ":" + decision.rule;
  event.reason = reason;
  event.process = c->process;
  event.details = c->process_details;
  event.details["tool"] = tool.name;
  event.details["call"] = next_call_;
  event.details["path"] = event.strings.String(call.exe, "details.path");
  event.details["argv"] = event.strings.StringArray(decision.argv, "details.argv");
  event.details["cwd"] = event.strings.String(request.cwd, "details.cwd");
  if (!decision.subcommand.empty())
    event.details["subcommand"] = event.strings.String(decision.subcommand, "details.subcommand");
  event.details["decision"] = policy::ToolVerdictName(decision.verdict);
  event.details["run"] = decision.run_on_host ? "host" : "sandbox";
  if (!options_.audit->Append(event)) {
    Send(c, protocol::Encode(
                protocol::Decision{protocol::Verdict::kDeny, 126,
                                   "tollgate: refused: the audit log could not be written"}));
    Close(c);
    return false;
  }
  if (!allowed) {
    std::string message = "tollgate: " + tool.name;
    if (!decision.subcommand.empty()) message += " " + decision.subcommand;
    message +=
        " denied by rule " + decision.rule + " of profile " + options_.profile + ": " + reason;
    Send(c, protocol::Encode(protocol::Decision{protocol::Verdict::kDeny, 126, message}));
    Close(c);
    return true;
  }
  if (spawner_gone_) {
    return Refuse(c, "broker", "the sandbox's tool spawner is gone",
                  "tollgate: refused: the tool spawner of this sandbox is gone");
  }
  kernel::SpawnRequest spawn;
  spawn.call_id = next_call_++;
  spawn.tool_index = static_cast<std::uint32_t>(index);
  spawn.pgid = call.pgid;
  spawn.argv = decision.argv;
  spawn.env = call.env;
  kernel::Status sent = kernel::SendSpawnRequest(spawner_channel_, spawn, c->fds);
  c->CloseFds();
  if (!sent.ok) {
    return Refuse(c, "broker", "the tool could not be handed to the spawner: " + sent.ToString(),
                  "tollgate: refused: the tool could not be started");
  }
  c->state = Connection::State::kSpawning;
  c->call_id = spawn.call_id;
  c->started_ns = NowNs();
  by_call_[spawn.call_id] = c;
  return true;
}

bool ToolBroker::OnSpawnerReadable() {
  std::vector<kernel::SpawnerEvent> events;
  if (!spawner_events_.Read(spawner_channel_, &events)) {
    spawner_gone_ = true;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, spawner_channel_, nullptr);
  }
  for (const kernel::SpawnerEvent& event : events) {
    auto it = by_call_.find(event.call_id);
    if (it == by_call_.end()) continue;
    Connection* c = it->second;
    if (event.type == kernel::SpawnerEventType::kStarted) {
      if (event.value > 0) {
        c->state = Connection::State::kRunning;
        if (c->shim_gone) (void)kernel::SendSpawnSignal(spawner_channel_, c->call_id, SIGKILL);
        Send(c, protocol::Encode(protocol::Decision{protocol::Verdict::kAllow, 0, ""}));
        continue;
      }
      by_call_.erase(it);
      audit::Event record;
      record.kind = "tool.exit";
      record.verdict = audit::Verdict::kInfo;
      record.reason = std::string("the tool could not be started: ") + std::strerror(-event.value);
      record.details["tool"] = c->tool;
      record.details["call"] = c->call_id;
      record.details["error"] = std::strerror(-event.value);
      bool ok = options_.audit->Append(record);
      Send(c,
           protocol::Encode(protocol::Decision{
               protocol::Verdict::kDeny, 126,
               "tollgate: " + c->tool + " could not be started: " + std::strerror(-event.value)}));
      Close(c);
      if (!ok) return false;
      continue;
    }
    // kExited
    by_call_.erase(it);
    const int status = event.value;
    audit::Event record;
    record.kind = "tool.exit";
    record.verdict = audit::Verdict::kInfo;
    record.details["tool"] = c->tool;
    record.details["call"] = c->call_id;
    record.details["duration_ns"] = NowNs() - c->started_ns;
    if (WIFEXITED(status)) {
      record.details["exit"] = WEXITSTATUS(status);
      record.reason = "exited with status " + std::to_string(WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
      record.details["signal"] = ::sigabbrev_np(WTERMSIG(status))
                                     ? std::string("SIG") + ::sigabbrev_np(WTERMSIG(status))
                                     : std::to_string(WTERMSIG(status));
      record.reason = "ended by signal " + record.details["signal"].get<std::string>();
    }
    if (c->shim_gone) record.details["shim_gone"] = true;
    bool ok = options_.audit->Append(record);
    if (!c->shim_gone) Send(c, protocol::Encode(protocol::Exit{status}));
    Close(c);
    if (!ok) return false;
  }
  if (spawner_gone_) {
    // Nothing started will report any more: release every waiting shim.
    std::vector<Connection*> waiting;
    for (auto& [id, c] : by_call_) waiting.push_back(c);
    by_call_.clear();
    for (Connection* c : waiting) {
      Send(c, protocol::Encode(protocol::Decision{protocol::Verdict::kDeny, 126,
                                                  "tollgate: the sandbox's tool spawner is gone"}));
      Close(c);
    }
  }
  return true;
}

bool ToolBroker::Refuse(Connection* c, const std::string& rule, const std::string& reason,
                        const std::string& message) {
  audit::Event event;
  event.kind = "tool.call";
  event.verdict = audit::Verdict::kDeny;
  event.rule = rule;
  event.reason = reason;
  event.process = c->process;
  event.details = c->process_details;
  if (!c->tool.empty()) event.details["tool"] = c->tool;
  bool ok = options_.audit->Append(event);
  Send(c, protocol::Encode(protocol::Decision{protocol::Verdict::kDeny, 126, message}));
  Close(c);
  return ok;
}

void ToolBroker::Send(Connection* c, const std::string& frame) {
  // Answers are small and the shim reads them at once; a shim that does not read loses them.
  (void)::send(c->fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

void ToolBroker::Close(Connection* c) {
  c->CloseFds();
  if (c->call_id != 0) by_call_.erase(c->call_id);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
  int fd = c->fd;
  ::close(fd);
  connections_.erase(fd);  // destroys *c
}

}  // namespace tollgate
