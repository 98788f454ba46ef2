#include "supervisor/run_report.h"

#include "supervisor/audit/log_files.h"
#include "supervisor/audit/reader.h"

namespace tollgate {
namespace {

using Json = nlohmann::json;

std::string BaseName(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void AddRecord(const audit::ParsedRecord& r, RunReport* report) {
  report->summary.Add(r);
  if (report->profile.empty()) report->profile = r.profile;
  if (report->task.empty() && r.task) report->task = *r.task;
  if (r.kind == audit::kKindRunStart && r.details.contains("command") &&
      r.details["command"].is_array()) {
    for (const Json& word : r.details["command"])
      if (word.is_string()) report->command.push_back(word.get<std::string>());
  }
  if (r.kind == "task.completed" || r.kind == "task.failed" || r.kind == "task.unverified") {
    report->task_outcome = {{"outcome", r.kind.substr(5)},
                            {"phase", r.details.value("phase", "")},
                            {"attempt", r.details.value("attempt", 0)},
                            {"class", r.details.value("class", "")},
                            {"missing", r.details.value("missing", Json::array())}};
  }
  if (r.verdict != audit::Verdict::kDeny) return;
  report->denials_total++;
  if (report->denials.size() < kMaxReportDenials)
    report->denials.push_back({r.time, r.kind, audit::ActionOf(r), r.rule, r.reason});
}

}  // namespace

RunReport ReadRunReport(const std::string& directory, const LogPosition& from,
                        const std::string& run) {
  RunReport report;
  report.run = run;
  std::string error;
  std::vector<audit::LogFile> files = audit::ListLogFiles(directory, &error);
  if (!error.empty()) {
    report.error = error;
    return report;
  }
  // The run's first record went to `from.file` (none yet: the log's first file) or later.
  std::size_t first = 0;
  if (!from.file.empty()) {
    const std::string name = BaseName(from.file);
    while (first < files.size() && files[first].name != name) ++first;
    if (first == files.size()) {
      report.error = "the log file " + from.file + " is gone";
      return report;
    }
  }
  const std::string marker = "\"run\":\"" + run + "\"";
  auto visit = [&](const std::string&, std::uint64_t, std::uint64_t, std::string_view text) {
    // Canonical records have no white space: another run's records are skipped unparsed.
    if (text.find(marker) == std::string_view::npos) return true;
    audit::ParseResult parsed = audit::ParseRecordLine(text);
    if (parsed.record && parsed.record->run == run) AddRecord(*parsed.record, &report);
    return true;
  };
  if (!audit::ScanLogFrom(directory, files, first, from.offset, visit, &error))
    report.error = error;
  return report;
}

Json RunReportJson(const RunReport& report) {
  Json denials = Json::array();
  for (const RunDenial& d : report.denials)
    denials.push_back({{"time", d.time},
                       {"kind", d.kind},
                       {"action", d.action},
                       {"rule", d.rule},
                       {"reason", d.reason}});
  Json out = {{"run", report.run},
              {"profile", report.profile},
              {"command", report.command},
              {"result", report.result},
              {"denials", denials},
              {"denials_total", report.denials_total},
              {"records", report.summary.ToJson(10)}};
  if (!report.task.empty()) out["task"] = report.task;
  if (!report.task_outcome.is_null()) out["task_outcome"] = report.task_outcome;
  if (!report.error.empty()) out["error"] = report.error;
  return out;
}

std::string MarkdownCell(const std::string& text, std::size_t max) {
  std::string out;
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    const bool continuation = (c & 0xC0) == 0x80;
    // Cut only before a character starts, never inside one.
    if (out.size() >= max && !continuation) {
      out += "…";
      break;
    }
    switch (c) {
      case '|':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '!':
      case '\\':
      case '#':
      case '~':
        out += '\\';
        out += ch;
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      default:
        out += c < 0x20 || c == 0x7f ? ' ' : ch;
    }
  }
  return out;
}

std::string RunReportMarkdown(const RunReport& r) {
  const Json& result = r.result;
  std::string status = result.value("status", "");
  std::string command;
  for (const std::string& word : r.command) command += (command.empty() ? "" : " ") + word;
  std::string md = "### tollgate: " + MarkdownCell(command.empty() ? "(command)" : command, 120) +
                   " — " + MarkdownCell(status) + ", exit " +
                   std::to_string(result.value("exit_code", -1)) + "\n\n";
  if (!r.task_outcome.is_null()) {
    md += "**Task** `" + r.task.substr(0, 12) + "` phase " +
          MarkdownCell(r.task_outcome.value("phase", "")) + " attempt " +
          std::to_string(r.task_outcome.value("attempt", 0)) + ": **" +
          MarkdownCell(r.task_outcome.value("outcome", "")) + "**\n\n";
    for (const Json& missing : r.task_outcome.value("missing", Json::array()))
      if (missing.is_string()) md += "- " + MarkdownCell(missing.get<std::string>(), 300) + "\n";
    if (!r.task_outcome.value("missing", Json::array()).empty()) md += "\n";
  }
  if (r.denials_total == 0) {
    md += "No action was denied.\n\n";
  } else {
    md += "#### Denied (" + audit::WithThousands(r.denials_total) + ")\n\n";
    md += "| time (UTC) | kind | what | rule | why |\n|---|---|---|---|---|\n";
    for (const RunDenial& d : r.denials) {
      std::string time = d.time.size() >= 23 ? d.time.substr(11, 12) : d.time;
      md += "| " + MarkdownCell(time) + " | " + MarkdownCell(d.kind) + " | " +
            MarkdownCell(d.action, 120) + " | " + MarkdownCell(d.rule, 80) + " | " +
            MarkdownCell(d.reason, 200) + " |\n";
    }
    if (r.denials_total > r.denials.size())
      md += "\n… and " + audit::WithThousands(r.denials_total - r.denials.size()) +
            " more: `tollgate audit denied --run " + r.run + "`\n";
    md += "\n";
  }
  md += "<details><summary>Run " + MarkdownCell(r.run) + ", profile " + MarkdownCell(r.profile) +
        "</summary>\n\n";
  if (result.contains("reason") && !result.value("reason", "").empty())
    md += "- " + MarkdownCell(result.value("reason", ""), 300) + "\n";
  Json records = r.summary.ToJson(10);
  if (records.contains("by_kind") && records["by_kind"].is_object()) {
    md += "- records:";
    for (const auto& [kind, count] : records["by_kind"].items())
      md += " " + MarkdownCell(kind) + " " + count.dump() + ";";
    md += "\n";
  }
  if (!r.error.empty())
    md += "- the log could not be read back in full: " + MarkdownCell(r.error) + "\n";
  md += "- every record: `tollgate audit list --run " + r.run + "`\n\n</details>\n\n";
  return md;
}

}  // namespace tollgate
