// tollgate classify: which class a task is routed to, and why (policy/classifier.h).
#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "policy/classifier.h"
#include "policy/explain.h"
#include "supervisor/commands.h"
#include "supervisor/governance/task_identity.h"

namespace tollgate {
namespace {

using Json = nlohmann::json;

int Fail(const std::string& message) {
  std::cerr << "tollgate: " << message << "\n";
  return kExitInvalid;
}

std::string Join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

std::string EscalationText(const policy::Escalation& e) {
  std::vector<std::string> over;
  auto add = [&](std::uint64_t n, const char* one, const char* many) {
    if (n) over.push_back(std::to_string(n) + " " + (n == 1 ? one : many));
  };
  add(e.files, "file", "files");
  add(e.lines, "line", "lines");
  add(e.modules, "module", "modules");
  add(e.new_directories, "new directory", "new directories");
  if (over.empty() || e.to.empty()) return "none (the widest class)";
  return "a diff over " + Join(over, ", ") + " raises it to " + e.to;
}

}  // namespace

CLI::App* AddClassifyCommand(CLI::App* app, ClassifyArgs* args) {
  CLI::App* cmd = app->add_subcommand(
      "classify", "Show the class a task is routed to, the rule that decided, and its task key");
  cmd->add_option("text", args->text, "The task, as text (its title)");
  cmd->add_option("--task-file", args->task_file,
                  "A task file: JSON with title, description, kind, scope, phase, base");
  cmd->add_option("--classes", args->classes_file,
                  "The classes file (default: classes.json on the profile search path)");
  cmd->add_flag("--json", args->json, "Print the classification as JSON");
  return cmd;
}

int ClassifyCommand(const ClassifyArgs& args) {
  if (args.text.empty() == args.task_file.empty()) {
    std::cerr << "tollgate classify: give the task as TEXT or --task-file FILE (one of them)\n";
    return kExitUsage;
  }
  policy::TaskSpec task;
  std::string error;
  if (!args.task_file.empty()) {
    if (!governance::ReadTaskFile(args.task_file, &task, &error)) return Fail(error);
  } else {
    task.title = args.text;
  }
  std::optional<governance::LoadedClasses> loaded =
      governance::LoadClasses(args.classes_file, &error);
  if (!loaded) return Fail(error);
  const policy::Classes& classes = loaded->classes;
  const std::string& classes_file = loaded->file;
  std::optional<governance::IdentifiedTask> identified =
      governance::IdentifyTask(task, classes, &error);
  if (!identified) return Fail(error);
  const policy::Classification& result = identified->classification;
  const policy::TaskClass& chosen = *result.task_class;
  const std::vector<std::string>& scope = identified->scope;
  const std::string& profile_digest = identified->profile_digest;
  const std::string& text = identified->text;
  const std::string& key = identified->key;
  const policy::QuotaTier* tier = classes.FindTier(chosen.tier);

  if (args.json) {
    Json out = {{"class", chosen.name},
                {"description", chosen.description},
                {"rule", result.rule},
                {"matched", result.matched},
                {"why", result.why},
                {"profile", chosen.profile},
                {"profile_file", identified->profile_file},
                {"profile_digest", profile_digest},
                {"phases", chosen.phases},
                {"evidence", chosen.evidence},
                {"escalation",
                 {{"files", chosen.escalation.files},
                  {"lines", chosen.escalation.lines},
                  {"modules", chosen.escalation.modules},
                  {"new_directories", chosen.escalation.new_directories},
                  {"to", chosen.escalation.to}}},
                {"scope", scope},
                {"phase", task.phase},
                {"base", task.base},
                {"text", text},
                {"key", key},
                {"classes_file", classes_file}};
    if (tier != nullptr) {
      out["tier"] = {{"name", tier->name},
                     {"memory", tier->memory},
                     {"processes", tier->processes},
                     {"cpu_seconds", tier->cpu_seconds},
                     {"wall_seconds", tier->wall_seconds}};
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "class       " << chosen.name << " — " << chosen.description << "\n";
  std::cout << "rule        " << result.rule;
  if (!result.matched.empty()) std::cout << " (matched \"" << result.matched << "\")";
  std::cout << ": " << result.why << "\n";
  std::cout << "profile     " << chosen.profile << " (" << identified->profile_file << ")\n";
  if (tier != nullptr) {
    std::cout << "tier        " << tier->name << ": memory " << policy::FormatBytes(tier->memory)
              << ", " << tier->processes << " processes, CPU "
              << policy::FormatSeconds(tier->cpu_seconds) << ", wall clock "
              << policy::FormatSeconds(tier->wall_seconds) << "\n";
  }
  std::cout << "phases      " << Join(chosen.phases, " → ") << "\n";
  std::cout << "evidence    " << Join(chosen.evidence, ", ") << "\n";
  std::cout << "escalation  " << EscalationText(chosen.escalation) << "\n";
  std::cout << "scope       " << (scope.empty() ? "the whole workspace" : Join(scope, ", "))
            << "\n";
  if (!task.base.empty()) std::cout << "base        " << task.base << "\n";
  std::cout << "key         " << key << "\n";
  return 0;
}

}  // namespace tollgate
