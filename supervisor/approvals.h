// Approvals: how a person answers a tool call a rule says to `ask` about, from another terminal.
//
// Each run that can wait for approvals listens on <state>/approvals/<run>.sock (the placeholder
// ledger's state directory, which no sandbox sees). `tollgate approvals` connects to every such
// socket: it lists what waits, and approves once, approves for the rest of the run (the same
// tool and rule), or denies. Requests and answers are one JSON object per line.
//
//   {"op": "list"}                                   -> {"run": ..., "pending": [{...}, ...]}
//   {"op": "answer", "id": 7, "answer": "once"|"run"|"deny"} -> {"ok": true} | {"error": "..."}
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tollgate {

struct PendingApproval {
  std::uint64_t id = 0;  // the call's number in its run
  std::string tool;
  std::vector<std::string> argv;
  std::string cwd;
  std::string rule;
  std::string why;
  std::int64_t asked_unix_ns = 0;
  std::int64_t deadline_unix_ns = 0;
};

enum class ApprovalAnswer { kOnce, kForRun, kDeny };

// The directory the sockets live in; empty when no state directory can be found.
std::string ApprovalsDirectory();

class ApprovalServer {
 public:
  using Lister = std::function<std::vector<PendingApproval>()>;
  // Returns an error text, or empty when the answer was taken.
  using Answerer = std::function<std::string(std::uint64_t id, ApprovalAnswer answer)>;

  // Listens on <dir>/<run>.sock (the directory is made 0700). nullptr and *error when it cannot.
  static std::unique_ptr<ApprovalServer> Open(const std::string& dir, const std::string& run,
                                              int epoll_fd, Lister lister, Answerer answerer,
                                              std::string* error);
  ~ApprovalServer();
  ApprovalServer(const ApprovalServer&) = delete;
  ApprovalServer& operator=(const ApprovalServer&) = delete;

  bool Owns(int fd) const;
  void OnReady(int fd);
  const std::string& socket_path() const { return path_; }

 private:
  ApprovalServer() = default;
  std::string Handle(const std::string& line);

  std::string run_;
  std::string path_;
  int listener_ = -1;
  int epoll_fd_ = -1;
  Lister lister_;
  Answerer answerer_;
  std::map<int, std::string> clients_;  // fd -> bytes received so far
};

nlohmann::json PendingToJson(const PendingApproval& pending);

}  // namespace tollgate
