#include "supervisor/run_audit.h"

#include <pwd.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>

#include "policy/explain.h"
#include "supervisor/governance/task_identity.h"

namespace tollgate {
namespace {

std::string UserName(uid_t uid) {
  passwd* pw = getpwuid(uid);
  return pw && pw->pw_name ? pw->pw_name : "";
}

}  // namespace

std::string NewRunId() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  unsigned long long random = 0;
  if (getrandom(&random, sizeof random, 0) != sizeof random) {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    random = (static_cast<unsigned long long>(ts.tv_nsec) << 20) ^ static_cast<unsigned>(getpid());
  }
  char id[64];
  std::snprintf(id, sizeof id, "%04d%02d%02dT%02d%02d%02dZ-%016llx", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, random);
  return id;
}

RunStartFacts SandboxRunFacts(const std::vector<std::string>& command,
                              const policy::Profile& profile,
                              const std::vector<std::string>& profile_file_digests,
                              const policy::SandboxPlan& plan, const SandboxIds& ids,
                              const std::string& audit_level, const std::string& audit_sync) {
  RunStartFacts facts;
  facts.command = command;
  facts.profile_file = profile.source_file;
  facts.profile_digest = governance::ProfileDigest(profile_file_digests);
  facts.plan = &plan;
  facts.sandbox_uid = ids.uid;
  facts.sandbox_gid = ids.gid;
  facts.sandbox_ids_why = ids.why;
  facts.audit_level = audit_level;
  facts.audit_sync = audit_sync;
  return facts;
}

audit::WriterOptions SandboxRunWriterOptions(const std::string& directory,
                                             const std::string& audit_sync,
                                             const std::string& profile_name) {
  audit::WriterOptions options;
  options.directory = directory;
  options.sync = audit::ParseSyncMode(audit_sync).value_or(audit::SyncMode::kBatch);
  options.defer_sync_thread = true;
  options.run = NewRunId();
  options.profile = profile_name;
  return options;
}

audit::Event RunStartEvent(const RunStartFacts& facts) {
  const policy::SandboxPlan& plan = *facts.plan;
  audit::Event event;
  event.kind = std::string(audit::kKindRunStart);
  event.verdict = audit::Verdict::kInfo;
  event.rule = "profile " + plan.profile_name;
  event.reason = "sandbox launch";
  audit::Json& d = event.details;
  d["command"] = event.strings.StringArray(facts.command, "details.command");
  d["profile_file"] = event.strings.String(facts.profile_file, "details.profile_file");
  d["profile_digest"] = facts.profile_digest;
  d["plan_digest"] = audit::Sha256Hex(audit::Canonical(policy::PlanToJson(plan)));
  d["workspace"] = event.strings.String(plan.cwd, "details.workspace");
  audit::Json limits = audit::Json::object();
  for (const policy::Limit& limit : plan.limits.limits)
    limits[policy::LimitName(limit.kind)] = limit.value;
  d["plans"] = {{"mount_ops", plan.mounts.ops.size()},
                {"seccomp_rules", plan.seccomp.rules.size()},
                {"landlock_rules", plan.landlock.rules.size()},
                {"landlock", policy::LandlockModeName(plan.landlock.mode)},
                {"network", policy::NetworkModeName(plan.network.mode)},
                {"limits", limits}};
  d["user"] = {{"uid", getuid()},
               {"name", event.strings.String(UserName(getuid()), "details.user.name")}};
  d["sandbox"] = {{"uid", facts.sandbox_uid},
                  {"gid", facts.sandbox_gid},
                  {"why", event.strings.String(facts.sandbox_ids_why, "details.sandbox.why")}};
  utsname uts{};
  if (uname(&uts) == 0) {
    d["host"] = event.strings.String(uts.nodename, "details.host");
    d["kernel"] = event.strings.String(uts.release, "details.kernel");
  }
  d["audit"] = {{"level", facts.audit_level}, {"sync", facts.audit_sync}};
  d["tollgate"] = TOLLGATE_VERSION;
  return event;
}

audit::Event RunEndEvent(const RunResult& result) {
  audit::Event event;
  event.kind = std::string(audit::kKindRunEnd);
  event.verdict = audit::Verdict::kInfo;
  event.reason = event.strings.String(result.reason, "reason");
  audit::Json& d = event.details;
  d["status"] = RunStatusName(result.status);
  d["exit_code"] = result.ProcessExitCode();
  if (result.status == RunStatus::kExited) d["command_exit_code"] = result.exit_code;
  if (result.status == RunStatus::kSignaled) d["signal"] = result.signal;
  if (result.status == RunStatus::kSetupError) {
    d["failed_step"] = event.strings.String(result.failed_step, "details.failed_step");
    d["failed_path"] = event.strings.String(result.failed_path, "details.failed_path");
    d["failed_errno"] = result.failed_errno;
  }
  // Integers only (record.h): microseconds and KiB.
  auto usec = [](double seconds) { return static_cast<std::int64_t>(seconds * 1e6 + 0.5); };
  d["usage"] = {{"user_usec", usec(result.usage.user_seconds)},
                {"system_usec", usec(result.usage.system_seconds)},
                {"wall_usec", usec(result.usage.wall_seconds)},
                {"max_rss_kib", result.usage.max_rss_kib}};
  audit::Json hit = audit::Json::array();
  for (policy::LimitKind kind : result.limits_hit) hit.push_back(policy::LimitName(kind));
  d["limits_hit"] = hit;
  d["landlock_abi"] = result.landlock_abi;
  return event;
}

std::vector<audit::Event> LimitHitEvents(const RunResult& result, const policy::LimitsPlan& plan) {
  std::vector<audit::Event> events;
  for (policy::LimitKind kind : result.limits_hit) {
    audit::Event event;
    event.kind = std::string(audit::kKindLimitHit);
    event.verdict = audit::Verdict::kDeny;
    event.rule = std::string("limits.") + policy::LimitName(kind);
    event.reason = std::string("the run reached its ") + policy::LimitName(kind) + " limit";
    event.details["limit"] = policy::LimitName(kind);
    if (auto value = plan.Get(kind)) event.details["value"] = *value;
    for (const LimitEnforcement& e : result.enforcement) {
      if (e.kind == kind) event.details["mechanism"] = e.mechanism;
    }
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace tollgate
