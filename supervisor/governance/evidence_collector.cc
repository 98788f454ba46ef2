#include "supervisor/governance/evidence_collector.h"

#include "supervisor/governance/evidence_files.h"
#include "supervisor/governance/test_results.h"

namespace tollgate::governance {
namespace {

void AddSkipped(const EvidenceScan& scan, const EvidenceLimits& limits,
                std::vector<std::string>* notes) {
  for (const SkippedEvidence& s : scan.skipped) notes->push_back(s.path + ": " + s.reason);
  if (scan.bounds.Any()) notes->push_back("bounds reached: " + scan.bounds.Describe(limits));
}

}  // namespace

policy::Evidence CollectEvidence(GitEvidence* git, const EvidenceRequest& request) {
  policy::Evidence e;
  const RunResult& r = *request.result;
  e.status = RunStatusName(r.status);
  e.ran = r.status == RunStatus::kExited || r.status == RunStatus::kSignaled ||
          r.status == RunStatus::kTimeout;
  e.exit_code = r.status == RunStatus::kExited ? r.exit_code : -1;
  e.signal = r.status == RunStatus::kSignaled ? r.signal : 0;
  if (r.status == RunStatus::kTimeout) e.exit_code = 124;
  e.duration_ms = static_cast<std::uint64_t>(r.usage.wall_seconds * 1000);
  e.cpu_user_ms = static_cast<std::uint64_t>(r.usage.user_seconds * 1000);
  e.cpu_system_ms = static_cast<std::uint64_t>(r.usage.system_seconds * 1000);
  e.max_rss_kb = r.usage.max_rss_kib;

  GitSnapshot after = git->After(request.before);
  e.git = after.repository && after.problem.empty();
  e.git_problem = request.before.repository ? after.problem : request.before.problem;
  if (e.git) {
    e.head_before = request.before.head;
    e.head_after = after.head;
    e.task_base = request.task_base.empty() ? request.before.head : request.task_base;
    std::string error;
    const bool task_began_here = e.task_base == request.before.head;
    if (!git->RunDiff(request.before, after, &e.diff, task_began_here ? &e.task_diff : nullptr,
                      &error) ||
        (!task_began_here && !git->Diff(e.task_base, &e.task_diff, &error))) {
      e.git = false;
      e.git_problem = error;
    }
  }

  EvidenceOptions options;
  options.modified_since_ns = request.started_ns;
  if (!request.report_patterns.empty()) {
    e.report_patterns = request.report_patterns;
    options.read_content = true;
    EvidenceResult found = FindEvidence(request.workspace, request.report_patterns, options);
    if (!found.scan) {
      e.notes.push_back("test reports: " + found.error);
    } else {
      for (const EvidenceFile& f : found.scan->files) {
        policy::TestReportEvidence& report = e.reports.emplace_back();
        report.file = f.path;
        report.sha256 = f.sha256;
        TestReportParse parsed = ParseTestReport(f.content.value_or(""), f.path);
        if (parsed.report) {
          const TestReport& t = *parsed.report;
          report.format = t.format;
          report.total = t.total;
          report.passed = t.passed;
          report.failed = t.failed;
          report.errors = t.errors;
          report.skipped = t.skipped;
          report.failing = t.failing;
        } else {
          report.error = parsed.error;
        }
      }
      for (const EvidenceFile& f : found.scan->stale) e.stale_reports.push_back(f.path);
      AddSkipped(*found.scan, options.limits, &e.notes);
    }
  }
  options.read_content = false;
  e.artifact_patterns = request.artifact_patterns;
  for (const std::string& pattern : request.artifact_patterns) {
    EvidenceResult found = FindEvidence(request.workspace, {pattern}, options);
    if (!found.scan) {
      e.notes.push_back("artifacts: " + found.error);
      e.unmatched_artifact_patterns.push_back(pattern);
      continue;
    }
    if (found.scan->files.empty()) e.unmatched_artifact_patterns.push_back(pattern);
    for (const EvidenceFile& f : found.scan->files)
      e.artifacts.push_back({f.path, f.sha256, f.size});
    AddSkipped(*found.scan, options.limits, &e.notes);
  }
  if (request.plan) {
    EvidenceResult found =
        FindEvidence(request.workspace, {std::string(kPlanDirectory) + "/**"}, options);
    if (found.scan) {
      for (const EvidenceFile& f : found.scan->files)
        e.plan_files.push_back({f.path, f.sha256, f.size});
      AddSkipped(*found.scan, options.limits, &e.notes);
    } else {
      e.notes.push_back("plan: " + found.error);
    }
  }
  return e;
}

}  // namespace tollgate::governance
