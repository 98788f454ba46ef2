// The records a run writes about itself: run.start before the sandbox exists, run.end and one
// limit.hit per limit reached after it is gone. (execs and denials come from seccomp_observer.)
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "policy/plans.h"
#include "policy/profile.h"
#include "supervisor/audit/record.h"
#include "supervisor/audit/writer.h"
#include "supervisor/launcher.h"
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
// The facts of a sandboxed run (`tollgate run`, `tollgate mcp`): its profile (and the SHA-256 of
// each of its files, in load order), its plan and sandbox ids, the audit settings it was given.
RunStartFacts SandboxRunFacts(const std::vector<std::string>& command,
                              const policy::Profile& profile,
                              const std::vector<std::string>& profile_file_digests,
                              const policy::SandboxPlan& plan, const SandboxIds& ids,
                              const std::string& audit_level, const std::string& audit_sync);
audit::Event RunStartEvent(const RunStartFacts& facts);

// The audit writer's options for a sandboxed run: a new run id, and the batch-sync thread
// deferred until the launcher has cloned the sandbox (writer.h).
audit::WriterOptions SandboxRunWriterOptions(const std::string& directory,
                                             const std::string& audit_sync,
                                             const std::string& profile_name);

audit::Event RunEndEvent(const RunResult& result);
std::vector<audit::Event> LimitHitEvents(const RunResult& result, const policy::LimitsPlan& plan);

}  // namespace tollgate
