// The broker: the supervisor's side of tool mediation.
//
// Shims connect to the listening socket the sandbox's init made at /run/tollgate/broker.sock
// (tool_spawner.h). For each connection the broker
//   1. identifies the caller by SO_PEERCRED and refuses one outside this sandbox's pid namespace;
//   2. decodes one Call (shims/protocol.h); malformed, oversized or truncated input is refused
//      and recorded, and never stops the broker;
//   3. finds the tool by the path the shim runs at, takes the working directory from the fd the
//      shim passed (not from what it says), and decides with policy::DecideToolCall;
//   4. writes a `tool.call` record — before anything runs (no record, no action);
//   5. refuses with one line the agent can read (exit 126), or asks the sandbox's tool spawner to
//      start the real program with the decided argv and the shim's stdio, forwards the shim's
//      signals, and at the end writes `tool.exit` and tells the shim how the tool ended.
// A connection may instead bring one HookReport, an agent hook's decision made in the sandbox
// (docs/HOOKS.md): it is recorded as `hook.decision`, marked as the sandbox's report, with the
// caller from SO_PEERCRED, and a HookAck says whether it was written.
// Everything runs on the launcher's event loop; no call blocks it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "policy/plans.h"
#include "supervisor/approvals.h"
#include "supervisor/audit/writer.h"
#include "supervisor/kernel/tool_spawner.h"
#include "supervisor/tool_paths.h"

namespace tollgate {

namespace shim_protocol {
struct Call;
struct HookReport;
}  // namespace shim_protocol

struct BrokerOptions {
  const std::map<std::string, policy::ToolSpec>* tools = nullptr;  // the plan's, expanded
  std::vector<MediatedPath> paths;  // in kShim op order: index = the spawner's tool index
  std::string profile;              // named in refusals
  audit::AuditWriter* audit = nullptr;
  // The sandbox's pid namespace (device and inode of /proc/PID/ns/pid of its init): a caller
  // must be in it.
  dev_t pid_ns_dev = 0;
  ino_t pid_ns_ino = 0;
  // `ask` cannot be answered by a person in this run (--ci, or no approver): it is a deny.
  // Otherwise the call waits for `tollgate approvals` (approvals.h) until the timeout denies it.
  bool ask_is_deny = true;
  std::string run;  // names the approvals socket
  // Calls run on the host (`run: host`): the view's binds map the tool's host_cwd to the host,
  // and when the supervisor is root the call runs as the sandbox's uid/gid, never as root.
  const policy::MountPlan* mounts = nullptr;
  uid_t host_uid = 0;
  gid_t host_gid = 0;
  std::chrono::nanoseconds approval_timeout = std::chrono::minutes(2);
  // Where a person is told that a call waits (the supervisor's stderr).
  std::function<void(const std::string&)> notify;
};

class ToolBroker {
 public:
  ToolBroker(BrokerOptions options, int epoll_fd, int spawner_channel);
  ~ToolBroker();
  ToolBroker(const ToolBroker&) = delete;
  ToolBroker& operator=(const ToolBroker&) = delete;

  // The listening socket, once the init has sent it.
  void SetListener(int listener);

  // Whether `fd` is one of the broker's (the listener, a connection, the spawner channel).
  bool Owns(int fd) const;
  // Handles readiness of one of its fds. False when an audit record could not be written: the
  // run must stop (the action was refused).
  bool OnReady(int fd, std::uint32_t events);

  std::uint64_t calls() const { return calls_; }

 private:
  struct Connection;
  bool Accept();
  bool OnConnectionReadable(Connection* connection);
  bool OnSpawnerReadable();
  bool HandleCall(Connection* connection, const shim_protocol::Call& call);
  // An agent hook's decision (docs/HOOKS.md): a `hook.decision` record, then a HookAck; the
  // connection is closed either way. False when the record could not be written.
  bool HandleHookReport(Connection* connection, const shim_protocol::HookReport& report);
  // Records the final verdict, then refuses or starts the tool.
  bool Conclude(Connection* connection, bool allowed, const std::string& reason,
                const std::string& approval);
  std::vector<PendingApproval> Pending() const;
  std::string Answer(std::uint64_t id, ApprovalAnswer answer);
  bool OnTimer();
  void ArmTimer();
  bool StartOnHost(Connection* connection);
  // Why a git call must not run on the host now: the repository's alternates changed since
  // launch. Empty when nothing changed (or the tool is not git).
  std::string HostRepositoryChanged(const std::string& tool) const;
  bool OnHostExit(int pidfd);
  bool FinishCall(Connection* connection, int wait_status);
  // Frames to the spawner wait here while its socket is full (a burst of calls).
  void QueueToSpawner(std::uint64_t call_id, std::string frame, const int* fds, int fd_count);
  void ReleaseCallsOfGoneSpawner();
  // An allowed call whose tool could not be started: tool.exit with the error, and a refusal.
  bool FailStart(Connection* connection, int error);
  void FlushToSpawner();
  bool Refuse(Connection* connection, const std::string& rule, const std::string& reason,
              const std::string& message);
  void Close(Connection* connection);
  void Send(Connection* connection, const std::string& frame);

  BrokerOptions options_;
  int epoll_fd_;
  int spawner_channel_;
  int listener_ = -1;
  kernel::SpawnerEventReader spawner_events_;
  bool spawner_gone_ = false;
  std::map<int, std::unique_ptr<Connection>> connections_;  // by fd
  std::map<std::uint64_t, Connection*> by_call_;            // calls spawned or running
  std::uint64_t next_call_ = 1;
  std::uint64_t calls_ = 0;
  std::unique_ptr<ApprovalServer> approvals_;
  int timer_fd_ = -1;
  std::int64_t armed_ns_ = 0;  // the deadline the timer is set for (steady clock), 0: idle
  std::map<std::uint64_t, Connection*> waiting_;  // asks by call id
  std::map<int, Connection*> host_calls_;         // by pidfd
  struct OutgoingFrame {
    std::uint64_t call_id = 0;
    std::string bytes;
    std::vector<int> fds;  // sent with the first byte, then closed here
    std::size_t sent = 0;
  };
  std::deque<OutgoingFrame> to_spawner_;
  bool watching_spawner_output_ = false;
  std::set<std::pair<std::string, std::string>> approved_for_run_;  // (tool, rule)
  bool audit_failed_ = false;
};

}  // namespace tollgate
