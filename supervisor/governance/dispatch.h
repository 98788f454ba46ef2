// `tollgate run --task`: a task dispatched through the ledger (docs/GOVERNANCE.md).
//
// Before the run: the task is identified (text or task file: classified and keyed; or the key
// of a task in the ledger), the ledger is read under the dispatch lock, and the phase gate
// decides: run the phase (attempt N), recognise a phase or task already done (print what was
// recorded, run nothing), or refuse (another attempt running, a phase out of order, an earlier
// phase without its evidence). After the run: evidence collected outside the sandbox, judged
// against the phase's requirements, the task's diff checked against its class's escalation
// thresholds, and the outcome recorded.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policy/classifier.h"
#include "policy/profile.h"
#include "policy/task_ledger.h"
#include "supervisor/audit/writer.h"
#include "supervisor/governance/git_evidence.h"
#include "supervisor/governance/task_identity.h"
#include "supervisor/governance/task_log.h"
#include "supervisor/run_result.h"

namespace tollgate::governance {

// Exit statuses of a task run besides the command's own (README, "Exit codes").
inline constexpr int kExitTaskRefused = 120;     // the phase gate refused the dispatch
inline constexpr int kExitTaskUnverified = 121;  // exit 0, but the phase is not complete

struct DispatchRequest {
  std::string task;       // text, or the key (or a prefix) of a task in the ledger
  std::string task_file;  // or a task file
  std::string phase;      // empty: the task file's, else the next one
  bool again = false;
  std::string classes_file;  // empty: classes.json on the profile search path
  std::string workspace;     // absolute, canonical
  std::string audit_dir;
  uid_t uid = 0;  // the sandbox's host ids: git runs as them
  gid_t gid = 0;
};

// A dispatch the gate let through, ready to run; holds the dispatch lock until Recorded().
class Dispatch {
 public:
  // Identifies the task and asks the gate. Null when nothing is to run: `exit_code` is 0 for a
  // recognised task (what was recorded is printed on stdout), kExitTaskRefused for a refusal
  // (recorded as task.phase, the reason on stderr), 125 for a task that cannot be dispatched
  // (the reason on stderr).
  static std::unique_ptr<Dispatch> Prepare(const DispatchRequest& request, int* exit_code);

  const std::string& key() const { return key_; }
  const std::string& phase() const { return decision_.phase; }
  int attempt() const { return decision_.attempt; }
  const std::string& class_name() const { return class_->name; }
  // The profile the phase runs under, and the class's quota tier and scope.
  const std::string& profile() const { return profile_; }
  const policy::QuotaTier* tier() const { return tier_; }
  const std::vector<std::string>& scope() const { return scope_; }
  std::vector<std::string> required_evidence() const;

  // Caps the profile's limits at the class's quota tier.
  void ApplyTier(policy::LimitsSpec* limits) const;
  // Creates .tollgate/plan in the workspace for a plan phase (owned by the sandbox's user).
  bool PreparePlanDirectory(std::string* error) const;

  // Appends task.phase (allow) and task.dispatched, then releases the dispatch lock. False
  // when the log could not be written (the run must not start).
  bool Record(audit::AuditWriter* log, const std::vector<std::string>& command);

  // After the run: collects and judges the evidence, checks escalation, records task.evidence,
  // task.escalated and the outcome, prints a summary on stderr, and returns the exit status
  // (the command's own when it failed; kExitTaskUnverified when it exited 0 but the phase is
  // not complete; 0 when complete).
  int Finish(audit::AuditWriter* log, const RunResult& result, const policy::Profile& profile,
             std::int64_t started_ns);

 private:
  Dispatch() = default;

  DispatchRequest request_;
  std::optional<LoadedClasses> classes_;
  const policy::TaskClass* class_ = nullptr;
  const policy::QuotaTier* tier_ = nullptr;
  std::unique_ptr<DispatchLock> lock_;
  policy::TaskLedger ledger_;
  const policy::TaskState* existing_ = nullptr;  // in ledger_, or null for a new task
  policy::GateDecision decision_;
  std::string key_, title_, text_, base_, profile_, first_class_;
  std::vector<std::string> scope_;
  std::unique_ptr<GitEvidence> git_;
  GitSnapshot before_;
  std::string task_base_;  // the commit the task's diff is measured from
};

// The task's phases, attempts and evidence in words (tollgate task show, and a recognised
// dispatch).
void PrintTask(const policy::TaskState& task, const policy::Classes& classes, std::ostream& out);

}  // namespace tollgate::governance
