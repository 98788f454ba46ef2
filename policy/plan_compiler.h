// Compiles a Profile into a SandboxPlan for one launch. Pure and deterministic.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "policy/plans.h"
#include "policy/profile.h"

namespace tollgate::policy {

// True when something (a file, a directory, a symlink) is at `path` on the host.
using PathExists = std::function<bool(const std::string& path)>;

struct CompileOptions {
  LandlockMode landlock = LandlockMode::kBestEffort;
  bool require_limits = false;
  // A task's scope: workspace-relative paths, normalised (no "./", no trailing '/', no '.' or
  // '..' segments; NormaliseScope gives them). When not empty, only these — and the profile's
  // filesystem.scratch paths — stay writable inside the workspace; the rest of it is read-only.
  // Narrowing never widens: a scope path the profile did not make writable stays as it was.
  std::vector<std::string> scope;
  // Asked about each scope path that becomes writable: one that does not exist is a compile
  // error. Unset, the plan still requires it (its bind is not optional), so a launch fails on it.
  PathExists scope_path_exists;
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
