#include "policy/task_evidence.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace tollgate::policy {
namespace {

using Json = nlohmann::json;

bool ParseCount(std::string_view text, std::uint64_t* value) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string Join(const std::vector<std::string>& items, const char* separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

Json FilesJson(const std::vector<FileEvidence>& files) {
  Json out = Json::array();
  for (const FileEvidence& f : files)
    out.push_back({{"path", f.path}, {"sha256", f.sha256}, {"size", f.size}});
  return out;
}

std::string Short(const std::string& revision) {
  return revision.substr(0, 12);
}

}  // namespace

bool ParseNumstatZ(std::string_view output, std::vector<FileChange>* changes, std::string* error) {
  while (!output.empty()) {
    std::size_t end = output.find('\0');
    if (end == std::string_view::npos) {
      *error = "numstat output does not end with NUL";
      return false;
    }
    std::string_view entry = output.substr(0, end);
    output.remove_prefix(end + 1);
    std::size_t tab1 = entry.find('\t');
    std::size_t tab2 = tab1 == std::string_view::npos ? tab1 : entry.find('\t', tab1 + 1);
    if (tab2 == std::string_view::npos || tab2 + 1 >= entry.size()) {
      *error = "unexpected numstat entry \"" + std::string(entry.substr(0, 80)) + "\"";
      return false;
    }
    FileChange change;
    change.path = std::string(entry.substr(tab2 + 1));
    std::string_view added = entry.substr(0, tab1),
                     deleted = entry.substr(tab1 + 1, tab2 - tab1 - 1);
    if (added == "-" && deleted == "-") {
      change.binary = true;
    } else if (!ParseCount(added, &change.added) || !ParseCount(deleted, &change.deleted)) {
      *error = "unexpected line counts in numstat entry for " + change.path;
      return false;
    }
    changes->push_back(std::move(change));
  }
  return true;
}

DiffStats ComputeDiffStats(std::vector<FileChange> changes,
                           const std::set<std::string>& base_directories) {
  std::sort(changes.begin(), changes.end(),
            [](const FileChange& a, const FileChange& b) { return a.path < b.path; });
  DiffStats stats;
  std::set<std::string> modules, new_directories, paths;
  for (const FileChange& change : changes) {
    if (!paths.insert(change.path).second) continue;  // listed twice: count once
    stats.files++;
    stats.lines_added += change.added;
    stats.lines_deleted += change.deleted;
    if (stats.paths.size() < kMaxListedPaths) stats.paths.push_back(change.path);
    std::size_t slash = change.path.find('/');
    if (slash != std::string::npos) modules.insert(change.path.substr(0, slash));
    // The highest ancestor directory the base did not have.
    for (std::size_t at = slash; at != std::string::npos; at = change.path.find('/', at + 1)) {
      std::string directory = change.path.substr(0, at);
      if (!base_directories.count(directory)) {
        new_directories.insert(directory);
        break;
      }
    }
  }
  stats.modules.assign(modules.begin(), modules.end());
  stats.new_directories.assign(new_directories.begin(), new_directories.end());
  return stats;
}

std::vector<std::string> OverThresholds(const Escalation& e, const DiffStats& stats) {
  std::vector<std::string> over;
  auto check = [&](const char* what, std::uint64_t value, std::uint64_t limit) {
    if (limit != 0 && value > limit)
      over.push_back(std::string(what) + " " + std::to_string(value) + " > " +
                     std::to_string(limit));
  };
  check("files", stats.files, e.files);
  check("lines", stats.lines(), e.lines);
  check("modules", stats.modules.size(), e.modules);
  check("new_directories", stats.new_directories.size(), e.new_directories);
  return over;
}

Json DiffStatsToJson(const DiffStats& stats) {
  return {{"files", stats.files},
          {"lines_added", stats.lines_added},
          {"lines_deleted", stats.lines_deleted},
          {"modules", stats.modules},
          {"new_directories", stats.new_directories},
          {"paths", stats.paths}};
}

Json EvidenceToJson(const Evidence& e) {
  Json run = {{"status", e.status},
              {"ran", e.ran},
              {"exit_code", e.exit_code},
              {"signal", e.signal},
              {"duration_ms", e.duration_ms},
              {"cpu_user_ms", e.cpu_user_ms},
              {"cpu_system_ms", e.cpu_system_ms},
              {"max_rss_kb", e.max_rss_kb}};
  Json git = {{"available", e.git}};
  if (!e.git_problem.empty()) git["problem"] = e.git_problem;
  if (e.git) {
    git["head_before"] = e.head_before;
    git["head_after"] = e.head_after;
    git["diff"] = DiffStatsToJson(e.diff);
    git["task_base"] = e.task_base;
    git["task_diff"] = DiffStatsToJson(e.task_diff);
  }
  Json reports = Json::array();
  for (const TestReportEvidence& r : e.reports) {
    Json report = {{"file", r.file}, {"sha256", r.sha256}};
    if (r.error.empty()) {
      report.update({{"format", r.format},
                     {"total", r.total},
                     {"passed", r.passed},
                     {"failed", r.failed},
                     {"errors", r.errors},
                     {"skipped", r.skipped},
                     {"failing", r.failing}});
    } else {
      report["error"] = r.error;
    }
    reports.push_back(std::move(report));
  }
  return {{"run", run},
          {"git", git},
          {"test_results",
           {{"patterns", e.report_patterns}, {"reports", reports}, {"stale", e.stale_reports}}},
          {"artifacts",
           {{"patterns", e.artifact_patterns},
            {"files", FilesJson(e.artifacts)},
            {"unmatched", e.unmatched_artifact_patterns}}},
          {"plan", FilesJson(e.plan_files)},
          {"notes", e.notes}};
}

const char* OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kRunning:
      return "running";
    case Outcome::kCompleted:
      return "completed";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kUnverified:
      return "unverified";
    case Outcome::kInterrupted:
      return "interrupted";
  }
  return "?";
}

EvidenceJudgement JudgeEvidence(const std::vector<std::string>& required, const Evidence& e) {
  EvidenceJudgement judgement;
  bool failed = false;
  auto requires_item = [&](std::string_view item) {
    return std::find(required.begin(), required.end(), item) != required.end();
  };
  auto missing = [&](std::string line) { judgement.missing.push_back(std::move(line)); };

  // The command's own status counts whatever the phase requires.
  if (!e.ran) {
    failed = true;
    missing("exit_status: the command did not run (" + e.status + ")");
  } else if (e.signal != 0) {
    failed = true;
    missing("exit_status: the command was killed by signal " + std::to_string(e.signal) +
            (e.status == "exited" || e.status == "signaled" ? "" : " (" + e.status + ")"));
  } else if (e.exit_code != 0) {
    failed = true;
    missing("exit_status: the command exited with " + std::to_string(e.exit_code) +
            (e.status == "exited" ? "" : " (" + e.status + ")"));
  }

  const bool needs_git = requires_item("git_head") || requires_item("diff");
  if (needs_git && !e.git) {
    missing("git: " + (e.git_problem.empty() ? std::string("no git repository") : e.git_problem));
  } else {
    if (requires_item("git_head") && e.head_after == e.head_before)
      missing("git_head: no commit was made (HEAD is still " + Short(e.head_before) + ")");
    if (requires_item("diff") && e.diff.files == 0) missing("diff: the run changed no file");
  }

  if (requires_item("test_results")) {
    std::uint64_t total = 0, bad = 0;
    std::vector<std::string> failing, unreadable;
    for (const TestReportEvidence& r : e.reports) {
      if (!r.error.empty()) {
        unreadable.push_back(r.file + " (" + r.error + ")");
        continue;
      }
      total += r.total;
      bad += r.failed + r.errors;
      if (r.failed + r.errors > 0) {
        std::string names = Join(r.failing, ", ");
        failing.push_back(r.file + (names.empty() ? "" : ": " + names));
      }
    }
    if (bad > 0) {
      failed = true;
      missing("test_results: " + std::to_string(bad) + " of " + std::to_string(total) +
              " tests failed (" + Join(failing, "; ") + ")");
    } else if (total == 0) {
      std::string line = "test_results: no test report with tests was written during the run";
      if (e.report_patterns.empty()) {
        line += " (the profile names no report paths: evidence.test_results)";
      } else {
        line += " (looked for " + Join(e.report_patterns, ", ") + ")";
      }
      if (!e.stale_reports.empty()) line += "; older than the run: " + Join(e.stale_reports, ", ");
      if (!unreadable.empty()) line += "; not reports: " + Join(unreadable, ", ");
      missing(line);
    }
  }

  if (requires_item("artifacts")) {
    if (e.artifact_patterns.empty()) {
      missing("artifacts: the profile names no artifacts (evidence.artifacts)");
    } else if (!e.unmatched_artifact_patterns.empty()) {
      missing("artifacts: nothing written during the run matches " +
              Join(e.unmatched_artifact_patterns, ", "));
    }
  }

  if (requires_item("plan")) {
    bool written = std::any_of(e.plan_files.begin(), e.plan_files.end(),
                               [](const FileEvidence& f) { return f.size > 0; });
    if (!written) missing("plan: no plan was written in .tollgate/plan");
  }

  judgement.outcome = failed                      ? Outcome::kFailed
                      : judgement.missing.empty() ? Outcome::kCompleted
                                                  : Outcome::kUnverified;
  return judgement;
}

}  // namespace tollgate::policy
