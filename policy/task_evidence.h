// Evidence: what a run left behind, as the supervisor collected it outside the sandbox, and the
// judgement of it against what a class or phase requires (docs/GOVERNANCE.md, "Evidence").
//
// Collection is the supervisor's (it runs git and reads files); this file holds the plain data,
// the arithmetic over a diff, and the rules that turn evidence into completed, failed or
// unverified. Pure: no I/O.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/classifier.h"

namespace tollgate::policy {

// One changed file of a diff, as `git diff --numstat` reports it (binary files count no lines).
struct FileChange {
  std::string path;
  std::uint64_t added = 0;
  std::uint64_t deleted = 0;
  bool binary = false;
};

// Parses `git diff --numstat -z --no-renames` output ("ADDED\tDELETED\tPATH\0", "-\t-\tPATH\0"
// for binary files). False with `error` on anything else.
bool ParseNumstatZ(std::string_view output, std::vector<FileChange>* changes, std::string* error);

struct DiffStats {
  std::uint64_t files = 0;
  std::uint64_t lines_added = 0;
  std::uint64_t lines_deleted = 0;
  // Top-level directories touched. Files at the top of the workspace belong to no module: a
  // README edit next to a change in src/ is one module, not two.
  std::vector<std::string> modules;
  // Directories that did not exist at the base: only the highest new one of each path counts
  // (a new tree a/b/c is one new directory).
  std::vector<std::string> new_directories;
  std::vector<std::string> paths;  // the changed paths, sorted (the first kMaxListedPaths)
  std::uint64_t lines() const { return lines_added + lines_deleted; }
};
inline constexpr std::size_t kMaxListedPaths = 200;

// `base_directories`: every directory of the base revision's tree (workspace-relative).
DiffStats ComputeDiffStats(std::vector<FileChange> changes,
                           const std::set<std::string>& base_directories);

// The escalation thresholds `stats` is over, in words ("files 5 > 3"); empty when none is.
std::vector<std::string> OverThresholds(const Escalation& escalation, const DiffStats& stats);

struct TestReportEvidence {
  std::string file;  // workspace-relative
  std::string sha256;
  std::string format;  // junit, tap, ctest; empty when the file is not a report
  std::uint64_t total = 0, passed = 0, failed = 0, errors = 0, skipped = 0;
  std::vector<std::string> failing;  // names of the first failing tests
  std::string error;                 // why the file is not a report
};

struct FileEvidence {
  std::string path;  // workspace-relative
  std::string sha256;
  std::uint64_t size = 0;
};

struct Evidence {
  // The run: RunResult's status name ("exited", "signaled", "timeout", …), exit code or signal.
  std::string status;
  bool ran = false;
  int exit_code = -1;
  int signal = 0;
  std::uint64_t duration_ms = 0;
  std::uint64_t cpu_user_ms = 0, cpu_system_ms = 0, max_rss_kb = 0;
  // git, read outside the sandbox before and after the run. `git_problem` says why git was not
  // asked (no repository, its configuration changed during the run, …).
  bool git = false;
  std::string git_problem;
  std::string head_before, head_after;
  DiffStats diff;       // what this run changed: HEAD before the run → the working tree after it
  DiffStats task_diff;  // what the task changed so far: its base → the working tree
  std::string task_base;
  // Files the run left, matched by the profile's evidence patterns, written during the run.
  std::vector<std::string> report_patterns;
  std::vector<TestReportEvidence> reports;
  std::vector<std::string> stale_reports;  // matched, but older than the run
  std::vector<std::string> artifact_patterns;
  std::vector<FileEvidence> artifacts;
  std::vector<std::string> unmatched_artifact_patterns;
  std::vector<FileEvidence> plan_files;  // .tollgate/plan/*
  std::vector<std::string> notes;        // skipped symlinks, bounds reached
};

nlohmann::json EvidenceToJson(const Evidence& evidence);
nlohmann::json DiffStatsToJson(const DiffStats& stats);

enum class Outcome { kRunning, kCompleted, kFailed, kUnverified, kInterrupted };
const char* OutcomeName(Outcome outcome);  // running, completed, failed, unverified, interrupted

struct EvidenceJudgement {
  Outcome outcome = Outcome::kCompleted;
  // What is missing or wrong, one line each, starting with the evidence item: "test_results: 2
  // of 14 tests failed (…)".
  std::vector<std::string> missing;
};

// Judges `evidence` against the items a phase requires (KnownEvidenceItems()):
//   exit_status   the command exited 0 — a command that did not is a failure whether or not
//                 the item is required: a phase whose work failed is not complete;
//   git_head      a commit was made (HEAD after ≠ HEAD before);
//   diff          the run changed at least one file (committed or not);
//   test_results  a test report written during the run, with tests and none failing
//                 (failing tests: failed; no report: unverified);
//   artifacts     every artifact pattern of the profile matched a file written during the run;
//   plan          a non-empty plan file in .tollgate/plan.
// Failed when the command or the tests failed, else unverified when anything is missing.
EvidenceJudgement JudgeEvidence(const std::vector<std::string>& required, const Evidence& evidence);

}  // namespace tollgate::policy
