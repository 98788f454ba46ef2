#include "supervisor/governance/task_identity.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "supervisor/audit/record.h"
#include "supervisor/profile_search.h"

namespace tollgate::governance {
namespace {

using Json = nlohmann::json;

std::optional<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

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

bool ReadTaskFile(const std::string& path, policy::TaskSpec* task, std::string* error) {
  std::optional<std::string> text = ReadText(path);
  if (!text) {
    *error = "cannot read the task file " + path;
    return false;
  }
  std::string problem;
  if (!ParseTaskFile(*text, task, &problem)) {
    *error = "task file " + path + ": " + problem;
    return false;
  }
  return true;
}

std::string FindClassesFile(const std::string& given) {
  if (!given.empty()) return given;
  for (const std::string& dir : ProfileSearchDirs()) {
    struct stat st {};
    if (::stat((dir + "/classes.json").c_str(), &st) == 0) return dir + "/classes.json";
  }
  return {};
}

std::optional<LoadedClasses> LoadClasses(const std::string& given, std::string* error) {
  LoadedClasses loaded;
  loaded.file = FindClassesFile(given);
  if (loaded.file.empty()) {
    *error = "no classes.json on the profile search path";
    return std::nullopt;
  }
  std::optional<std::string> text = ReadText(loaded.file);
  if (!text) {
    *error = "cannot read " + loaded.file;
    return std::nullopt;
  }
  policy::ClassesResult parsed = policy::ParseClasses(*text);
  if (!parsed.classes) {
    *error = loaded.file + " is invalid:";
    for (const policy::ClassesError& e : parsed.errors)
      *error += "\n  " + (e.json_path.empty() ? std::string("/") : e.json_path) + ": " + e.message;
    return std::nullopt;
  }
  loaded.classes = std::move(*parsed.classes);
  return loaded;
}

std::string ProfileDigest(const std::vector<std::string>& file_digests) {
  std::string all;
  for (const std::string& digest : file_digests) all += digest;
  return audit::Sha256Hex(all);
}

std::optional<IdentifiedTask> IdentifyTask(const policy::TaskSpec& task,
                                           const policy::Classes& classes, std::string* error) {
  IdentifiedTask out;
  out.task = task;
  std::string scope_error;
  out.scope = policy::NormaliseScope(task.scope, &scope_error);
  if (!scope_error.empty()) {
    *error = scope_error;
    return std::nullopt;
  }
  out.classification = policy::Classify(classes, task);
  if (!out.classification.error.empty()) {
    *error = out.classification.error;
    return std::nullopt;
  }
  const policy::TaskClass& chosen = *out.classification.task_class;
  // The key covers the profile as it is on this machine: its files' digest.
  std::vector<std::string> digests;
  policy::LoadResult profile = MakeProfileLoader(&digests).Load(chosen.profile);
  if (!profile.ok()) {
    std::string first = profile.errors.empty() ? "" : ": " + profile.errors[0].ToString();
    *error = "class " + chosen.name + " runs under profile " + chosen.profile +
             ", which cannot be loaded" + first;
    return std::nullopt;
  }
  out.profile_file = profile.profile->source_file;
  out.profile_digest = ProfileDigest(digests);
  out.text = policy::NormaliseTaskText(task);
  out.key = audit::Sha256Hex(
      policy::TaskKeyInput(chosen.name, out.profile_digest, out.scope, out.text, task.base));
  return out;
}

}  // namespace tollgate::governance
