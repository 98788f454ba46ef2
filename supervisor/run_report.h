// The report of one run, for CI (README, "CI"): what ran, how it ended, and every denial first —
// read back from the audit log, so that the report says exactly what the log holds.
//
// `--report FILE` writes it as JSON; with `--ci` and $GITHUB_STEP_SUMMARY set, it is appended to
// that file as Markdown (GitHub renders it on the job's page). Strings from the sandbox (paths,
// arguments, host names) are escaped for Markdown and HTML: a denial cannot inject a link, an
// image or markup into the page.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "supervisor/audit/query.h"

namespace tollgate {

// Where the run's records start in the log: the file the writer was on before the run's first
// record, and its size then (empty file: the log had none).
struct LogPosition {
  std::string file;  // absolute path, or empty
  std::uint64_t offset = 0;
};

struct RunDenial {
  std::string time;
  std::string kind;
  std::string action;  // audit::ActionOf
  std::string rule;
  std::string reason;
};

struct RunReport {
  std::string run;
  std::string profile;
  std::string task;
  std::vector<std::string> command;
  nlohmann::json result;           // RunResult::ToJson()
  std::vector<RunDenial> denials;  // in log order, at most kMaxReportDenials
  std::uint64_t denials_total = 0;
  audit::Summary summary;
  // A task run: its phase and outcome (task.completed / failed / unverified), what is missing.
  nlohmann::json task_outcome;
  std::string error;  // the log could not be read back: the report says so
};

inline constexpr std::size_t kMaxReportDenials = 200;

// Reads the records of `run` from `directory`, from `from` on (and every later file).
RunReport ReadRunReport(const std::string& directory, const LogPosition& from,
                        const std::string& run);

nlohmann::json RunReportJson(const RunReport& report);
std::string RunReportMarkdown(const RunReport& report);

// Text safe in a Markdown table cell: no line breaks, `|`, backticks, HTML or link syntax
// survive; cut to `max` bytes (on a character boundary).
std::string MarkdownCell(const std::string& text, std::size_t max = 200);

}  // namespace tollgate
