// The records a run writes about itself: run.start before the sandbox exists, run.end and one
// limit.hit per limit reached after it is gone. (execs and denials come from seccomp_observer.)
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "policy/plans.h"
#include "supervisor/audit/record.h"
#include "supervisor/run_result.h"

namespace tollgate {

// A new run id: UTC time and 64 random bits, "20261127T052856Z-9f3a1c2b7d4e6f80". Sorts by start.
std::string NewRunId();

struct RunStartFacts {
  std::vector<std::string> command;
  std::string profile_file;
  std::string profile_digest;  // SHA-256 over the SHA-256 of each profile file, in load order
  const policy::SandboxPlan* plan = nullptr;
  uid_t sandbox_uid = 0;
  gid_t sandbox_gid = 0;
  std::string sandbox_ids_why;
  std::string audit_level;
  std::string audit_sync;
};
audit::Event RunStartEvent(const RunStartFacts& facts);

audit::Event RunEndEvent(const RunResult& result);
std::vector<audit::Event> LimitHitEvents(const RunResult& result, const policy::LimitsPlan& plan);

}  // namespace tollgate
