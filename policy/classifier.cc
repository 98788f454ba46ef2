#include "policy/classifier.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "policy/profile_loader.h"

namespace tollgate::policy {
namespace {

using Json = nlohmann::json;

// ---------------------------------------------------------------- words

bool IsWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80;
}

std::string LowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A clause boundary in the word list: phrases never span one, and a negation does not reach
// across one ("do not release yet; review the changelog" reviews).
constexpr char kBoundary[] = ",";

// The words of lower-cased text: runs of letters and digits (and non-ASCII bytes), joined across
// '.', '-' and '_' between two of them ("package.json", "off-by-one", "v1.2.3" are one word);
// other punctuation that ends a clause (, ; : ! ? and a '.' not inside a word) is kBoundary.
// "n't" is read as " not", so that "don't publish" is a negated "publish".
std::vector<std::string> Words(std::string_view lower) {
  std::string text;
  text.reserve(lower.size());
  for (std::size_t i = 0; i < lower.size(); ++i) {
    if (lower.compare(i, 3, "n't") == 0 || lower.compare(i, 5, "n\u2019t") == 0) {
      text += " not";
      i += lower.compare(i, 3, "n't") == 0 ? 2 : 4;
      continue;
    }
    text += lower[i];
  }
  std::vector<std::string> words;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(std::move(current));
    current.clear();
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool joiner = (c == '.' || c == '-' || c == '_') && !current.empty() && i + 1 < text.size() &&
                  IsWordByte(text[i + 1]);
    if (IsWordByte(c) || joiner) {
      current += c;
      continue;
    }
    flush();
    if (std::string_view(",;:!?.").find(c) != std::string_view::npos &&
        (words.empty() || words.back() != kBoundary))
      words.push_back(kBoundary);
  }
  flush();
  return words;
}

// A rule's phrase as words: Words() of each space-separated part, "<version>" kept as it is.
std::vector<std::string> PhraseWords(const std::string& phrase) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < phrase.size()) {
    std::size_t end = phrase.find(' ', start);
    if (end == std::string::npos) end = phrase.size();
    std::string part = phrase.substr(start, end - start);
    if (part == "<version>") {
      out.push_back(part);
    } else {
      for (std::string& word : Words(part)) {
        if (word != kBoundary) out.push_back(std::move(word));
      }
    }
    start = end + 1;
  }
  return out;
}

bool IsVersion(const std::string& word) {
  std::size_t i = word.size() > 1 && word[0] == 'v' ? 1 : 0;
  bool digit = false, dot = false;
  for (; i < word.size(); ++i) {
    if (word[i] >= '0' && word[i] <= '9') {
      digit = true;
    } else if (word[i] == '.' && digit) {
      dot = true;
    } else {
      return false;
    }
  }
  return digit && dot;
}

bool WordMatches(const std::string& pattern, const std::string& word) {
  return pattern == "<version>" ? IsVersion(word) : pattern == word;
}

const std::set<std::string>& Negations() {
  static const std::set<std::string> words = {"not", "no", "never", "without", "skip", "avoid"};
  return words;
}

// Whether `phrase` occurs in `words` with no negation among the three words before it.
bool PhraseOccurs(const std::vector<std::string>& phrase, const std::vector<std::string>& words) {
  if (phrase.empty() || phrase.size() > words.size()) return false;
  for (std::size_t start = 0; start + phrase.size() <= words.size(); ++start) {
    bool match = true;
    for (std::size_t k = 0; k < phrase.size() && match; ++k)
      match = WordMatches(phrase[k], words[start + k]);
    if (!match) continue;
    bool negated = false;
    for (std::size_t back = 1; back <= 3 && back <= start; ++back) {
      if (words[start - back] == kBoundary) break;
      negated = negated || Negations().count(words[start - back]) != 0;
    }
    if (!negated) return true;
  }
  return false;
}

bool UnderPrefix(const std::string& path, const std::string& prefix) {
  std::string p = prefix;
  while (!p.empty() && p.back() == '/') p.pop_back();
  return path == p ||
         (path.size() > p.size() && path.compare(0, p.size(), p) == 0 && path[p.size()] == '/');
}

// ---------------------------------------------------------------- the file

class Parser {
 public:
  explicit Parser(std::vector<ClassesError>* errors) : errors_(errors) {}

  void Error(const std::string& path, const std::string& message) {
    errors_->push_back({path, message});
  }

  std::optional<std::string> String(const Json& value, const std::string& path) {
    if (value.is_string() && !value.get<std::string>().empty()) return value.get<std::string>();
    Error(path, "expected a non-empty string");
    return std::nullopt;
  }

  std::vector<std::string> Strings(const Json& value, const std::string& path) {
    std::vector<std::string> out;
    if (!value.is_array()) {
      Error(path, "expected an array of strings");
      return out;
    }
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (auto text = String(value[i], path + "/" + std::to_string(i))) out.push_back(*text);
    }
    return out;
  }

  std::uint64_t Count(const Json& value, const std::string& path) {
    if (value.is_number_unsigned()) return value.get<std::uint64_t>();
    Error(path, "expected a whole number (0: no limit)");
    return 0;
  }

  void Unknown(const Json& object, const std::string& path, const std::set<std::string>& known) {
    for (const auto& [key, member] : object.items()) {
      if (!known.count(key)) Error(path + "/" + key, "unknown key \"" + key + "\"");
    }
  }

  QuotaTier Tier(const std::string& name, const Json& value, const std::string& path) {
    QuotaTier tier;
    tier.name = name;
    if (!value.is_object()) {
      Error(path, "expected an object with memory, processes, cpu, wall");
      return tier;
    }
    Unknown(value, path, {"memory", "processes", "cpu", "wall"});
    auto size = [&](const char* key, std::uint64_t* into, bool duration) {
      if (!value.contains(key)) {
        Error(path, std::string("missing \"") + key + "\"");
        return;
      }
      const Json& v = value[key];
      std::optional<std::uint64_t> parsed;
      if (v.is_number_unsigned()) parsed = v.get<std::uint64_t>();
      if (v.is_string())
        parsed = duration ? ParseDuration(v.get<std::string>()) : ParseSize(v.get<std::string>());
      if (!parsed || *parsed == 0) {
        Error(path + "/" + key, duration ? "expected a duration such as \"30m\""
                                         : "expected a size such as \"2G\" or a count");
        return;
      }
      *into = *parsed;
    };
    size("memory", &tier.memory, false);
    size("processes", &tier.processes, false);
    size("cpu", &tier.cpu_seconds, true);
    size("wall", &tier.wall_seconds, true);
    return tier;
  }

  TaskClass Class(const Json& value, const std::string& path) {
    TaskClass c;
    if (!value.is_object()) {
      Error(path, "expected an object");
      return c;
    }
    Unknown(value, path,
            {"name", "description", "profile", "tier", "phases", "evidence", "escalation"});
    for (const char* key : {"name", "description", "profile", "tier", "phases"}) {
      if (!value.contains(key)) Error(path, std::string("missing \"") + key + "\"");
    }
    if (value.contains("name")) c.name = String(value["name"], path + "/name").value_or("");
    if (value.contains("description"))
      c.description = String(value["description"], path + "/description").value_or("");
    if (value.contains("profile"))
      c.profile = String(value["profile"], path + "/profile").value_or("");
    if (value.contains("tier")) c.tier = String(value["tier"], path + "/tier").value_or("");
    if (value.contains("phases")) c.phases = Strings(value["phases"], path + "/phases");
    if (value.contains("evidence")) c.evidence = Strings(value["evidence"], path + "/evidence");
    if (value.contains("escalation")) {
      const Json& e = value["escalation"];
      const std::string at = path + "/escalation";
      if (!e.is_object()) {
        Error(at, "expected an object");
      } else {
        Unknown(e, at, {"files", "lines", "modules", "new_directories", "to"});
        if (e.contains("files")) c.escalation.files = Count(e["files"], at + "/files");
        if (e.contains("lines")) c.escalation.lines = Count(e["lines"], at + "/lines");
        if (e.contains("modules")) c.escalation.modules = Count(e["modules"], at + "/modules");
        if (e.contains("new_directories"))
          c.escalation.new_directories = Count(e["new_directories"], at + "/new_directories");
        if (e.contains("to")) c.escalation.to = String(e["to"], at + "/to").value_or("");
      }
    }
    return c;
  }

  ClassRule Rule(const Json& value, const std::string& path) {
    ClassRule r;
    if (!value.is_object()) {
      Error(path, "expected an object");
      return r;
    }
    Unknown(value, path, {"id", "class", "phrases", "scope_under", "why"});
    for (const char* key : {"id", "class", "why"}) {
      if (!value.contains(key)) Error(path, std::string("missing \"") + key + "\"");
    }
    if (value.contains("id")) r.id = String(value["id"], path + "/id").value_or("");
    if (value.contains("class"))
      r.class_name = String(value["class"], path + "/class").value_or("");
    if (value.contains("why")) r.why = String(value["why"], path + "/why").value_or("");
    if (value.contains("phrases")) {
      for (const std::string& phrase : Strings(value["phrases"], path + "/phrases")) {
        std::string lower = LowerAscii(phrase);
        if (lower != phrase)
          Error(path + "/phrases", "phrase \"" + phrase +
                                       "\" must be lower case (text is matched "
                                       "lower-cased)");
        r.phrases.push_back(lower);
      }
    }
    if (value.contains("scope_under"))
      r.scope_under = Strings(value["scope_under"], path + "/scope_under");
    if (r.phrases.empty() && r.scope_under.empty())
      Error(path, "a rule needs \"phrases\" or \"scope_under\"");
    return r;
  }

 private:
  std::vector<ClassesError>* errors_;
};

}  // namespace

const std::vector<std::string>& KnownEvidenceItems() {
  static const std::vector<std::string> kItems = {"exit_status",  "git_head",  "diff",
                                                  "test_results", "artifacts", "plan"};
  return kItems;
}

const PhaseSpec* Classes::FindPhase(std::string_view name) const {
  for (const PhaseSpec& phase : phases) {
    if (phase.name == name) return &phase;
  }
  return nullptr;
}

std::string Classes::PhaseProfile(const TaskClass& c, std::string_view phase) const {
  const PhaseSpec* spec = FindPhase(phase);
  return spec && !spec->profile.empty() ? spec->profile : c.profile;
}

std::vector<std::string> Classes::PhaseEvidence(const TaskClass& c, std::string_view phase) const {
  const PhaseSpec* spec = FindPhase(phase);
  return spec && !spec->evidence.empty() ? spec->evidence : c.evidence;
}

const TaskClass* Classes::Find(std::string_view name) const {
  for (const TaskClass& c : classes) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const QuotaTier* Classes::FindTier(std::string_view name) const {
  for (const QuotaTier& t : tiers) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

ClassesResult ParseClasses(std::string_view text) {
  ClassesResult result;
  Json document = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    result.errors.push_back({"", "not a JSON object"});
    return result;
  }
  Parser p(&result.errors);
  p.Unknown(document, "", {"description", "tiers", "phases", "classes", "rules", "default"});
  Classes classes;
  if (document.contains("phases") && document["phases"].is_object()) {
    for (const auto& [name, value] : document["phases"].items()) {
      const std::string path = "/phases/" + name;
      PhaseSpec phase;
      phase.name = name;
      if (!value.is_object()) {
        p.Error(path, "expected an object with description, and optionally profile and evidence");
        continue;
      }
      p.Unknown(value, path, {"description", "profile", "evidence"});
      if (value.contains("description"))
        phase.description = p.String(value["description"], path + "/description").value_or("");
      else
        p.Error(path, "missing \"description\"");
      if (value.contains("profile"))
        phase.profile = p.String(value["profile"], path + "/profile").value_or("");
      if (value.contains("evidence"))
        phase.evidence = p.Strings(value["evidence"], path + "/evidence");
      classes.phases.push_back(std::move(phase));
    }
  } else {
    p.Error("/phases", "expected an object of phases (plan, implement, review, ship, …)");
  }
  if (document.contains("tiers") && document["tiers"].is_object()) {
    for (const auto& [name, value] : document["tiers"].items())
      classes.tiers.push_back(p.Tier(name, value, "/tiers/" + name));
  } else {
    p.Error("/tiers", "expected an object of quota tiers");
  }
  if (document.contains("classes") && document["classes"].is_array()) {
    const Json& list = document["classes"];
    for (std::size_t i = 0; i < list.size(); ++i)
      classes.classes.push_back(p.Class(list[i], "/classes/" + std::to_string(i)));
  } else {
    p.Error("/classes", "expected an array of classes");
  }
  if (document.contains("rules") && document["rules"].is_array()) {
    const Json& list = document["rules"];
    for (std::size_t i = 0; i < list.size(); ++i)
      classes.rules.push_back(p.Rule(list[i], "/rules/" + std::to_string(i)));
  } else {
    p.Error("/rules", "expected an array of rules");
  }
  if (document.contains("default") && document["default"].is_object()) {
    const Json& d = document["default"];
    p.Unknown(d, "/default", {"class", "why"});
    if (d.contains("class"))
      classes.default_class = p.String(d["class"], "/default/class").value_or("");
    if (d.contains("why")) classes.default_why = p.String(d["why"], "/default/why").value_or("");
    if (!d.contains("class") || !d.contains("why"))
      p.Error("/default", "needs \"class\" and \"why\"");
  } else {
    p.Error("/default", "expected {\"class\": …, \"why\": …}: the class when no rule matches");
  }

  // Cross-references, after everything is read.
  std::set<std::string> names;
  for (std::size_t i = 0; i < classes.classes.size(); ++i) {
    const TaskClass& c = classes.classes[i];
    const std::string path = "/classes/" + std::to_string(i);
    if (!c.name.empty() && !names.insert(c.name).second)
      p.Error(path + "/name", "duplicate class \"" + c.name + "\"");
    if (!c.tier.empty() && !classes.FindTier(c.tier))
      p.Error(path + "/tier", "unknown tier \"" + c.tier + "\"");
    if (!c.escalation.to.empty() && !classes.Find(c.escalation.to))
      p.Error(path + "/escalation/to", "unknown class \"" + c.escalation.to + "\"");
    std::set<std::string> seen;
    for (std::size_t j = 0; j < c.phases.size(); ++j) {
      if (!classes.FindPhase(c.phases[j]))
        p.Error(path + "/phases/" + std::to_string(j), "unknown phase \"" + c.phases[j] + "\"");
      if (!seen.insert(c.phases[j]).second)
        p.Error(path + "/phases/" + std::to_string(j), "phase \"" + c.phases[j] + "\" twice");
    }
    if (c.phases.empty() && !c.name.empty()) p.Error(path + "/phases", "a class needs a phase");
  }
  auto check_evidence = [&](const std::vector<std::string>& items, const std::string& path) {
    const std::vector<std::string>& known = KnownEvidenceItems();
    for (std::size_t j = 0; j < items.size(); ++j) {
      if (std::find(known.begin(), known.end(), items[j]) == known.end())
        p.Error(path + "/" + std::to_string(j),
                "unknown evidence \"" + items[j] +
                    "\" (known: exit_status, git_head, diff, test_results, artifacts, plan)");
    }
  };
  for (std::size_t i = 0; i < classes.classes.size(); ++i)
    check_evidence(classes.classes[i].evidence, "/classes/" + std::to_string(i) + "/evidence");
  for (const PhaseSpec& phase : classes.phases)
    check_evidence(phase.evidence, "/phases/" + phase.name + "/evidence");
  std::set<std::string> ids;
  for (std::size_t i = 0; i < classes.rules.size(); ++i) {
    const ClassRule& r = classes.rules[i];
    const std::string path = "/rules/" + std::to_string(i);
    if (!r.id.empty() && !ids.insert(r.id).second)
      p.Error(path + "/id", "duplicate rule id \"" + r.id + "\"");
    if (!r.class_name.empty() && !classes.Find(r.class_name))
      p.Error(path + "/class", "unknown class \"" + r.class_name + "\"");
  }
  if (!classes.default_class.empty() && !classes.Find(classes.default_class))
    p.Error("/default/class", "unknown class \"" + classes.default_class + "\"");
  if (result.errors.empty()) result.classes = std::move(classes);
  return result;
}

std::string NormaliseTaskText(const TaskSpec& task) {
  std::string joined = task.title;
  if (!task.description.empty()) joined += "\n" + task.description;
  std::string lower = LowerAscii(joined);
  std::string out;
  bool space = false;
  for (char c : lower) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::vector<std::string> NormaliseScope(const std::vector<std::string>& scope, std::string* error) {
  std::set<std::string> out;
  for (std::string path : scope) {
    while (path.rfind("./", 0) == 0) path.erase(0, 2);
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    bool climbs = path == ".." || path.rfind("../", 0) == 0 ||
                  path.find("/../") != std::string::npos ||
                  (path.size() >= 3 && path.compare(path.size() - 3, 3, "/..") == 0);
    if (path.empty() || path[0] == '/' || climbs) {
      *error = "scope path \"" + path + "\" must be relative to the workspace and stay inside it";
      return {};
    }
    out.insert(path);
  }
  return {out.begin(), out.end()};
}

Classification Classify(const Classes& classes, const TaskSpec& task) {
  Classification result;
  if (!task.kind.empty()) {
    result.task_class = classes.Find(task.kind);
    if (result.task_class == nullptr) {
      std::string known;
      for (const TaskClass& c : classes.classes) known += (known.empty() ? "" : ", ") + c.name;
      result.error = "unknown task kind \"" + task.kind + "\" (classes: " + known + ")";
      return result;
    }
    result.rule = "kind";
    result.matched = task.kind;
    result.why = "the task names its kind";
    return result;
  }
  const std::vector<std::string> words = Words(NormaliseTaskText(task));
  std::string scope_error;
  const std::vector<std::string> scope = NormaliseScope(task.scope, &scope_error);
  for (const ClassRule& rule : classes.rules) {
    std::string matched;
    bool phrases_ok = rule.phrases.empty();
    for (const std::string& phrase : rule.phrases) {
      if (PhraseOccurs(PhraseWords(phrase), words)) {
        phrases_ok = true;
        matched = phrase;
        break;
      }
    }
    bool scope_ok = rule.scope_under.empty();
    if (!scope_ok && !scope.empty()) {
      scope_ok = std::all_of(scope.begin(), scope.end(), [&](const std::string& path) {
        return std::any_of(rule.scope_under.begin(), rule.scope_under.end(),
                           [&](const std::string& prefix) { return UnderPrefix(path, prefix); });
      });
      if (scope_ok && matched.empty()) matched = "scope under " + rule.scope_under.front();
    }
    if (!phrases_ok || !scope_ok) continue;
    result.task_class = classes.Find(rule.class_name);
    result.rule = rule.id;
    result.matched = matched;
    result.why = rule.why;
    return result;
  }
  result.task_class = classes.Find(classes.default_class);
  result.rule = "default";
  result.why = classes.default_why;
  return result;
}

std::string TaskKeyInput(const std::string& class_name, const std::string& profile_digest,
                         const std::vector<std::string>& scope, const std::string& text,
                         const std::string& base) {
  // nlohmann::json keeps object keys sorted and dump() without indent has no white space: the
  // same inputs give the same bytes on every machine.
  Json input = {{"base", base},
                {"class", class_name},
                {"profile_digest", profile_digest},
                {"scope", scope},
                {"text", text}};
  return input.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace tollgate::policy
