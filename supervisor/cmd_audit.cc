// tollgate audit list|denied|summary|verify|export|reindex: reading the audit log (docs/AUDIT.md).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <functional>

#include "supervisor/audit/log_files.h"
#include "supervisor/audit/ocsf.h"
#include "supervisor/audit/query.h"
#include "supervisor/audit/reader.h"
#include "supervisor/audit/terminal.h"
#include "supervisor/audit/verify.h"
#include "supervisor/commands.h"
#include "supervisor/governance/task_log.h"

namespace tollgate {

namespace {

using audit::Json;

void Print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

// Multi-line text made of log content: each line is made safe on its own, so that the line
// breaks stay and nothing else passes.
void PrintSafeLines(std::string_view text) {
  for (std::size_t begin = 0, end; begin < text.size(); begin = end + 1) {
    end = text.find('\n', begin);
    if (end == std::string_view::npos) end = text.size();
    Print(audit::TerminalSafe(text.substr(begin, end - begin)) + "\n");
  }
}

void Warn(const std::string& text) {
  std::string line = "tollgate: " + audit::TerminalSafe(text) + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

std::int64_t NowNs() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

// The filters of the command line as a RecordFilter; false with a message on a bad value.
bool BuildFilter(const AuditArgs& args, audit::RecordFilter* filter) {
  filter->run = args.run;
  filter->task = args.task;
  filter->kinds = args.kinds;
  filter->rule = args.rule;
  filter->grep = args.grep;
  if (!args.verdict.empty()) filter->verdict = audit::ParseVerdict(args.verdict);
  if (args.pid >= 0) filter->pid = args.pid;
  const std::int64_t now = NowNs();
  for (auto [text, bound, option] : {std::tuple{&args.since, &filter->since_ns, "--since"},
                                     std::tuple{&args.until, &filter->until_ns, "--until"}}) {
    if (text->empty()) continue;
    std::string error;
    *bound = audit::ParseTimeBound(*text, now, &error);
    if (!*bound) {
      Warn(std::string(option) + ": " + error);
      return false;
    }
  }
  return true;
}

std::unique_ptr<audit::LogReader> OpenLog(const AuditArgs& args) {
  std::string error;
  auto reader = audit::LogReader::Open(args.log_dir, &error);
  if (reader == nullptr) Warn("no audit log to read: " + error + " (choose one with --audit-log)");
  return reader;
}

// Calls `each` with every record of the log that passes the filters, in chain order, and
// `seen` (when given) with every record before filtering. Lines that are not records are
// reported on stderr and skipped. Returns the exit status.
template <typename Each>
int ForEachRecord(const AuditArgs& args, bool follow, Each each,
                  const std::function<void(const audit::ParsedRecord&)>& seen = nullptr) {
  audit::RecordFilter filter;
  if (!BuildFilter(args, &filter)) return kExitUsage;
  auto reader = OpenLog(args);
  if (reader == nullptr) return kExitInvalid;
  reader->set_follow(follow);
  audit::LogLine line;
  while (reader->Next(&line)) {
    if (!seen && !filter.MayMatchLine(line.text)) continue;
    std::string where = line.file + " line " + std::to_string(line.line_number);
    if (!line.complete) {
      Warn(where + ": cut short (a torn last line), skipped");
      continue;
    }
    if (line.too_long) {
      Warn(where + ": longer than a record may be, skipped");
      continue;
    }
    audit::ParseResult parsed = audit::ParseRecordLine(line.text);
    if (!parsed.record) {
      Warn(where + ": not a record (" + parsed.error + "), skipped");
      continue;
    }
    if (seen) seen(*parsed.record);
    if (!filter.Matches(*parsed.record, line.text)) continue;
    each(*parsed.record, line);
    if (follow) std::fflush(stdout);
  }
  if (!reader->error().empty()) {
    Warn(reader->error());
    return kExitInvalid;
  }
  return 0;
}

// One line of the table of `list`: seq, time, run, kind, verdict, pid, what, rule and reason.
std::string TableRow(const audit::ParsedRecord& record) {
  // 2026-11-27T05:29:30.089043123Z -> 2026-11-27 05:29:30.089 (UTC, as the header says)
  std::string time = record.time.substr(0, 10) + " " + record.time.substr(11, 12);
  std::string what = audit::ActionOf(record);
  if (record.kind == audit::kKindExec) {
    auto argv = record.details.find("argv");
    if (argv != record.details.end() && argv->is_array() && argv->size() > 1) {
      for (std::size_t i = 1; i < argv->size(); ++i)
        what += " " + ((*argv)[i].is_string() ? (*argv)[i].get<std::string>() : (*argv)[i].dump());
    }
  }
  std::string pid = record.process ? std::to_string(record.process->pid) : "-";
  char head[160];
  std::snprintf(head, sizeof head, "%8llu  %s  %-12.12s  %-15s %-5s %7s  ",
                static_cast<unsigned long long>(record.seq), time.c_str(),
                audit::TerminalSafe(record.run).c_str(), audit::TerminalSafe(record.kind).c_str(),
                audit::VerdictName(record.verdict), pid.c_str());
  std::string row = head + audit::TerminalSafe(what);
  if (!record.rule.empty()) row += "  [" + audit::TerminalSafe(record.rule) + "]";
  if (!record.reason.empty()) row += "  " + audit::TerminalSafe(record.reason);
  return row + "\n";
}

constexpr const char* kTableHeader =
    "     SEQ  TIME (UTC)               RUN           KIND            VERD      PID  WHAT\n";

int List(const AuditArgs& args) {
  bool header_done = args.json;
  return ForEachRecord(
      args, args.follow, [&](const audit::ParsedRecord& record, const audit::LogLine&) {
        if (!header_done) Print(kTableHeader), header_done = true;
        Print(args.json ? audit::TerminalSafeJson(record.value) + "\n" : TableRow(record));
      });
}

int SummaryCommand(const AuditArgs& args) {
  audit::Summary summary;
  int status = ForEachRecord(
      args, false,
      [&](const audit::ParsedRecord& record, const audit::LogLine&) { summary.Add(record); });
  if (status != 0) return status;
  if (args.json)
    Print(audit::TerminalSafeJson(summary.ToJson(args.top), 2) + "\n");
  else
    PrintSafeLines(summary.ToText(args.top));
  return 0;
}

int Export(const AuditArgs& args) {
  // Lines go out as they are written (byte for byte, so that a copy still verifies) unless
  // stdout is a terminal: then nothing from the log may reach it unescaped.
  const bool to_terminal = isatty(STDOUT_FILENO) == 1;
  audit::OcsfExporter ocsf(TOLLGATE_VERSION);
  return ForEachRecord(
      args, false,
      [&](const audit::ParsedRecord& record, const audit::LogLine& line) {
        if (args.format == "ocsf")
          Print(audit::TerminalSafeJson(ocsf.Project(record)) + "\n");
        else
          Print((to_terminal ? audit::TerminalSafeJsonText(line.text) : line.text) + "\n");
      },
      [&](const audit::ParsedRecord& record) { ocsf.Observe(record); });
}

// The task ledger's index is a cache of the log: rebuilt from the log alone, and only from a log
// whose chain holds (a ledger read from a tampered log would be a forged one).
int Reindex(const AuditArgs& args) {
  audit::VerifyReport report = audit::VerifyLog(args.log_dir);
  if (!report.ok()) {
    Warn("the log does not verify" +
         (report.first_bad
              ? ": " + report.first_bad->file + " line " + std::to_string(report.first_bad->line) +
                    ": " + report.first_bad->why
              : std::string()) +
         "; the task index was not rebuilt (tollgate audit verify)");
    return kExitInvalid;
  }
  policy::TaskLedger ledger;
  governance::LedgerLoadStats stats;
  std::string error;
  if (!governance::ReindexLedger(args.log_dir, &ledger, &stats, &error)) {
    Warn("cannot rebuild the task index: " + error);
    return kExitInvalid;
  }
  Print("rebuilt " + args.log_dir + "/" + governance::kTaskIndexFile + " from " +
        audit::WithThousands(stats.lines_read) +
        " records: " + audit::WithThousands(stats.task_records) + " task records, " +
        std::to_string(ledger.tasks().size()) + (ledger.tasks().size() == 1 ? " task" : " tasks") +
        "\n");
  for (const std::string& problem : ledger.problems()) Warn("task record skipped: " + problem);
  return 0;
}

int Verify(const AuditArgs& args) {
  audit::VerifyReport report = audit::VerifyLog(args.log_dir);
  if (args.json) {
    Json out = {{"ok", report.ok()},
                {"records", report.records},
                {"files", report.files},
                {"warnings", report.warnings}};
    if (report.records > 0) {
      out["first_seq"] = report.first_seq;
      out["last_seq"] = report.last_seq;
      out["last_hash"] = report.last_hash;
    }
    if (report.first_bad) {
      const audit::VerifyFinding& bad = *report.first_bad;
      out["first_bad"] = {{"kind", audit::TamperingName(bad.kind)},
                          {"file", bad.file},
                          {"line", bad.line},
                          {"why", bad.why}};
      if (bad.seq) out["first_bad"]["seq"] = *bad.seq;
    }
    Print(audit::TerminalSafeJson(out, 2) + "\n");
    return report.ok() ? 0 : kExitInvalid;
  }
  std::string text;
  const std::string range = report.records == 0 ? ""
                                                : " (seq " + std::to_string(report.first_seq) +
                                                      ".." + std::to_string(report.last_seq) + ")";
  const std::string files =
      audit::WithThousands(report.files) + (report.files == 1 ? " file" : " files");
  if (report.first_bad) {
    const audit::VerifyFinding& bad = *report.first_bad;
    text += std::string("BAD: ") + audit::TamperingName(bad.kind) + " at " + bad.file;
    if (bad.line > 0) text += " line " + std::to_string(bad.line);
    if (bad.seq) text += " (seq " + std::to_string(*bad.seq) + ")";
    text += "\n  " + bad.why + "\n";
    if (report.records > 0)
      text += "  " + audit::WithThousands(report.records) + " records before it are intact" +
              range + "\n";
  } else if (report.records == 0) {
    text += "no records in " + args.log_dir + " (" + files + ")\n";
  } else {
    text += "ok: " + audit::WithThousands(report.records) + " records in " + files + range +
            ", the chain is intact\n";
    text += "last hash: " + report.last_hash +
            "\n  (keep it elsewhere: records cut off cleanly at the end, or a log sealed again "
            "after an edit, show only against a copy of it)\n";
  }
  for (const std::string& warning : report.warnings) text += "warning: " + warning + "\n";
  PrintSafeLines(text);  // `why` may quote bytes of a damaged line
  return report.ok() ? 0 : kExitInvalid;
}

void AddLogOption(CLI::App* command, AuditArgs* args) {
  command->add_option("--audit-log", args->log_dir, "The audit log directory, or one log file")
      ->capture_default_str();
}

void AddFilters(CLI::App* command, AuditArgs* args, bool with_verdict) {
  command->add_option("--run", args->run, "Only this run (its id or a prefix of it)");
  command->add_option("--task", args->task, "Only this task");
  command
      ->add_option("--kind", args->kinds,
                   "Only these kinds (repeat or separate by commas; task.* for a prefix)")
      ->delimiter(',');
  if (with_verdict)
    command->add_option("--verdict", args->verdict, "Only allow, deny or info")
        ->check(CLI::IsMember({"allow", "deny", "info"}));
  command->add_option("--since", args->since,
                      "From this time on: RFC 3339, a day (2026-11-27) or a duration ago (24h)");
  command->add_option("--until", args->until, "Before this time (same forms as --since)");
  command->add_option("--pid", args->pid, "Only events of this process id")
      ->check(CLI::NonNegativeNumber);
  command->add_option("--rule", args->rule, "Only this rule (a trailing * matches a prefix)");
  command->add_option("--grep", args->grep, "Only lines that contain this text (as written)");
}

}  // namespace

CLI::App* AddAuditCommand(CLI::App* app, AuditArgs* args) {
  args->log_dir = audit::DefaultLogDirectory();
  CLI::App* audit_cmd = app->add_subcommand("audit", "Read, verify and export the audit log");
  audit_cmd->require_subcommand(1);

  CLI::App* list = audit_cmd->add_subcommand("list", "Show records, oldest first");
  AddLogOption(list, args);
  AddFilters(list, args, true);
  list->add_flag("--json", args->json, "One JSON record per line");
  list->add_flag("-f,--follow", args->follow,
                 "Keep printing records as they are written (across rotation)");
  list->callback([args] { args->action = "list"; });

  CLI::App* denied =
      audit_cmd->add_subcommand("denied", "Show denied actions (list --verdict deny)");
  AddLogOption(denied, args);
  AddFilters(denied, args, false);
  denied->add_flag("--json", args->json, "One JSON record per line");
  denied->add_flag("-f,--follow", args->follow, "Keep printing denials as they are written");
  denied->callback([args] {
    args->action = "list";
    args->verdict = "deny";
  });

  CLI::App* summary =
      audit_cmd->add_subcommand("summary", "Counts by kind, verdict and rule; top denials; runs");
  AddLogOption(summary, args);
  AddFilters(summary, args, true);
  summary->add_flag("--json", args->json, "Print the summary as JSON");
  summary->add_option("--top", args->top, "How many rules and denied actions to list")
      ->capture_default_str();
  summary->callback([args] { args->action = "summary"; });

  CLI::App* verify =
      audit_cmd->add_subcommand("verify", "Check the hash chain; report the first bad record");
  AddLogOption(verify, args);
  verify->add_flag("--json", args->json, "Print the report as JSON");
  verify->callback([args] { args->action = "verify"; });

  CLI::App* reindex = audit_cmd->add_subcommand(
      "reindex", "Verify the log, then rebuild the task ledger's index from it alone");
  AddLogOption(reindex, args);
  reindex->callback([args] { args->action = "reindex"; });

  CLI::App* exporter = audit_cmd->add_subcommand("export", "Print records for a SIEM");
  AddLogOption(exporter, args);
  AddFilters(exporter, args, true);
  exporter->add_option("--format", args->format, "ocsf (OCSF 1.5.0 events) or jsonl (as logged)")
      ->check(CLI::IsMember({"ocsf", "jsonl"}))
      ->capture_default_str();
  exporter->callback([args] { args->action = "export"; });
  return audit_cmd;
}

int AuditCommand(const AuditArgs& args) {
  if (args.action == "list") return List(args);
  if (args.action == "summary") return SummaryCommand(args);
  if (args.action == "verify") return Verify(args);
  if (args.action == "export") return Export(args);
  if (args.action == "reindex") return Reindex(args);
  return kExitUsage;
}

}  // namespace tollgate
