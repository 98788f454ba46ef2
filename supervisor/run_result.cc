#include "supervisor/run_result.h"

#include <cerrno>
#include <cstring>

namespace tollgate {

const char* RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kExited:
      return "exited";
    case RunStatus::kSignaled:
      return "signaled";
    case RunStatus::kTimeout:
      return "timeout";
    case RunStatus::kSetupError:
      return "setup_error";
    case RunStatus::kInternalError:
      return "internal_error";
    case RunStatus::kAuditFailed:
      return "audit_failed";
  }
  return "unknown";
}

int RunResult::ProcessExitCode() const {
  switch (status) {
    case RunStatus::kExited:
      return exit_code;
    case RunStatus::kSignaled:
      return 128 + signal;
    case RunStatus::kTimeout:
      return 124;
    case RunStatus::kSetupError:
      // The sandbox was built but the program could not be executed: the shell's convention
      // (127 not found, 126 found but not executable), which scripts already test for.
      if (failed_step.rfind("execve", 0) == 0) return failed_errno == ENOENT ? 127 : 126;
      return 125;
    case RunStatus::kInternalError:
      return 125;
    case RunStatus::kAuditFailed:
      return kExitAuditFailed;
  }
  return 125;
}

std::string RunResult::ToString() const {
  std::string text = RunStatusName(status);
  switch (status) {
    case RunStatus::kExited:
      text += " " + std::to_string(exit_code);
      break;
    case RunStatus::kSignaled:
      text += std::string(" ") + (::sigabbrev_np(signal) ? ::sigabbrev_np(signal) : "?");
      break;
    case RunStatus::kSetupError:
      text += ": " + failed_step;
      if (!failed_path.empty()) text += " " + failed_path;
      if (failed_errno != 0) text += ": " + std::string(std::strerror(failed_errno));
      break;
    default:
      break;
  }
  if (!reason.empty()) text += " (" + reason + ")";
  if (!limits_hit.empty()) {
    text += "; limits hit:";
    for (auto kind : limits_hit) text += std::string(" ") + policy::LimitName(kind);
  }
  return text;
}

nlohmann::json RunResult::ToJson() const {
  nlohmann::json j;
  j["status"] = RunStatusName(status);
  j["reason"] = reason;
  j["exit_code"] = ProcessExitCode();
  if (status == RunStatus::kExited) j["command_exit_code"] = exit_code;
  if (status == RunStatus::kSignaled) j["signal"] = signal;
  if (status == RunStatus::kSetupError) {
    j["failed_step"] = failed_step;
    j["failed_path"] = failed_path;
    j["failed_errno"] = failed_errno;
    j["failed_error"] = failed_errno ? std::strerror(failed_errno) : "";
  }
  nlohmann::json hit = nlohmann::json::array();
  for (auto kind : limits_hit) hit.push_back(policy::LimitName(kind));
  j["limits_hit"] = hit;
  nlohmann::json enforced = nlohmann::json::array();
  for (const auto& e : enforcement) {
    enforced.push_back({{"limit", policy::LimitName(e.kind)},
                        {"value", e.value},
                        {"mechanism", e.mechanism},
                        {"enforced", e.enforced}});
  }
  j["enforcement"] = enforced;
  j["usage"] = {{"user_seconds", usage.user_seconds},
                {"system_seconds", usage.system_seconds},
                {"max_rss_kib", usage.max_rss_kib},
                {"wall_seconds", usage.wall_seconds}};
  j["landlock_abi"] = landlock_abi;
  j["skipped_mounts"] = skipped_mounts;
  return j;
}

}  // namespace tollgate
