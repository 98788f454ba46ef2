// tollgate task list|show|history: the task ledger, derived from the audit log's task.* records
// (docs/GOVERNANCE.md, "The ledger").
#include <CLI/CLI.hpp>
#include <iostream>
#include <sstream>

#include "policy/task_ledger.h"
#include "supervisor/audit/log_files.h"
#include "supervisor/audit/terminal.h"
#include "supervisor/commands.h"
#include "supervisor/governance/dispatch.h"
#include "supervisor/governance/task_identity.h"
#include "supervisor/governance/task_log.h"

namespace tollgate {
namespace {

using Json = nlohmann::json;

void PrintSafe(const std::string& text) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) std::cout << audit::TerminalSafe(line) << "\n";
}

Json AttemptJson(const policy::TaskAttempt& a) {
  return {{"phase", a.phase},      {"attempt", a.number},
          {"run", a.run},          {"class", a.class_name},
          {"profile", a.profile},  {"started", a.started},
          {"ended", a.ended},      {"outcome", policy::OutcomeName(a.outcome)},
          {"missing", a.missing},  {"command", a.command},
          {"evidence", a.evidence}};
}

Json TaskJson(const policy::TaskState& t, const policy::Classes& classes) {
  policy::TaskProgress progress = policy::Progress(
      t, classes, [](const policy::Supervisor& s) { return governance::SupervisorAlive(s); });
  Json phases = Json::array();
  for (const policy::PhaseProgress& p : progress.phases) {
    Json phase = {{"phase", p.phase}, {"status", policy::PhaseStatusName(p.status)}};
    if (p.last != nullptr) phase["attempt"] = p.last->number;
    if (!p.note.empty()) phase["note"] = p.note;
    phases.push_back(std::move(phase));
  }
  Json attempts = Json::array();
  for (const policy::TaskAttempt& a : t.attempts) attempts.push_back(AttemptJson(a));
  Json escalations = Json::array();
  for (const policy::TaskEscalationEvent& e : t.escalations)
    escalations.push_back(
        {{"time", e.time}, {"phase", e.phase}, {"from", e.from}, {"to", e.to}, {"over", e.over}});
  Json refusals = Json::array();
  for (const policy::GateRefusal& r : t.refusals)
    refusals.push_back(
        {{"time", r.time}, {"phase", r.phase}, {"rule", r.rule}, {"reason", r.reason}});
  return {{"key", t.key},
          {"title", t.title},
          {"text", t.text},
          {"scope", t.scope},
          {"base", t.base},
          {"class", t.current_class},
          {"initial_class", t.initial_class},
          {"created", t.created},
          {"state", progress.state},
          {"next_phase", progress.next_phase},
          {"phases", phases},
          {"attempts", attempts},
          {"escalations", escalations},
          {"refusals", refusals}};
}

int Fail(const std::string& message) {
  std::istringstream lines(message);
  bool first = true;
  for (std::string line; std::getline(lines, line); first = false)
    std::cerr << (first ? "tollgate: " : "") << audit::TerminalSafe(line) << "\n";
  return kExitInvalid;
}

}  // namespace

CLI::App* AddTaskCommand(CLI::App* app, TaskArgs* args) {
  args->log_dir = audit::DefaultLogDirectory();
  CLI::App* cmd = app->add_subcommand(
      "task", "The task ledger: tasks, their phases, attempts and evidence (from the audit log)");
  cmd->require_subcommand(1);
  auto common = [args](CLI::App* sub) {
    sub->add_option("--audit-log", args->log_dir, "The audit log directory")->capture_default_str();
    sub->add_option("--classes", args->classes_file,
                    "The classes file (default: classes.json on the profile search path)");
    sub->add_flag("--json", args->json, "Print JSON");
  };
  CLI::App* list = cmd->add_subcommand("list", "Every task: its state, class and next phase");
  common(list);
  list->callback([args] { args->action = "list"; });
  CLI::App* show = cmd->add_subcommand("show", "A task's phases, attempts, evidence and state");
  show->add_option("id", args->id, "The task's key, or a unique prefix of it")->required();
  common(show);
  show->callback([args] { args->action = "show"; });
  CLI::App* history = cmd->add_subcommand("history", "A task's records, oldest first");
  history->add_option("id", args->id, "The task's key, or a unique prefix of it")->required();
  common(history);
  history->callback([args] { args->action = "history"; });
  return cmd;
}

int TaskCommand(const TaskArgs& args) {
  std::string error;
  std::optional<governance::LoadedClasses> classes =
      governance::LoadClasses(args.classes_file, &error);
  if (!classes) return Fail(error);
  policy::TaskLedger ledger;
  governance::LedgerLoadStats stats;
  std::vector<policy::TaskEvent> events;
  if (!governance::LoadLedger(args.log_dir, &ledger, &stats, &error, &events))
    return Fail("cannot read the task ledger: " + error);
  for (const std::string& problem : ledger.problems())
    std::cerr << "tollgate: task record skipped: " << audit::TerminalSafe(problem) << "\n";

  if (args.action == "list") {
    // Newest first: the order a person looks for them in.
    std::vector<const policy::TaskState*> tasks;
    for (const auto& [key, task] : ledger.tasks()) tasks.push_back(&task);
    std::sort(tasks.begin(), tasks.end(), [](const auto* a, const auto* b) {
      return a->created != b->created ? a->created > b->created : a->key < b->key;
    });
    if (args.json) {
      Json out = Json::array();
      for (const policy::TaskState* t : tasks) out.push_back(TaskJson(*t, classes->classes));
      std::cout << audit::TerminalSafeJson(out, 2) << "\n";
      return 0;
    }
    if (tasks.empty()) {
      std::cout << "no tasks in " << args.log_dir << "\n";
      return 0;
    }
    std::ostringstream text;
    text << "TASK          STATE        CLASS         NEXT       ATTEMPTS  TITLE\n";
    for (const policy::TaskState* t : tasks) {
      policy::TaskProgress p = policy::Progress(
          *t, classes->classes,
          [](const policy::Supervisor& s) { return governance::SupervisorAlive(s); });
      char line[160];
      std::snprintf(line, sizeof line, "%-13s %-12s %-13s %-10s %8zu  ",
                    t->key.substr(0, 12).c_str(), p.state.c_str(), t->current_class.c_str(),
                    p.next_phase.empty() ? "-" : p.next_phase.c_str(), t->attempts.size());
      text << line << t->title << "\n";
    }
    PrintSafe(text.str());
    return 0;
  }
  const policy::TaskState* task = ledger.Find(args.id, &error);
  if (task == nullptr) return Fail(error);
  if (args.action == "show") {
    if (args.json) {
      std::cout << audit::TerminalSafeJson(TaskJson(*task, classes->classes), 2) << "\n";
    } else {
      governance::PrintTask(*task, classes->classes, std::cout);
    }
    return 0;
  }
  // history
  Json out = Json::array();
  std::ostringstream text;
  for (const policy::TaskEvent& e : events) {
    if (e.task != task->key) continue;
    if (args.json) {
      out.push_back({{"seq", e.seq},
                     {"time", e.time},
                     {"run", e.run},
                     {"kind", e.kind},
                     {"verdict", e.verdict},
                     {"rule", e.rule},
                     {"reason", e.reason},
                     {"details", e.details}});
      continue;
    }
    text << e.time << "  " << e.kind << "  " << e.verdict << "  " << e.reason;
    if (!e.rule.empty()) text << "  [" << e.rule << "]";
    text << "  (seq " << e.seq << ", run " << e.run << ")\n";
  }
  if (args.json) {
    std::cout << audit::TerminalSafeJson(out, 2) << "\n";
  } else {
    PrintSafe(text.str());
  }
  return 0;
}

}  // namespace tollgate
