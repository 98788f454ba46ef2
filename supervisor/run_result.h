// The outcome of a run as a value: callers and tests assert on it, never on log text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/plans.h"

namespace tollgate {

enum class RunStatus {
  kExited,         // the command ran and exited (any exit code)
  kSignaled,       // the command was ended by a signal
  kTimeout,        // the wall-clock limit ended the run
  kSetupError,     // the sandbox could not be built; the command never ran
  kInternalError,  // the supervisor itself failed after launch
  kAuditFailed,    // the audit log could not be written: the sandbox was stopped (no record,
                   // no action)
};

const char* RunStatusName(RunStatus status);  // "exited", "signaled", …

// The exit status of a run the audit log failed (README, exit codes).
inline constexpr int kExitAuditFailed = 122;

struct ResourceUsage {
  double user_seconds = 0;
  double system_seconds = 0;
  std::uint64_t max_rss_kib = 0;  // largest resident set of any process in the sandbox
  double wall_seconds = 0;
};

// How one limit of the plan is enforced on this machine: "rlimit RLIMIT_NPROC", "tmpfs size",
// "supervisor timer", "cgroup pids.max", or "not enforced: <why>".
struct LimitEnforcement {
  policy::LimitKind kind;
  std::uint64_t value = 0;
  std::string mechanism;
  bool enforced = true;
};

struct RunResult {
  RunStatus status = RunStatus::kInternalError;
  std::string reason;                         // one line a person can act on
  int exit_code = -1;                         // kExited
  int signal = 0;                             // kSignaled
  std::vector<policy::LimitKind> limits_hit;  // limits the run reached, in LimitKind order
  std::vector<LimitEnforcement> enforcement;  // how each planned limit was enforced
  ResourceUsage usage;
  // kSetupError: the failing step, its path and errno.
  std::string failed_step;
  std::string failed_path;
  int failed_errno = 0;
  int landlock_abi = 0;  // the Landlock ABI applied, 0 when none
  // Mount ops that were skipped because their source or target was absent (optional binds,
  // pins and hides of paths that do not exist): "target (from source)".
  std::vector<std::string> skipped_mounts;

  // The exit status tollgate itself exits with (DESIGN.md): the command's status, 124 on the
  // wall-clock limit, 128+N when a signal ended it, 125 when it never ran.
  int ProcessExitCode() const;
  std::string ToString() const;
  nlohmann::json ToJson() const;
};

}  // namespace tollgate
