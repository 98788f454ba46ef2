// Gathers the facts about a launch that the pure plan compiler needs: the canonical workspace,
// home, cache, git worktree layout and the environment.
#pragma once

#include <sys/types.h>

#include <string>

#include "policy/plans.h"

namespace tollgate {

struct PlanContextResult {
  policy::PlanContext context;
  std::string error;  // empty on success
};

// A path from the command line, absolute: relative ones against the working directory.
std::string AbsolutePath(const std::string& path);

// `workspace` as given (may be relative or a symlink); `home_uid` is whose home {home} means.
PlanContextResult GatherPlanContext(const std::string& workspace, uid_t home_uid);

}  // namespace tollgate
