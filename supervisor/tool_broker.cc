#include "supervisor/tool_broker.h"

#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <variant>

#include "policy/tool_rules.h"
#include "shims/protocol.h"
#include "supervisor/claude_hook.h"
#include "supervisor/kernel/fd_passing.h"
#include "supervisor/kernel/mountns.h"
#include "supervisor/kernel/seccomp_notify.h"
#include "supervisor/process_description.h"

namespace tollgate {

namespace protocol = shim_protocol;

namespace {

// More than this many shims waiting at once are refused as they connect (and recorded): the
// supervisor's memory stays bounded whatever the sandbox does.
constexpr std::size_t kMaxConnections = 4096;
constexpr std::size_t kMaxBufferedBytes = protocol::kMaxPayload + protocol::kHeaderSize;
// A shim sends its call at once; one that has not after this long is refused (and recorded).
constexpr int kCallTimeoutSeconds = 10;

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
  enum class State { kAwaitCall, kAwaitApproval, kSpawning, kRunning } state = State::kAwaitCall;
  std::uint64_t call_id = 0;
  std::string tool;
  std::int64_t started_ns = 0;
  bool shim_gone = false;
  std::optional<audit::ProcessInfo> process;
  audit::Json process_details = audit::Json::object();
  // The decided call, kept while it waits for a person.
  std::size_t tool_index = 0;
  policy::ToolDecision decision;
  std::string exe;
  std::string cwd;
  std::vector<std::string> env;
  std::int32_t pgid = 0;
  std::int64_t asked_unix_ns = 0;
  std::int64_t deadline_ns = 0;        // steady clock: the approval's
  std::int64_t call_deadline_ns = 0;   // steady clock: the call must have arrived by then
  std::vector<std::string> host_argv;  // a call for the host, as it runs there (Conclude)
  std::vector<std::string> host_env;
  pid_t host_child = -1;  // a call run on the host
  int host_pidfd = -1;

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
  // One timer for every deadline: calls that do not arrive, approvals that do not come.
  timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (timer_fd_ >= 0) {
    struct epoll_event event {};
    event.events = EPOLLIN;
    event.data.fd = timer_fd_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, timer_fd_, &event);
  }
  if (!options_.ask_is_deny) {
    std::string error = "no timer";
    if (timer_fd_ >= 0) {
      approvals_ = ApprovalServer::Open(
          ApprovalsDirectory(), options_.run, epoll_fd_, [this] { return Pending(); },
          [this](std::uint64_t id, ApprovalAnswer answer) { return Answer(id, answer); }, &error);
    }
    if (!approvals_) {
      if (options_.notify)
        options_.notify("tollgate: approvals are off for this run (" + error +
                        "): calls a rule asks about are denied");
      options_.ask_is_deny = true;
    }
  }
}

ToolBroker::~ToolBroker() {
  for (OutgoingFrame& frame : to_spawner_) {
    for (int fd : frame.fds) ::close(fd);
  }
  for (auto& [fd, connection] : connections_) {
    connection->CloseFds();
    if (connection->host_child > 0 && connection->host_pidfd >= 0) {
      ::kill(connection->host_child, SIGKILL);
      ::waitpid(connection->host_child, nullptr, 0);
      ::close(connection->host_pidfd);
    }
    ::close(fd);
  }
  if (listener_ >= 0) ::close(listener_);
  if (timer_fd_ >= 0) ::close(timer_fd_);
}

void ToolBroker::SetListener(int listener) {
  listener_ = listener;
  struct epoll_event event {};
  event.events = EPOLLIN;
  event.data.fd = listener;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listener, &event);
}

bool ToolBroker::Owns(int fd) const {
  return fd == listener_ || fd == spawner_channel_ || (fd >= 0 && fd == timer_fd_) ||
         host_calls_.count(fd) > 0 || connections_.count(fd) > 0 ||
         (approvals_ && approvals_->Owns(fd));
}

bool ToolBroker::OnReady(int fd, std::uint32_t events) {
  if (fd == listener_) return Accept();
  if (fd == spawner_channel_) {
    if (events & EPOLLOUT) FlushToSpawner();
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) return OnSpawnerReadable();
    return true;
  }
  if (fd == timer_fd_) return OnTimer();
  if (host_calls_.count(fd) > 0) return OnHostExit(fd);
  if (approvals_ && approvals_->Owns(fd)) {
    approvals_->OnReady(fd);  // answers conclude calls, which write records
    return !audit_failed_;
  }
  auto it = connections_.find(fd);
  if (it == connections_.end()) return true;
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
      struct stat ns {};
      std::string path = "/proc/" + std::to_string(peer.pid) + "/ns/pid";
      connection->in_sandbox = peer.pid > 0 && options_.pid_ns_ino != 0 &&
                               ::stat(path.c_str(), &ns) == 0 && ns.st_dev == options_.pid_ns_dev &&
                               ns.st_ino == options_.pid_ns_ino;
      connection->process = DescribeProcess(peer.pid, &connection->process_details);
    }
    connection->call_deadline_ns = NowNs() + std::int64_t{kCallTimeoutSeconds} * 1000000000;
    Connection* raw = connection.get();
    connections_[fd] = std::move(connection);
    // Call deadlines only grow with each accept: the timer needs arming only when it is idle or
    // set later (for an approval).
    if (armed_ns_ == 0 || raw->call_deadline_ns < armed_ns_) ArmTimer();
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
    // The shim sends its call right after connecting: it is usually here already, and reading
    // it now saves a turn of the event loop.
    if (!OnConnectionReadable(raw)) return false;
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
        if (c->host_child > 0) {
          ::kill(c->host_child, SIGKILL);
        } else if (c->state == Connection::State::kRunning) {
          QueueToSpawner(c->call_id, kernel::EncodeSpawnSignal(c->call_id, SIGKILL), nullptr, 0);
        }
        return true;
      }
      if (c->state == Connection::State::kAwaitApproval) {
        waiting_.erase(c->call_id);
        return Conclude(c, false, "the caller went away while the call waited for approval",
                        "abandoned");
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
        // HandleCall may refuse and close the connection, freeing `c`: look it up by the fd
        // taken before, never through `c`.
        const int fd = c->fd;
        if (!HandleCall(c, *call)) return false;
        auto it = connections_.find(fd);
        if (it == connections_.end() || it->second.get() != c) return true;  // refused, closed
      } else if (const auto* report = std::get_if<protocol::HookReport>(&decoded.message)) {
        if (c->state != Connection::State::kAwaitCall) continue;  // a call's connection
        return HandleHookReport(c, *report);  // answers and closes the connection
      } else if (const auto* signal = std::get_if<protocol::Signal>(&decoded.message);
                 signal != nullptr && c->state != Connection::State::kAwaitCall) {
        if (c->host_child > 0) {
          ::kill(c->host_child, signal->signo);
        } else if (c->state == Connection::State::kRunning) {
          QueueToSpawner(c->call_id, kernel::EncodeSpawnSignal(c->call_id, signal->signo), nullptr,
                         0);
        }
      } else if (c->state == Connection::State::kAwaitCall) {
        return Refuse(c, "protocol", "expected a call, got another message",
                      "tollgate: refused: expected a call");
      }
    }
  }
  return true;
}

// The report is the hook's own account of a decision it made in the sandbox: recorded as such
// (`reported_by`), with the process the kernel names as the socket's peer, and acknowledged only
// once the record is written, as a call's decision is.
bool ToolBroker::HandleHookReport(Connection* c, const protocol::HookReport& report) {
  if (!c->in_sandbox) {
    Send(c, protocol::Encode(protocol::HookAck{false, "the caller (host pid " +
                                                          std::to_string(c->host_pid) +
                                                          ") is not a process of this sandbox"}));
    Close(c);
    return true;
  }
  audit::Event event = HookDecisionEvent(report);
  event.process = c->process;
  for (const auto& [key, value] : c->process_details.items()) event.details[key] = value;
  event.details["reported_by"] = "sandbox";
  if (!options_.audit->Append(event)) {
    audit_failed_ = true;
    Send(c, protocol::Encode(protocol::HookAck{false, "the audit log could not be written"}));
    Close(c);
    return false;
  }
  Send(c, protocol::Encode(protocol::HookAck{true, ""}));
  Close(c);
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

  c->tool_index = index;
  c->decision = std::move(decision);
  c->exe = call.exe;
  c->cwd = request.cwd;
  c->env = call.env;
  c->pgid = call.pgid;
  c->call_id = next_call_++;

  const policy::ToolDecision& decided = c->decision;
  if (decided.verdict == policy::ToolVerdict::kAllow) return Conclude(c, true, decided.reason, "");
  if (decided.verdict == policy::ToolVerdict::kDeny) return Conclude(c, false, decided.reason, "");
  // ask
  if (approved_for_run_.count({tool.name, decided.rule}) > 0)
    return Conclude(c, true, decided.reason, "approved for the run");
  if (options_.ask_is_deny) {
    return Conclude(c, false,
                    "needs approval, and no one can approve in this run: " + decided.reason,
                    "not possible");
  }
  c->state = Connection::State::kAwaitApproval;
  c->asked_unix_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  c->deadline_ns = NowNs() + options_.approval_timeout.count();
  waiting_[c->call_id] = c;
  ArmTimer();
  if (options_.notify) {
    std::string command;
    for (const std::string& token : decided.argv) command += (command.empty() ? "" : " ") + token;
    options_.notify(
        "tollgate: approval needed for call " + std::to_string(c->call_id) + ": " + command +
        " (rule " + decided.rule + ": " + decided.reason +
        "). Answer with `tollgate approvals approve " + std::to_string(c->call_id) +
        "` (or deny) within " +
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(options_.approval_timeout).count()) +
        " s.");
  }
  return true;
}

bool ToolBroker::Conclude(Connection* c, bool allowed, const std::string& reason_in,
                          const std::string& approval) {
  const policy::ToolDecision& decision = c->decision;
  std::string reason = reason_in;
  // A call for the host is checked once more, just before it would run, and what runs there is
  // prepared from the profile and the repository resolved at launch (PrepareHostInvocation).
  std::string host_problem;
  if (allowed && decision.run_on_host) {
    policy::HostInvocation invocation = policy::PrepareHostInvocation(
        options_.tools->at(c->tool), decision,
        [](const std::string& name) -> std::optional<std::string> {
          const char* value = std::getenv(name.c_str());
          return value ? std::optional<std::string>(value) : std::nullopt;
        });
    host_problem = invocation.error;
    if (host_problem.empty()) host_problem = HostRepositoryChanged(c->tool);
    if (host_problem.empty()) {
      c->host_argv = std::move(invocation.argv);
      c->host_env = std::move(invocation.env);
    } else {
      allowed = false;
      reason = "refused on the host: " + host_problem;
    }
  }
  audit::Event event;
  event.kind = std::string(audit::kKindToolCall);
  event.verdict = allowed ? audit::Verdict::kAllow : audit::Verdict::kDeny;
  event.rule = host_problem.empty() ? c->tool + ":" + decision.rule : std::string("broker");
  event.reason = reason;
  event.process = c->process;
  event.details = c->process_details;
  event.details["tool"] = c->tool;
  event.details["call"] = c->call_id;
  event.details["path"] = event.strings.String(c->exe, "details.path");
  event.details["argv"] = event.strings.StringArray(decision.argv, "details.argv");
  event.details["cwd"] = event.strings.String(c->cwd, "details.cwd");
  if (!decision.subcommand.empty())
    event.details["subcommand"] = event.strings.String(decision.subcommand, "details.subcommand");
  event.details["decision"] = policy::ToolVerdictName(decision.verdict);
  if (!approval.empty()) event.details["approval"] = approval;
  event.details["run"] = decision.run_on_host ? "host" : "sandbox";
  if (!c->host_argv.empty()) {
    event.details["host_argv"] = event.strings.StringArray(c->host_argv, "details.host_argv");
    const policy::HostRepository& repo = options_.tools->at(c->tool).host_repository;
    if (!repo.git_dir.empty()) {
      event.details["git_dir"] = event.strings.String(repo.git_dir, "details.git_dir");
      event.details["git_common_dir"] =
          event.strings.String(repo.common_dir, "details.git_common_dir");
    }
  }
  if (!options_.audit->Append(event)) {
    audit_failed_ = true;
    Send(c, protocol::Encode(
                protocol::Decision{protocol::Verdict::kDeny, 126,
                                   "tollgate: refused: the audit log could not be written"}));
    Close(c);
    return false;
  }
  if (!allowed) {
    std::string message = "tollgate: " + c->tool;
    if (!decision.subcommand.empty()) message += " " + decision.subcommand;
    if (host_problem.empty()) {
      message +=
          " denied by rule " + decision.rule + " of profile " + options_.profile + ": " + reason;
    } else {
      message += " (rule " + decision.rule + " of profile " + options_.profile +
                 ") was not run on the host: " + host_problem;
    }
    Send(c, protocol::Encode(protocol::Decision{protocol::Verdict::kDeny, 126, message}));
    Close(c);
    return true;
  }
  if (decision.run_on_host) return StartOnHost(c);
  if (spawner_gone_) {
    return Refuse(c, "broker", "the sandbox's tool spawner is gone",
                  "tollgate: refused: the tool spawner of this sandbox is gone");
  }
  kernel::SpawnRequest spawn;
  spawn.call_id = c->call_id;
  spawn.tool_index = static_cast<std::uint32_t>(c->tool_index);
  spawn.pgid = c->pgid;
  spawn.argv = decision.argv;
  spawn.env = c->env;
  // The fds now belong to the queue, which closes them once they are sent.
  QueueToSpawner(c->call_id, kernel::EncodeSpawnRequest(spawn), c->fds, kernel::kSpawnFdCount);
  for (int& fd : c->fds) fd = -1;
  c->fd_count = 0;
  // The spawner reports only a start that failed (then the shim gets a refusal instead of the
  // exit status, which it has not seen yet): the allow goes out now.
  c->state = Connection::State::kRunning;
  c->started_ns = NowNs();
  by_call_[spawn.call_id] = c;
  Send(c, protocol::Encode(protocol::Decision{protocol::Verdict::kAllow, 0, ""}));
  return true;
}

std::vector<PendingApproval> ToolBroker::Pending() const {
  std::vector<PendingApproval> out;
  for (const auto& [id, c] : waiting_) {
    PendingApproval item;
    item.id = id;
    item.tool = c->tool;
    item.argv = c->decision.argv;
    item.cwd = c->cwd;
    item.rule = c->decision.rule;
    item.why = c->decision.reason;
    item.asked_unix_ns = c->asked_unix_ns;
    item.deadline_unix_ns = c->asked_unix_ns + options_.approval_timeout.count();
    out.push_back(std::move(item));
  }
  return out;
}

std::string ToolBroker::Answer(std::uint64_t id, ApprovalAnswer answer) {
  auto it = waiting_.find(id);
  if (it == waiting_.end()) return "no call " + std::to_string(id) + " waits for approval";
  Connection* c = it->second;
  waiting_.erase(it);
  ArmTimer();
  switch (answer) {
    case ApprovalAnswer::kOnce:
      if (!Conclude(c, true, c->decision.reason, "approved once")) audit_failed_ = true;
      break;
    case ApprovalAnswer::kForRun:
      approved_for_run_.insert({c->tool, c->decision.rule});
      if (!Conclude(c, true, c->decision.reason, "approved for the run")) audit_failed_ = true;
      break;
    case ApprovalAnswer::kDeny:
      if (!Conclude(c, false, "a person denied it: " + c->decision.reason, "denied"))
        audit_failed_ = true;
      break;
  }
  return "";
}

bool ToolBroker::OnTimer() {
  std::uint64_t expirations;
  (void)!::read(timer_fd_, &expirations, sizeof expirations);
  const std::int64_t now = NowNs();
  std::vector<Connection*> expired;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second->deadline_ns <= now) {
      expired.push_back(it->second);
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  bool ok = true;
  for (Connection* c : expired) {
    std::string seconds = std::to_string(
        std::chrono::duration_cast<std::chrono::seconds>(options_.approval_timeout).count());
    ok = Conclude(c, false, "no approval within " + seconds + " s: " + c->decision.reason,
                  "timed out") &&
         ok;
  }
  // A caller that connected and did not send a whole call in time holds a slot for nothing.
  std::vector<Connection*> slow;
  for (auto& [fd, c] : connections_) {
    if (c->state == Connection::State::kAwaitCall && c->call_deadline_ns <= now)
      slow.push_back(c.get());
  }
  for (Connection* c : slow) {
    ok = Refuse(c, "protocol",
                "no complete call within " + std::to_string(kCallTimeoutSeconds) + " s (" +
                    std::to_string(c->pending.size()) + " bytes received)",
                "tollgate: refused: the call did not arrive in time") &&
         ok;
  }
  ArmTimer();
  return ok;
}

void ToolBroker::ArmTimer() {
  if (timer_fd_ < 0) return;
  std::int64_t earliest = 0;
  for (const auto& [id, c] : waiting_) {
    if (earliest == 0 || c->deadline_ns < earliest) earliest = c->deadline_ns;
  }
  for (const auto& [fd, c] : connections_) {
    if (c->state == Connection::State::kAwaitCall &&
        (earliest == 0 || c->call_deadline_ns < earliest)) {
      earliest = c->call_deadline_ns;
    }
  }
  armed_ns_ = earliest;
  struct itimerspec spec {};
  if (earliest != 0) {
    std::int64_t delay = std::max<std::int64_t>(earliest - NowNs(), 1);
    spec.it_value.tv_sec = delay / 1000000000;
    spec.it_value.tv_nsec = delay % 1000000000;
  }
  ::timerfd_settime(timer_fd_, 0, &spec, nullptr);
}

void ToolBroker::QueueToSpawner(std::uint64_t call_id, std::string frame, const int* fds,
                                int fd_count) {
  OutgoingFrame outgoing;
  outgoing.call_id = call_id;
  outgoing.bytes = std::move(frame);
  outgoing.fds.assign(fds, fds + fd_count);
  to_spawner_.push_back(std::move(outgoing));
  FlushToSpawner();
}

void ToolBroker::FlushToSpawner() {
  while (!to_spawner_.empty() && !spawner_gone_) {
    OutgoingFrame& frame = to_spawner_.front();
    const bool first = frame.sent == 0;
    std::size_t size = frame.bytes.size() - frame.sent;
    iovec iov{frame.bytes.data() + frame.sent, size};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kernel::kSpawnFdCount)] = {};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    if (first && !frame.fds.empty()) {
      message.msg_control = control;
      message.msg_controllen = CMSG_SPACE(sizeof(int) * frame.fds.size());
      cmsghdr* header = CMSG_FIRSTHDR(&message);
      header->cmsg_level = SOL_SOCKET;
      header->cmsg_type = SCM_RIGHTS;
      header->cmsg_len = CMSG_LEN(sizeof(int) * frame.fds.size());
      std::memcpy(CMSG_DATA(header), frame.fds.data(), sizeof(int) * frame.fds.size());
    }
    ssize_t n = ::sendmsg(spawner_channel_, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && first && errno != EPIPE && errno != ECONNRESET && errno != ENOTCONN) {
      // This frame cannot go (ETOOMANYREFS: the user has too many fds in flight; ENOBUFS):
      // its call fails, the others go on. Nothing was sent of it, so the stream stays whole.
      const int error = errno;
      const std::uint64_t call_id = frame.call_id;
      const bool spawn = !frame.fds.empty();
      for (int fd : frame.fds) ::close(fd);
      to_spawner_.pop_front();
      if (auto it = by_call_.find(call_id); it != by_call_.end() && spawn)
        (void)FailStart(it->second, error);
      continue;
    }
    if (n <= 0) {  // the spawner is gone
      spawner_gone_ = true;
      break;
    }
    if (first) {
      for (int fd : frame.fds) ::close(fd);
      frame.fds.clear();
    }
    frame.sent += static_cast<std::size_t>(n);
    if (frame.sent == frame.bytes.size()) to_spawner_.pop_front();
  }
  if (spawner_gone_) {
    for (OutgoingFrame& frame : to_spawner_) {
      for (int fd : frame.fds) ::close(fd);
    }
    to_spawner_.clear();
    ReleaseCallsOfGoneSpawner();
  }
  const bool want_output = !to_spawner_.empty();
  if (want_output != watching_spawner_output_) {
    struct epoll_event event {};
    event.events = EPOLLIN | (want_output ? EPOLLOUT : 0u);
    event.data.fd = spawner_channel_;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, spawner_channel_, &event);
    watching_spawner_output_ = want_output;
  }
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
      if (event.value > 0) continue;  // (not sent any more: a start that worked is silent)
      if (!FailStart(c, -event.value)) return false;
      continue;
    }
    // kExited
    by_call_.erase(it);
    if (!FinishCall(c, event.value)) return false;
  }
  if (spawner_gone_) ReleaseCallsOfGoneSpawner();
  return true;
}

void ToolBroker::ReleaseCallsOfGoneSpawner() {
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

bool ToolBroker::FailStart(Connection* c, int error) {
  by_call_.erase(c->call_id);
  audit::Event record;
  record.kind = std::string(audit::kKindToolExit);
  record.verdict = audit::Verdict::kInfo;
  record.reason = std::string("the tool could not be started: ") + std::strerror(error);
  record.details["tool"] = c->tool;
  record.details["call"] = c->call_id;
  record.details["error"] = std::strerror(error);
  bool ok = options_.audit->Append(record);
  Send(c, protocol::Encode(protocol::Decision{
              protocol::Verdict::kDeny, 126,
              "tollgate: " + c->tool + " could not be started: " + std::strerror(error)}));
  Close(c);
  if (!ok) audit_failed_ = true;
  return ok;
}

bool ToolBroker::FinishCall(Connection* c, int status) {
  audit::Event record;
  record.kind = std::string(audit::kKindToolExit);
  record.verdict = audit::Verdict::kInfo;
  record.process = c->process;
  record.details["tool"] = c->tool;
  record.details["call"] = c->call_id;
  record.details["run"] = c->host_child > 0 ? "host" : "sandbox";
  record.details["duration_ns"] = NowNs() - c->started_ns;
  if (WIFEXITED(status)) {
    record.details["exit"] = WEXITSTATUS(status);
    record.reason = "exited with status " + std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(status));
    record.details["signal"] = name ? std::string("SIG") + name : std::to_string(WTERMSIG(status));
    record.reason = "ended by signal " + record.details["signal"].get<std::string>();
  }
  if (c->shim_gone) record.details["shim_gone"] = true;
  bool ok = options_.audit->Append(record);
  if (!c->shim_gone) Send(c, protocol::Encode(protocol::Exit{status}));
  Close(c);
  return ok;
}

// The credential broker: the approved argv, exactly as decided, runs outside the sandbox with
// the profile's environment and working directory and the shim's stdio. The rule matched the
// argv in full (the loader refuses anything looser for `run: host`).
bool ToolBroker::StartOnHost(Connection* c) {
  const policy::ToolSpec& tool = options_.tools->at(c->tool);
  std::string cwd = options_.mounts != nullptr
                        ? kernel::HostPathForSandboxPath(*options_.mounts, tool.host_cwd)
                        : std::string();
  if (cwd.empty()) {
    return Refuse(
        c, "broker", "the host directory for " + tool.host_cwd + " is not known",
        "tollgate: refused: " + c->tool + " cannot run on the host from " + tool.host_cwd);
  }
  const std::string& program = options_.paths[c->tool_index].path;
  // Prepared in Conclude: the profile's environment (never the agent's), and for git the pinned
  // repository and hooks switched off.
  std::vector<std::string> argv = c->host_argv;
  std::vector<std::string> env = c->host_env;
  if (argv.empty()) {
    return Refuse(c, "broker", "the call for the host was not prepared",
                  "tollgate: refused: " + c->tool + " cannot run on the host");
  }
  std::vector<char*> argv_pointers, env_pointers;
  for (std::string& item : argv) argv_pointers.push_back(item.data());
  argv_pointers.push_back(nullptr);
  for (std::string& item : env) env_pointers.push_back(item.data());
  env_pointers.push_back(nullptr);
  const bool drop = ::geteuid() == 0;
  const uid_t uid = options_.host_uid;
  const gid_t gid = options_.host_gid;
  int fds[3] = {c->fds[0], c->fds[1], c->fds[2]};

  // The supervisor may have a thread (the audit log's batch sync): the child only makes
  // async-signal-safe calls before execve, on data prepared above.
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int i = 0; i < 3; ++i) {
      if (::dup2(fds[i], i) < 0) ::_exit(127);
    }
    if (::chdir(cwd.c_str()) != 0) ::_exit(127);
    if (drop && (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
                 ::setresuid(uid, uid, uid) != 0)) {
      ::_exit(127);
    }
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    ::execve(program.c_str(), argv_pointers.data(), env_pointers.data());
    ::_exit(127);
  }
  c->CloseFds();
  if (pid < 0) {
    return Refuse(c, "broker", std::string("fork for the host: ") + std::strerror(errno),
                  "tollgate: refused: " + c->tool + " could not be started on the host");
  }
  c->host_child = pid;
  c->host_pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  c->state = Connection::State::kRunning;
  c->started_ns = NowNs();
  if (c->host_pidfd >= 0) {
    host_calls_[c->host_pidfd] = c;
    struct epoll_event event {};
    event.events = EPOLLIN;
    event.data.fd = c->host_pidfd;
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c->host_pidfd, &event);
  }
  Send(c, protocol::Encode(protocol::Decision{protocol::Verdict::kAllow, 0, ""}));
  return true;
}

// The objects git borrows from other directories (objects/info/alternates, http-alternates) are
// listed in files the agent can write: one that differs from launch would let the host's git
// read, and push, objects from anywhere the user can read on the host. This check races with
// the sandbox (docs/TOOLS.md, Limits); it catches the file as planted, not one swapped in after.
std::string ToolBroker::HostRepositoryChanged(const std::string& tool_name) const {
  const policy::ToolSpec& tool = options_.tools->at(tool_name);
  if (!policy::IsGitTool(tool)) return {};
  const policy::HostRepository& repo = tool.host_repository;
  for (const auto& [file, at_launch] :
       {std::pair<std::string, const std::string*>{"alternates", &repo.alternates},
        std::pair<std::string, const std::string*>{"http-alternates", &repo.http_alternates}}) {
    std::string path = repo.common_dir + "/objects/info/" + file;
    struct stat st {};
    std::string now;
    if (::lstat(path.c_str(), &st) == 0) {
      int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
      char buffer[64 * 1024];
      ssize_t n = fd >= 0 && S_ISREG(st.st_mode) ? ::read(fd, buffer, sizeof buffer) : -1;
      if (fd >= 0 && n == static_cast<ssize_t>(sizeof buffer)) n = -1;  // too long to be ours
      if (fd >= 0) ::close(fd);
      // A directory lists nothing (git warns and reads on); a symlink or anything unreadable
      // counts as changed.
      if (S_ISDIR(st.st_mode)) n = 0;
      now = n >= 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string("\n?");
    }
    if (now != *at_launch) {
      return path +
             " changed since the run started: git would read objects from the directories "
             "it lists, anywhere on the host; restore it (or remove it) and push again";
    }
  }
  return {};
}

bool ToolBroker::OnHostExit(int pidfd) {
  auto it = host_calls_.find(pidfd);
  Connection* c = it->second;
  host_calls_.erase(it);
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, pidfd, nullptr);
  int status = 0;
  while (::waitpid(c->host_child, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(pidfd);
  c->host_pidfd = -1;
  return FinishCall(c, status);
}

bool ToolBroker::Refuse(Connection* c, const std::string& rule, const std::string& reason,
                        const std::string& message) {
  audit::Event event;
  event.kind = std::string(audit::kKindToolCall);
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
  if (c->host_pidfd >= 0) {
    // A host call still running when its connection ends (the run ends): it ends too.
    host_calls_.erase(c->host_pidfd);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->host_pidfd, nullptr);
    ::kill(c->host_child, SIGKILL);
    while (::waitpid(c->host_child, nullptr, 0) < 0 && errno == EINTR) {
    }
    ::close(c->host_pidfd);
    c->host_pidfd = -1;
  }
  if (c->call_id != 0) {
    by_call_.erase(c->call_id);
    waiting_.erase(c->call_id);
  }
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
  int fd = c->fd;
  ::close(fd);
  connections_.erase(fd);  // destroys *c
}

}  // namespace tollgate
