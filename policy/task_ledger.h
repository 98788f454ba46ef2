// The task ledger: task state derived from the task.* records of the audit log, and the phase
// gate that decides whether a dispatch runs (docs/GOVERNANCE.md, "The ledger").
//
// Nothing here is stored: a task's state is a fold of its records, in log order, and any index
// is a cache of the same records. Pure: the caller reads the log and says which supervisors are
// still alive (an attempt whose supervisor died without a record was interrupted).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/classifier.h"
#include "policy/task_evidence.h"

namespace tollgate::policy {

inline constexpr std::string_view kKindTaskPhase = "task.phase";  // a gate's decision
inline constexpr std::string_view kKindTaskDispatched = "task.dispatched";
inline constexpr std::string_view kKindTaskEvidence = "task.evidence";
inline constexpr std::string_view kKindTaskEscalated = "task.escalated";
inline constexpr std::string_view kKindTaskCompleted = "task.completed";
inline constexpr std::string_view kKindTaskFailed = "task.failed";
inline constexpr std::string_view kKindTaskUnverified = "task.unverified";

bool IsTaskKind(std::string_view kind);

// One task.* record as the ledger reads it.
struct TaskEvent {
  std::uint64_t seq = 0;
  std::string time;
  std::string run;
  std::string task;  // the task key
  std::string kind;
  std::string verdict;  // allow, deny, info
  std::string rule;
  std::string reason;
  nlohmann::json details = nlohmann::json::object();
};

// The supervisor that ran an attempt, to tell a live attempt from one whose supervisor died.
struct Supervisor {
  long pid = 0;
  std::string start;  // the process's start time in clock ticks since boot (/proc/PID/stat)
  std::string boot;   // the boot id
};

struct TaskAttempt {
  std::string phase;
  int number = 0;  // per phase, from 1
  std::string run;
  std::string class_name;
  std::string profile;
  std::string started, ended;
  std::uint64_t started_seq = 0, ended_seq = 0;
  Outcome outcome = Outcome::kRunning;
  nlohmann::json evidence;           // the task.evidence details; null until collected
  std::vector<std::string> missing;  // what the evidence lacked
  std::vector<std::string> command;
  Supervisor supervisor;
};

struct TaskEscalationEvent {
  std::uint64_t seq = 0;
  std::string time;
  std::string phase;  // the phase at whose exit it happened
  std::string from, to;
  std::vector<std::string> over;
};

struct GateRefusal {
  std::uint64_t seq = 0;
  std::string time;
  std::string phase;
  std::string rule;
  std::string reason;
};

struct TaskState {
  std::string key;
  std::string title;
  std::string text;
  std::vector<std::string> scope;
  std::string base;
  std::string initial_class;
  std::string current_class;  // after escalations
  std::string created;
  std::vector<TaskAttempt> attempts;  // in log order
  std::vector<TaskEscalationEvent> escalations;
  std::vector<GateRefusal> refusals;
  std::vector<std::uint64_t> seqs;  // every task.* record of the task

  const TaskAttempt* LastAttempt(std::string_view phase) const;
};

class TaskLedger {
 public:
  // Applies one record (records of other kinds are ignored). A task.* record the ledger cannot
  // use (a missing detail, an attempt it never saw start) is listed in problems().
  void Apply(const TaskEvent& event);

  const std::map<std::string, TaskState>& tasks() const { return tasks_; }
  // A task by its key or a unique prefix of at least 6 hex digits; null with `error` set.
  const TaskState* Find(std::string_view key_or_prefix, std::string* error) const;
  const std::vector<std::string>& problems() const { return problems_; }

 private:
  TaskAttempt* OpenAttempt(TaskState* task, const std::string& run);

  std::map<std::string, TaskState> tasks_;
  std::vector<std::string> problems_;
};

// Whether the supervisor of a running attempt is still alive (the caller asks /proc).
using IsAlive = std::function<bool(const Supervisor&)>;

enum class PhaseStatus { kPending, kDone, kWaived, kRunning, kFailed, kUnverified, kInterrupted };
const char* PhaseStatusName(PhaseStatus status);

struct PhaseProgress {
  std::string phase;
  PhaseStatus status = PhaseStatus::kPending;
  const TaskAttempt* last = nullptr;  // its last attempt, if any
  std::string note;                   // why it is waived, or what its last attempt lacked
};

struct TaskProgress {
  std::string task_class;             // the current class
  std::vector<PhaseProgress> phases;  // along the current class's path
  std::string next_phase;             // empty when every phase is done
  // new, running, in progress (a phase done, more to go), failed, unverified, interrupted,
  // completed.
  std::string state;
};

// Where a task stands. A phase is done when its last attempt completed after the phase before
// it last completed (re-running an earlier phase re-opens the later ones). After an escalation
// at phase P, the new class's phases before P that never ran are waived: the work they would
// have prepared is done; the phases after P are required.
TaskProgress Progress(const TaskState& task, const Classes& classes, const IsAlive& is_alive);

enum class GateVerdict { kRun, kRecognised, kRefused };

struct GateDecision {
  GateVerdict verdict = GateVerdict::kRefused;
  std::string phase;  // the phase that runs, is recognised, or was asked for
  int attempt = 0;    // when it runs: its attempt number
  std::string rule;   // refused: running, phase-path, phase-order, entry-evidence
  std::string reason;
  std::vector<std::string> missing;  // refused: what the earlier phases lack
};

// Decides a dispatch of `task` (null: never dispatched, of class `new_class`) for `phase`
// (empty: the next phase). A running attempt refuses any dispatch; a phase already done is
// recognised and not run again unless `again`; a phase whose earlier phases are not done is
// refused, with what they lack.
GateDecision DecideGate(const TaskState* task, const std::string& new_class, const Classes& classes,
                        const std::string& phase, bool again, const IsAlive& is_alive);

}  // namespace tollgate::policy
