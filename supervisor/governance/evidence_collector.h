// Collects a run's evidence outside the sandbox, after it ended (docs/GOVERNANCE.md,
// "Evidence"): the run's status and resource use, git HEAD before and after and the diffs, the
// test reports and artifacts the profile names (written during the run, read without leaving
// the workspace: evidence_files.h), and the plan of a plan phase.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "policy/task_evidence.h"
#include "supervisor/governance/git_evidence.h"
#include "supervisor/run_result.h"

namespace tollgate::governance {

// Where a plan phase writes its plan, relative to the workspace.
inline constexpr const char* kPlanDirectory = ".tollgate/plan";

struct EvidenceRequest {
  std::string workspace;  // absolute
  const RunResult* result = nullptr;
  std::int64_t started_ns = 0;  // wall clock when the run started: older files do not count
  GitSnapshot before;
  std::string task_base;  // the commit the task's diff is measured from; empty: HEAD before
  std::vector<std::string> report_patterns;
  std::vector<std::string> artifact_patterns;
  bool plan = false;  // collect .tollgate/plan/*
};

policy::Evidence CollectEvidence(GitEvidence* git, const EvidenceRequest& request);

}  // namespace tollgate::governance
