#include "policy/tool_rules.h"

#include <fnmatch.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "policy/plan_compiler.h"

namespace tollgate::policy {
namespace {

bool Contains(const std::vector<std::string>& items, std::string_view item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

bool IsOptionToken(std::string_view token) {
  return token.size() > 1 && token[0] == '-';
}

std::string_view EnvName(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

// A checked option given a value that is not on its list, or none at all.
struct RefusedValue {
  std::string option;
  std::optional<std::string> value;  // none: the call ended after the option
};

// Where the sub-command is, or why it cannot be known.
struct SubcommandPosition {
  std::size_t index = 0;  // args.size() when there is none
  std::optional<std::string> unknown_option;
  std::optional<RefusedValue> refused;
};

bool OnCheckedList(const std::vector<std::string>& allowed, std::string_view value) {
  return std::any_of(allowed.begin(), allowed.end(),
                     [&](const std::string& pattern) { return SettingMatches(pattern, value); });
}

// One shell single-quoted word at `at` ('ab', 'a'\''b' for a'b), advancing `at` past it.
std::optional<std::string> QuotedWord(std::string_view text, std::size_t& at) {
  std::string word;
  if (at >= text.size() || text[at] != '\'') return std::nullopt;
  while (true) {
    std::size_t close = text.find('\'', at + 1);
    if (close == std::string_view::npos) return std::nullopt;
    word.append(text.substr(at + 1, close - at - 1));
    at = close + 1;
    // '\'' continues the word with a quote.
    if (text.substr(at, 3) != "\\''") return word;
    word.push_back('\'');
    at += 2;
  }
}

// The settings a variable of git's carries, as `-c` would give them ("key=value"), or nullopt
// when they cannot be read: GIT_CONFIG_PARAMETERS, or GIT_CONFIG_COUNT with its
// GIT_CONFIG_KEY_<i> and GIT_CONFIG_VALUE_<i> (whose names are added to `uses`).
std::optional<std::vector<std::string>> SettingsIn(
    const std::string& name, const std::map<std::string_view, std::string_view>& vars,
    std::vector<std::string>& uses) {
  auto value = vars.find(name);
  if (value == vars.end()) return std::nullopt;
  if (name == "GIT_CONFIG_PARAMETERS") return SplitConfigParameters(value->second);
  // GIT_CONFIG_COUNT: git reads exactly that many pairs and refuses a missing one.
  const std::string_view count_text = value->second;
  if (count_text.empty() || count_text.size() > 4 ||
      !std::all_of(count_text.begin(), count_text.end(),
                   [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  const int count = std::stoi(std::string(count_text));
  std::vector<std::string> settings;
  for (int i = 0; i < count; ++i) {
    const std::string key_name = "GIT_CONFIG_KEY_" + std::to_string(i);
    const std::string value_name = "GIT_CONFIG_VALUE_" + std::to_string(i);
    auto key = vars.find(key_name);
    auto val = vars.find(value_name);
    if (key == vars.end() || val == vars.end()) return std::nullopt;
    settings.push_back(std::string(key->second) + "=" + std::string(val->second));
    uses.push_back(key_name);
    uses.push_back(value_name);
  }
  return settings;
}

// The call's environment as rules see it: a variable a checked option names (and, for
// GIT_CONFIG_COUNT, the pairs it counts), whose settings are all on that option's list, is left
// out: it only carries what `-c` may carry.
std::vector<std::string> EnvForRules(const SubcommandGrammar& grammar,
                                     const std::vector<std::string>& env) {
  // A name given twice is never left out: which of the two a program reads is its own affair.
  std::map<std::string_view, std::string_view> vars;
  std::set<std::string_view> twice;
  for (const std::string& entry : env) {
    std::string_view name = EnvName(entry);
    if (!vars.emplace(name, std::string_view(entry).substr(std::min(entry.size(), name.size() + 1)))
             .second)
      twice.insert(name);
  }
  for (std::string_view name : twice) vars.erase(name);
  std::set<std::string> listed;  // variables to leave out
  for (const auto& [option, checked] : grammar.checked_values) {
    for (const std::string& name : checked.env) {
      std::vector<std::string> uses = {name};
      std::optional<std::vector<std::string>> settings = SettingsIn(name, vars, uses);
      if (settings && std::all_of(settings->begin(), settings->end(), [&](const std::string& s) {
            return OnCheckedList(checked.values, s);
          }))
        listed.insert(uses.begin(), uses.end());
    }
  }
  if (listed.empty()) return env;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const std::string& entry : env) {
    if (!listed.count(std::string(EnvName(entry)))) out.push_back(entry);
  }
  return out;
}

SubcommandPosition FindSubcommand(const SubcommandGrammar& grammar,
                                  const std::vector<std::string>& args) {
  SubcommandPosition position;
  std::size_t i = 0;
  // The name of a long option given as "--name=value", when `has(name)`; otherwise empty.
  auto long_name_in = [](const std::string& token, const auto& has) -> std::string_view {
    std::size_t eq = token.find('=');
    if (!token.starts_with("--") || eq == std::string::npos) return {};
    std::string_view name = std::string_view(token).substr(0, eq);
    return has(name) ? name : std::string_view();
  };
  auto is_value_option = [&](std::string_view name) {
    return Contains(grammar.value_options, name);
  };
  auto is_checked = [&](std::string_view name) {
    return grammar.checked_values.count(std::string(name)) > 0;
  };
  while (i < args.size() && IsOptionToken(args[i])) {
    const std::string& token = args[i];
    if (token == "--") {  // nothing after it is an option; the next token is the sub-command
      ++i;
      break;
    }
    if (Contains(grammar.flags, token)) {
      ++i;
    } else if (Contains(grammar.value_options, token)) {
      i += 2;
    } else if (!long_name_in(token, is_value_option).empty()) {
      ++i;
    } else if (auto checked = grammar.checked_values.find(token);
               checked != grammar.checked_values.end()) {
      // The value is the next token, whatever it looks like (git's `-c` takes it so); a short
      // option never takes its value glued on ("-ckey=value" is unknown, as it is to git).
      if (i + 1 >= args.size() || !OnCheckedList(checked->second.values, args[i + 1])) {
        position.refused = RefusedValue{
            token, i + 1 < args.size() ? std::optional<std::string>(args[i + 1]) : std::nullopt};
        position.index = i;
        return position;
      }
      i += 2;
    } else if (std::string_view name = long_name_in(token, is_checked); !name.empty()) {
      std::string_view value = std::string_view(token).substr(name.size() + 1);
      if (!OnCheckedList(grammar.checked_values.at(std::string(name)).values, value)) {
        position.refused = RefusedValue{std::string(name), std::string(value)};
        position.index = i;
        return position;
      }
      ++i;
    } else {
      position.unknown_option = token;
      position.index = i;
      return position;
    }
  }
  position.index = std::min(i, args.size());
  return position;
}

bool ArgsMatch(const ToolRule& rule, const std::vector<std::string>& args, std::size_t from) {
  std::size_t available = args.size() - std::min(from, args.size());
  if (available < rule.args.size()) return false;
  if (!rule.args_rest && available != rule.args.size()) return false;
  for (std::size_t i = 0; i < rule.args.size(); ++i) {
    const std::string& token = args[from + i];
    bool any = std::any_of(rule.args[i].begin(), rule.args[i].end(),
                           [&](const std::string& pattern) { return GlobMatches(pattern, token); });
    if (!any) return false;
  }
  return true;
}

// Option tokens: those starting with '-' before a "--" (after it everything is an operand). A
// "--name=value" token is also tried as "--name".
bool OptionsMatch(const ToolRule& rule, const std::vector<std::string>& args) {
  for (const std::string& token : args) {
    if (token == "--") break;
    if (!IsOptionToken(token)) continue;
    std::string_view name = token;
    if (std::size_t eq = name.find('='); eq != std::string_view::npos) name = name.substr(0, eq);
    for (const std::string& pattern : rule.options) {
      if (GlobMatches(pattern, token) || GlobMatches(pattern, name)) return true;
    }
  }
  return false;
}

// "NAME" (a glob): the variable is set. "NAME=VALUE": set, and its value matches the glob VALUE.
// "NAME!=VALUE": set, and its value does not (git sets GIT_EXEC_PATH to its own directory for
// the commands it starts itself; only another value changes what runs).
bool EnvPatternMatches(std::string_view pattern, std::string_view entry) {
  std::string_view name = EnvName(entry);
  std::string_view value = entry.size() > name.size() ? entry.substr(name.size() + 1) : "";
  std::size_t eq = pattern.find('=');
  if (eq == std::string_view::npos) return GlobMatches(pattern, name);
  const bool negated = eq > 0 && pattern[eq - 1] == '!';
  std::string_view name_pattern = pattern.substr(0, negated ? eq - 1 : eq);
  if (!GlobMatches(name_pattern, name)) return false;
  return GlobMatches(pattern.substr(eq + 1), value) != negated;
}

bool EnvMatches(const ToolRule& rule, const std::vector<std::string>& env) {
  for (const std::string& entry : env) {
    for (const std::string& pattern : rule.env) {
      if (EnvPatternMatches(pattern, entry)) return true;
    }
  }
  return false;
}

bool StrictlyInside(std::string_view path, std::string_view root) {
  if (root == "/") return path.size() > 1 && path[0] == '/';
  return path.size() > root.size() && path.starts_with(root) && path[root.size()] == '/';
}

// Operands: tokens after `from` that are not options; after "--" every token is one.
bool SomePathOutside(const PathCondition& condition, const ToolCall& call,
                     const std::vector<std::string>& args, std::size_t from) {
  std::size_t skipped = 0;
  bool operands_only = false;
  for (std::size_t i = from; i < args.size(); ++i) {
    const std::string& token = args[i];
    if (!operands_only && token == "--") {
      operands_only = true;
      continue;
    }
    if (!operands_only && IsOptionToken(token)) continue;
    if (skipped < condition.skip) {
      ++skipped;
      continue;
    }
    std::string path = AbsoluteLexical(token, call.cwd);
    bool inside = std::any_of(condition.within.begin(), condition.within.end(),
                              [&](const std::string& root) { return StrictlyInside(path, root); });
    if (!inside) return true;
  }
  return false;
}

// A rule that runs on the host matches argv in full: its args start at argv[1], not at the
// sub-command, so an option before the sub-command that the rule does not spell out (git -C dir,
// --git-dir, --exec-path, -c …) keeps it from matching.
bool RuleMatches(const ToolRule& rule, const ToolCall& call, const std::vector<std::string>& args,
                 std::size_t subcommand_index, bool has_subcommand) {
  if (rule.run_on_host) subcommand_index = 0;
  if (rule.has_args && !ArgsMatch(rule, args, subcommand_index)) return false;
  if (!rule.options.empty() && !OptionsMatch(rule, args)) return false;
  if (!rule.env.empty() && !EnvMatches(rule, call.env)) return false;
  if (rule.paths_outside) {
    // Operands start after the tokens the rule's own pattern names (the sub-command and any
    // literal words after it), or after the sub-command.
    // A sub-command the rule does not name is not an operand either.
    std::size_t operands_from =
        subcommand_index + (rule.has_args
                                ? rule.args.size()
                                : (has_subcommand && subcommand_index < args.size() ? 1 : 0));
    if (!SomePathOutside(*rule.paths_outside, call, args, operands_from)) return false;
  }
  return true;
}

}  // namespace

const char* ToolVerdictName(ToolVerdict verdict) {
  switch (verdict) {
    case ToolVerdict::kAllow:
      return "allow";
    case ToolVerdict::kAsk:
      return "ask";
    case ToolVerdict::kDeny:
      return "deny";
  }
  return "deny";
}

std::optional<ToolVerdict> ParseToolVerdict(std::string_view text) {
  if (text == "allow") return ToolVerdict::kAllow;
  if (text == "ask") return ToolVerdict::kAsk;
  if (text == "deny") return ToolVerdict::kDeny;
  return std::nullopt;
}

std::string CanonicalSettingKey(std::string_view key) {
  std::string canonical(key);
  auto lower = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i) {
      // ASCII only, as git folds them: a section or a name with other bytes is not a key to git.
      if (canonical[i] >= 'A' && canonical[i] <= 'Z') canonical[i] = char(canonical[i] - 'A' + 'a');
    }
  };
  std::size_t first = canonical.find('.');
  if (first == std::string::npos) {
    lower(0, canonical.size());  // no section: git refuses the key; folded all the same
  } else {
    lower(0, first);
    lower(canonical.rfind('.') + 1, canonical.size());
  }
  return canonical;
}

bool SettingMatches(std::string_view pattern, std::string_view setting) {
  std::size_t pattern_eq = pattern.find('=');
  std::size_t setting_eq = setting.find('=');
  if ((pattern_eq == std::string_view::npos) != (setting_eq == std::string_view::npos))
    return false;
  if (!GlobMatches(pattern.substr(0, pattern_eq),
                   CanonicalSettingKey(setting.substr(0, setting_eq))))
    return false;
  if (pattern_eq == std::string_view::npos) return true;
  return GlobMatches(pattern.substr(pattern_eq + 1), setting.substr(setting_eq + 1));
}

bool GlobMatches(std::string_view pattern, std::string_view text) {
  // Literal fast path: most patterns are plain words.
  if (pattern.find_first_of("*?[\\") == std::string_view::npos) return pattern == text;
  return ::fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

std::string AbsoluteLexical(std::string_view path, std::string_view cwd) {
  std::filesystem::path joined = (!path.empty() && path[0] == '/')
                                     ? std::filesystem::path(path)
                                     : std::filesystem::path(cwd) / std::filesystem::path(path);
  std::string normal = joined.lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal.empty() ? "/" : normal;
}

const ToolSpec* FindToolByName(const std::map<std::string, ToolSpec>& tools,
                               std::string_view invoked_as) {
  if (auto it = tools.find(std::string(invoked_as)); it != tools.end()) return &it->second;
  for (const auto& [name, tool] : tools) {
    if (tool.subcommand && !tool.subcommand->dashed_prefix.empty() &&
        invoked_as.size() > tool.subcommand->dashed_prefix.size() &&
        invoked_as.starts_with(tool.subcommand->dashed_prefix)) {
      return &tool;
    }
  }
  return nullptr;
}

std::optional<std::vector<std::string>> SplitConfigParameters(std::string_view text) {
  std::vector<std::string> settings;
  std::size_t at = 0;
  while (true) {
    while (at < text.size() && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n')) ++at;
    if (at >= text.size()) return settings;
    std::optional<std::string> key = QuotedWord(text, at);
    if (!key) return std::nullopt;
    if (at < text.size() && text[at] == '=') {  // 'key'='value'
      ++at;
      std::optional<std::string> value = QuotedWord(text, at);
      if (!value) return std::nullopt;
      *key += "=" + *value;
    }
    if (at < text.size() && text[at] != ' ' && text[at] != '\t' && text[at] != '\n')
      return std::nullopt;
    settings.push_back(std::move(*key));
  }
}

ToolDecision DecideToolCall(const ToolSpec& tool, const ToolCall& call) {
  ToolDecision decision;
  // The call as the program will see it: argv[0] is the tool's name, and a dashed start is
  // spelled out, because multi-call programs (git) choose what to run by argv[0].
  std::vector<std::string> args;
  if (tool.subcommand && !tool.subcommand->dashed_prefix.empty() && call.invoked_as != tool.name &&
      call.invoked_as.size() > tool.subcommand->dashed_prefix.size() &&
      call.invoked_as.starts_with(tool.subcommand->dashed_prefix)) {
    args.push_back(call.invoked_as.substr(tool.subcommand->dashed_prefix.size()));
  }
  args.insert(args.end(), call.args.begin(), call.args.end());
  decision.argv.reserve(args.size() + 1);
  decision.argv.push_back(tool.name);
  decision.argv.insert(decision.argv.end(), args.begin(), args.end());

  std::size_t subcommand_index = 0;
  if (tool.subcommand) {
    SubcommandPosition position = FindSubcommand(*tool.subcommand, args);
    if (position.unknown_option) {
      decision.verdict = ToolVerdict::kDeny;
      decision.rule = "grammar";
      decision.reason = "the option " + *position.unknown_option + " before the sub-command is " +
                        "not in the profile's grammar for " + tool.name +
                        ", so the sub-command it selects cannot be known";
      return decision;
    }
    if (position.refused) {
      decision.verdict = ToolVerdict::kDeny;
      decision.rule = "grammar";
      const RefusedValue& refused = *position.refused;
      const std::string& why = tool.subcommand->checked_values.at(refused.option).why;
      decision.reason =
          (refused.value ? "the option " + refused.option + " " + *refused.value +
                               " before the sub-command is not on the allowed list of the "
                               "profile's grammar for " +
                               tool.name
                         : "the option " + refused.option +
                               " before the sub-command has no value, and it is taken only with "
                               "a value on the allowed list of the profile's grammar for " +
                               tool.name) +
          (why.empty() ? "" : ": " + why);
      return decision;
    }
    subcommand_index = position.index;
    if (subcommand_index < args.size()) decision.subcommand = args[subcommand_index];
  }

  const ToolRule* best = nullptr;
  // A host rule that would match from the sub-command on, but not in full: the call has options
  // before the sub-command that the rule does not spell out.
  const ToolRule* host_near_miss = nullptr;
  auto choose = [&](const ToolCall& matched) {
    best = nullptr;
    host_near_miss = nullptr;
    for (const ToolRule& rule : tool.rules) {
      if (!RuleMatches(rule, matched, args, subcommand_index, tool.subcommand.has_value())) {
        if (rule.run_on_host && rule.verdict != ToolVerdict::kDeny && subcommand_index > 0 &&
            host_near_miss == nullptr) {
          ToolRule from_subcommand = rule;
          from_subcommand.run_on_host = false;
          if (RuleMatches(from_subcommand, matched, args, subcommand_index, true))
            host_near_miss = &rule;
        }
        continue;
      }
      // Strictest wins; among equals the first, except that a rule that runs on the host (which
      // matches its argv in full) is preferred to a general allow.
      if (best == nullptr || rule.verdict > best->verdict ||
          (rule.verdict == best->verdict && rule.run_on_host && !best->run_on_host)) {
        best = &rule;
      }
    }
  };
  // Settings git hands on in its environment (a git started by `git -c …`, or a caller that sets
  // GIT_CONFIG_PARAMETERS itself) count as set only when some are off the `-c` list. Never for a
  // call that would run on the host: there the environment is matched as it is, as are the
  // options before the sub-command.
  if (tool.subcommand && !tool.subcommand->checked_values.empty()) {
    ToolCall checked_call = call;
    checked_call.env = EnvForRules(*tool.subcommand, call.env);
    choose(checked_call);
    if ((best != nullptr && best->run_on_host) || host_near_miss != nullptr) choose(call);
  } else {
    choose(call);
  }
  if (host_near_miss != nullptr && (best == nullptr || best->verdict != ToolVerdict::kDeny)) {
    // Meant for the host, where the credentials are: refused rather than run in a form the rule
    // does not name (on the host, or in the sandbox by a more general rule).
    std::string before, rest;
    for (std::size_t i = 0; i < args.size(); ++i) {
      std::string& into = i < subcommand_index ? before : rest;
      into += (into.empty() ? "" : " ") + args[i];
    }
    decision.verdict = ToolVerdict::kDeny;
    decision.rule = "host-options";
    decision.reason = "rule " + host_near_miss->id + " runs " + tool.name +
                      " on the host, where a call must match its rule in full, and `" + before +
                      "` before the sub-command is not part of it; run `" + tool.name + " " + rest +
                      "` without it (a profile that means to allow it spells it out at the start "
                      "of the rule's args)";
    return decision;
  }
  if (best == nullptr) {
    decision.verdict = tool.default_verdict;
    decision.rule = "default";
    decision.reason = tool.default_why;
    return decision;
  }
  decision.verdict = best->verdict;
  decision.rule = best->id;
  decision.reason = best->why;
  decision.run_on_host = best->run_on_host && best->verdict != ToolVerdict::kDeny;
  return decision;
}

bool IsGitTool(const ToolSpec& tool) {
  if (tool.name == "git") return true;
  if (tool.subcommand && tool.subcommand->dashed_prefix == "git-") return true;
  return std::any_of(tool.paths.begin(), tool.paths.end(), [](const PathEntry& entry) {
    return entry.path == "git" || entry.path.ends_with("/git");
  });
}

bool HasHostRules(const ToolSpec& tool) {
  return std::any_of(tool.rules.begin(), tool.rules.end(),
                     [](const ToolRule& rule) { return rule.run_on_host; });
}

std::string HostCallProblem(const ToolSpec& tool, const ToolDecision& decision) {
  auto rule = std::find_if(tool.rules.begin(), tool.rules.end(),
                           [&](const ToolRule& r) { return r.id == decision.rule; });
  if (!decision.run_on_host || rule == tool.rules.end() || !rule->run_on_host ||
      rule->verdict == ToolVerdict::kDeny) {
    return "the call was not decided by a rule that runs on the host";
  }
  if (!rule->has_args || rule->args_rest || decision.argv.empty() ||
      decision.argv.size() - 1 != rule->args.size()) {
    return "rule " + rule->id + " does not spell out this argv in full";
  }
  for (std::size_t i = 0; i < rule->args.size(); ++i) {
    // Literal words only: a host rule's alternatives are compared as text, never as globs.
    if (!Contains(rule->args[i], decision.argv[i + 1]))
      return "argument " + std::to_string(i + 1) + " (" + decision.argv[i + 1] +
             ") is not spelled out by rule " + rule->id;
  }
  return {};
}

HostInvocation PrepareHostInvocation(
    const ToolSpec& tool, const ToolDecision& decision,
    const std::function<std::optional<std::string>(const std::string&)>& supervisor_env) {
  HostInvocation out;
  if (std::string problem = HostCallProblem(tool, decision); !problem.empty()) {
    out.error = problem;
    return out;
  }
  const bool git = IsGitTool(tool);
  if (git) {
    const HostRepository& repo = tool.host_repository;
    if (!repo.resolved) {
      out.error =
          "the repository the host's git would use was not resolved before the run "
          "started";
      return out;
    }
    if (repo.git_dir.empty() || repo.common_dir.empty()) {
      out.error = repo.problem.empty() ? "there is no repository for the host's git" : repo.problem;
      return out;
    }
  }
  // The environment: host_env, never the agent's. The variables that choose git's repository
  // are the supervisor's to set, whatever host_env says.
  std::map<std::string, std::string> env;
  for (const auto& [name, value] : tool.host_env) {
    if (value.starts_with("$")) {
      if (std::optional<std::string> host = supervisor_env(value.substr(1))) env[name] = *host;
    } else {
      env[name] = value;
    }
  }
  if (env.count("PATH") == 0) env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  if (git) {
    env["GIT_DIR"] = tool.host_repository.git_dir;
    env["GIT_COMMON_DIR"] = tool.host_repository.common_dir;
  }
  for (const auto& [name, value] : env) out.env.push_back(name + "=" + value);

  out.argv.push_back(decision.argv[0]);
  if (git) {
    for (const char* option : kHostGitOptions) {
      out.argv.push_back("-c");
      out.argv.push_back(option);
    }
  }
  out.argv.insert(out.argv.end(), decision.argv.begin() + 1, decision.argv.end());
  return out;
}

ToolSpec ExpandToolSpec(const ToolSpec& tool, const PlanContext& context) {
  ToolSpec expanded = tool;
  auto expand = [&](std::string& text) { text = ExpandPlaceholders(text, context); };
  for (PathEntry& entry : expanded.paths) expand(entry.path);
  for (PathEntry& entry : expanded.alias_dirs) expand(entry.path);
  for (ToolRule& rule : expanded.rules) {
    if (!rule.paths_outside) continue;
    // A root whose placeholder has no value here is dropped, not turned into "/": fewer roots
    // is stricter, "/" would let every path through.
    std::vector<std::string> roots;
    for (std::string root : rule.paths_outside->within) {
      expand(root);
      if (root.empty() || root[0] != '/') continue;
      roots.push_back(AbsoluteLexical(root, "/"));
    }
    rule.paths_outside->within = std::move(roots);
  }
  for (auto& [name, value] : expanded.host_env) expand(value);
  expand(expanded.host_cwd);
  return expanded;
}

PlanContext ExampleContext() {
  PlanContext context;
  context.workspace = "/workspace";
  context.home = "/home/agent";
  context.tmp = "/tmp";
  context.cache = "/home/agent/.cache";
  return context;
}

std::vector<ExampleFailure> CheckToolExamples(const std::map<std::string, ToolSpec>& tools,
                                              const std::vector<ToolExample>& examples) {
  const PlanContext values = ExampleContext();
  std::vector<ExampleFailure> failures;
  std::map<std::string, ToolSpec> expanded;
  for (const ToolExample& example : examples) {
    if (example.argv.empty()) continue;  // the loader reports it
    std::string first = example.argv[0];
    std::string invoked_as = first.substr(first.rfind('/') + 1);
    // A path names its tool as the broker finds it, by the paths listed; a name by FindToolByName.
    const ToolSpec* tool = nullptr;
    if (!first.empty() && first[0] == '/') {
      for (const auto& [name, candidate] : tools) {
        for (const PathEntry& path : candidate.paths) {
          if (ExpandPlaceholders(path.path, values) == first) tool = &candidate;
        }
      }
    }
    if (tool == nullptr) tool = FindToolByName(tools, invoked_as);
    if (tool == nullptr) {
      failures.push_back({&example, "no tool named " + invoked_as + " in this profile"});
      continue;
    }
    auto it = expanded.find(tool->name);
    if (it == expanded.end())
      it = expanded.emplace(tool->name, ExpandToolSpec(*tool, values)).first;
    ToolCall call;
    call.invoked_as = invoked_as;
    for (std::size_t i = 1; i < example.argv.size(); ++i)
      call.args.push_back(ExpandPlaceholders(example.argv[i], values));
    call.cwd = AbsoluteLexical(
        ExpandPlaceholders(example.cwd.empty() ? "{workspace}" : example.cwd, values), "/");
    for (const std::string& entry : example.env)
      call.env.push_back(ExpandPlaceholders(entry, values));
    ToolDecision decision = DecideToolCall(it->second, call);
    bool verdict_ok = decision.verdict == example.expect;
    bool rule_ok = example.rule.empty() || decision.rule == example.rule;
    if (verdict_ok && rule_ok) continue;
    std::string call_text;
    for (const std::string& token : example.argv)
      call_text += (call_text.empty() ? "" : " ") + token;
    failures.push_back(
        {&example, "\"" + call_text + "\" is expected to be " + ToolVerdictName(example.expect) +
                       (example.rule.empty() ? "" : " by rule " + example.rule) + ", but rule " +
                       decision.rule + " decides " + ToolVerdictName(decision.verdict)});
  }
  return failures;
}

}  // namespace tollgate::policy
