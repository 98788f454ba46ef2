// Task classification: a task's text, kind and scope → a class (profile, quota tier, phase path,
// evidence, escalation thresholds), by ordered rules read from profiles/classes.json.
//
// Deterministic and explainable: the first rule that matches decides, and the result names the
// rule, the phrase or scope that matched, and why. Phrases match whole words of the normalised
// text (ASCII lower case, "n't" read as " not"), so "fix" matches "Fix the parser" but not
// "prefix"; a phrase right after a negation ("do not publish", "never release", "skip the
// upgrade": not, no, never, without, skip, avoid within the three words before it) does not
// count. Pure: no I/O; the supervisor reads the file and hashes the task key's input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tollgate::policy {

// A task as given: `--task TEXT` (the title), or a task file (JSON: title, description, kind,
// scope, phase, base).
struct TaskSpec {
  std::string title;
  std::string description;
  std::string kind;                // a class name chosen by the dispatcher, or empty
  std::vector<std::string> scope;  // workspace-relative paths the task is about
  std::string phase;               // optional
  std::string base;                // the base revision, optional
};

struct QuotaTier {
  std::string name;
  std::uint64_t memory = 0;  // bytes
  std::uint64_t processes = 0;
  std::uint64_t cpu_seconds = 0;
  std::uint64_t wall_seconds = 0;
};

// A phase's diff over any of these raises the class to `to` (never lowers it). 0: no limit.
struct Escalation {
  std::uint64_t files = 0;
  std::uint64_t lines = 0;
  std::uint64_t modules = 0;  // top-level directories touched
  std::uint64_t new_directories = 0;
  std::string to;  // the class raised to; empty: none above
};

struct TaskClass {
  std::string name;
  std::string description;
  std::string profile;
  std::string tier;
  std::vector<std::string> phases;    // in order, e.g. plan, implement, review, ship
  std::vector<std::string> evidence;  // what a run must leave behind to be complete
  Escalation escalation;
};

// A phase of the phase paths: the profile it runs under and what it must leave behind. Empty
// profile or evidence: the class's own (the implement phase is the class's work).
struct PhaseSpec {
  std::string name;
  std::string description;
  std::string profile;
  std::vector<std::string> evidence;
};

// The evidence items a class or phase may require (policy/task_evidence.h says what each means).
const std::vector<std::string>& KnownEvidenceItems();

struct ClassRule {
  std::string id;
  std::string class_name;
  std::vector<std::string> phrases;      // any of them (whole words; "<version>" matches v1.2.3)
  std::vector<std::string> scope_under;  // every scope path lies under one of these
  std::string why;
};

struct Classes {
  std::vector<QuotaTier> tiers;
  std::vector<PhaseSpec> phases;
  std::vector<TaskClass> classes;
  std::vector<ClassRule> rules;
  std::string default_class;
  std::string default_why;
  const TaskClass* Find(std::string_view name) const;
  const QuotaTier* FindTier(std::string_view name) const;
  const PhaseSpec* FindPhase(std::string_view name) const;
  // The profile and the evidence of `phase` for class `c` (the phase's own, else the class's).
  std::string PhaseProfile(const TaskClass& c, std::string_view phase) const;
  std::vector<std::string> PhaseEvidence(const TaskClass& c, std::string_view phase) const;
};

struct ClassesError {
  std::string json_path;
  std::string message;
};

struct ClassesResult {
  std::optional<Classes> classes;
  std::vector<ClassesError> errors;  // every problem found; empty when classes is set
};

// Parses and checks the classes file: unknown keys, unknown classes or tiers named by rules and
// escalations, duplicate names and ids, empty phrases, a rule with neither phrases nor scope.
ClassesResult ParseClasses(std::string_view text);

struct Classification {
  const TaskClass* task_class = nullptr;
  std::string rule;     // the rule id, "kind" (the task named it) or "default"
  std::string matched;  // the phrase or scope that matched, as written in the rule
  std::string why;
  std::string error;  // the task names an unknown kind; task_class is null
};

Classification Classify(const Classes& classes, const TaskSpec& task);

// The task's text as it is keyed and matched: title and description joined by a newline, ASCII
// lower case, white space runs collapsed to one space, trimmed.
std::string NormaliseTaskText(const TaskSpec& task);

// Scope paths as keyed: without "./" and trailing "/", sorted, without duplicates. A path that is
// absolute or climbs out of the workspace ("..") is an error, returned in `error`.
std::vector<std::string> NormaliseScope(const std::vector<std::string>& scope, std::string* error);

// The canonical text the task key is the SHA-256 of: a JSON object with the class, the profile
// digest, the normalised scope and text, and the base revision, keys sorted, no white space.
std::string TaskKeyInput(const std::string& class_name, const std::string& profile_digest,
                         const std::vector<std::string>& scope, const std::string& text,
                         const std::string& base);

}  // namespace tollgate::policy
