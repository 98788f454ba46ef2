// Compiles a Profile into a SandboxPlan for one launch. Pure and deterministic.
#pragma once

#include <string>
#include <vector>

#include "policy/plans.h"
#include "policy/profile.h"

namespace tollgate::policy {

struct CompileOptions {
  LandlockMode landlock = LandlockMode::kBestEffort;
  bool require_limits = false;
};

struct CompileResult {
  SandboxPlan plan;
  std::vector<std::string> errors;  // empty on success
  bool ok() const { return errors.empty(); }
};

CompileResult CompilePlan(const Profile& profile, const PlanContext& context,
                          const CompileOptions& options = {});

// Expands a leading placeholder ("{workspace}/build" -> "/src/app/build"). Paths without one are
// returned unchanged.
std::string ExpandPlaceholders(const std::string& path, const PlanContext& context);

}  // namespace tollgate::policy
