// tollgate classify: which class a task is routed to, and why (policy/classifier.h).
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "policy/classifier.h"
#include "policy/explain.h"
#include "supervisor/audit/record.h"
#include "supervisor/commands.h"
#include "supervisor/profile_search.h"

namespace tollgate {
namespace {

using Json = nlohmann::json;

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The classes file: --classes, else the first classes.json on the profile search path.
std::string FindClassesFile(const std::string& given) {
  if (!given.empty()) return given;
  for (const std::string& dir : ProfileSearchDirs()) {
    struct stat st {};
    if (::stat((dir + "/classes.json").c_str(), &st) == 0) return dir + "/classes.json";
  }
  return {};
}

// A task file: {"title", "description", "kind", "scope": [...], "phase", "base"}; strict.
bool ParseTaskFile(const std::string& text, policy::TaskSpec* task, std::string* error) {
  Json document = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    *error = "not a JSON object";
    return false;
  }
  static const std::set<std::string> kStrings = {"title", "description", "kind", "phase", "base"};
  for (const auto& [key, value] : document.items()) {
    if (kStrings.count(key)) {
      if (!value.is_string()) {
        *error = "\"" + key + "\" must be a string";
        return false;
      }
    } else if (key == "scope") {
      if (!value.is_array() ||
          !std::all_of(value.begin(), value.end(), [](const Json& v) { return v.is_string(); })) {
        *error = "\"scope\" must be an array of workspace-relative paths";
        return false;
      }
    } else {
      *error = "unknown key \"" + key + "\" (known: title, description, kind, scope, phase, base)";
      return false;
    }
  }
  task->title = document.value("title", "");
  task->description = document.value("description", "");
  task->kind = document.value("kind", "");
  task->phase = document.value("phase", "");
  task->base = document.value("base", "");
  if (document.contains("scope")) task->scope = document["scope"].get<std::vector<std::string>>();
  if (task->title.empty() && task->description.empty()) {
    *error = "a task needs a \"title\" (or a \"description\")";
    return false;
  }
  return true;
}

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
  if (!args.task_file.empty()) {
    std::optional<std::string> text = ReadText(args.task_file);
    if (!text) return Fail("cannot read the task file " + args.task_file);
    std::string error;
    if (!ParseTaskFile(*text, &task, &error))
      return Fail("task file " + args.task_file + ": " + error);
  } else {
    task.title = args.text;
  }

  const std::string classes_file = FindClassesFile(args.classes_file);
  if (classes_file.empty()) return Fail("no classes.json on the profile search path");
  std::optional<std::string> classes_text = ReadText(classes_file);
  if (!classes_text) return Fail("cannot read " + classes_file);
  policy::ClassesResult parsed = policy::ParseClasses(*classes_text);
  if (!parsed.classes) {
    std::cerr << "tollgate: " << classes_file << " is invalid:\n";
    for (const policy::ClassesError& e : parsed.errors)
      std::cerr << "  " << (e.json_path.empty() ? "/" : e.json_path) << ": " << e.message << "\n";
    return kExitInvalid;
  }
  const policy::Classes& classes = *parsed.classes;

  std::string scope_error;
  std::vector<std::string> scope = policy::NormaliseScope(task.scope, &scope_error);
  if (!scope_error.empty()) return Fail(scope_error);
  policy::Classification result = policy::Classify(classes, task);
  if (!result.error.empty()) return Fail(result.error);
  const policy::TaskClass& chosen = *result.task_class;

  // The key covers the profile as it is on this machine: its files' digest.
  std::vector<std::string> digests;
  policy::LoadResult profile = MakeProfileLoader(&digests).Load(chosen.profile);
  if (!profile.ok()) {
    std::string first = profile.errors.empty() ? "" : ": " + profile.errors[0].ToString();
    return Fail("class " + chosen.name + " runs under profile " + chosen.profile +
                ", which cannot be loaded" + first);
  }
  std::string all;
  for (const std::string& digest : digests) all += digest;
  const std::string profile_digest = audit::Sha256Hex(all);
  const std::string text = policy::NormaliseTaskText(task);
  const std::string key =
      audit::Sha256Hex(policy::TaskKeyInput(chosen.name, profile_digest, scope, text, task.base));
  const policy::QuotaTier* tier = classes.FindTier(chosen.tier);

  if (args.json) {
    Json out = {{"class", chosen.name},
                {"description", chosen.description},
                {"rule", result.rule},
                {"matched", result.matched},
                {"why", result.why},
                {"profile", chosen.profile},
                {"profile_file", profile.profile->source_file},
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
  std::cout << "profile     " << chosen.profile << " (" << profile.profile->source_file << ")\n";
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
