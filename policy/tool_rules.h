// Mediated tools: what a profile says about each tool the agent may call (git, npm, rm, …), and
// the one decision function that answers every call to one of them.
//
// A call is decided on its argv, its working directory and its environment:
//   1. the sub-command is found behind the tool's global options (`git -C dir -c k=v push` is
//      `push`), with the option grammar the profile gives; an option the grammar does not know
//      stops the search and denies the call, because the sub-command can no longer be known;
//   2. every rule whose conditions all hold matches: argv patterns (literals, globs,
//      alternatives, "..." for any further tokens), options anywhere in argv, environment
//      variables that change what runs, and path operands outside the roots a rule names;
//   3. the strictest matching verdict wins (deny > ask > allow), the first of equals in profile
//      order; when nothing matches, the tool's default decides.
// The same function serves the supervisor's decision, `tollgate check`'s examples and the tests.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/profile_types.h"

namespace tollgate::policy {

// Ordered by strictness: a larger value is stricter.
enum class ToolVerdict : std::uint8_t { kAllow = 0, kAsk = 1, kDeny = 2 };
const char* ToolVerdictName(ToolVerdict verdict);  // "allow", "ask", "deny"
std::optional<ToolVerdict> ParseToolVerdict(std::string_view text);

// Path operands that must lie strictly inside one of `within` (a root itself is not inside it:
// `rm -rf .` at the workspace root is outside). The first `skip` operands are not paths (the
// mode of `chmod 644 file`).
struct PathCondition {
  std::vector<std::string> within;  // absolute; placeholders until expanded for a launch
  std::size_t skip = 0;
};

struct ToolRule {
  std::string id;  // unique within its tool; names the rule in decisions and records
  ToolVerdict verdict = ToolVerdict::kDeny;
  std::string why;  // the justification the agent is shown
  // Conditions; every one given must hold. A rule with none matches every call.
  bool has_args = false;
  // From the sub-command on; each token: alternatives. A rule that runs on the host matches from
  // argv[1] instead, options before the sub-command included: it spells out the whole call.
  std::vector<std::vector<std::string>> args;
  bool args_rest = false;                      // the pattern ended in "...": any further tokens
  std::vector<std::string> options;            // globs; any option token matching one
  std::vector<std::string> env;                // name globs; any variable set matching one
  std::optional<PathCondition> paths_outside;  // some path operand outside every root
  // The approved call runs on the host, outside the sandbox (the credential broker).
  bool run_on_host = false;
  SourceRef where;
};

// How to find a tool's sub-command: which options may come before it.
struct SubcommandGrammar {
  std::vector<std::string> flags;          // take no value: "--bare", "-p"
  std::vector<std::string> value_options;  // take the next token (or "=value"): "-C", "--git-dir"
  // Started under a name with this prefix, the rest of the name is the sub-command
  // (`git-push` is `git push`).
  std::string dashed_prefix;
  // Options that take a value only when it is on their list ("-c" → "core.hookspath=/dev/null",
  // "hook.*.enabled=false", …): some of git's `-c` settings only make git safer, others make it
  // run a program (core.pager, alias.*, core.sshCommand), so the option cannot be a plain value
  // option. A value off the list denies the call (rule grammar). See SettingMatches. Last in
  // the struct, so that {flags, value_options, prefix} still builds a grammar.
  struct CheckedOption {
    std::vector<std::string> values;  // setting globs, "key=value"
    std::string why;                  // what the list keeps out; a refused call is shown it
    // Environment variables that carry the same settings in the form git hands its `-c` on to
    // the programs it starts (GIT_CONFIG_PARAMETERS: 'key=value' 'key'='value' …). Such a
    // variable whose every setting is on the list is left out when rules match the call's
    // environment; one with a setting off the list, or that cannot be read, is matched as set.
    std::vector<std::string> env;
  };
  std::map<std::string, CheckedOption> checked_values;
};

// The repository the host's git is pinned to, for a git tool with rules that run on the host.
// Resolved by the supervisor from the host's view of `host_cwd` before the sandbox starts
// (supervisor/tool_paths.cc), never from files the agent can write while it runs: a `.git`
// directory is the repository itself (a `commondir` in it is refused, not followed); a `.git`
// file (a linked worktree or a submodule) is followed once, with the `commondir` of the
// directory it names.
struct HostRepository {
  bool resolved = false;   // the supervisor looked (false: it never did, and host calls fail)
  std::string git_dir;     // host path; empty when there is none
  std::string common_dir;  // host path: configuration, hooks, objects, refs
  std::string problem;     // why there is none, for the refusal
  // objects/info/alternates and http-alternates as they were at launch ("" when absent): a
  // different file at call time would lend the host's git objects from elsewhere on the host.
  std::string alternates;
  std::string http_alternates;
};

struct ToolSpec {
  std::string name;
  std::vector<PathEntry> paths;       // every path the tool lives at (missing ones are skipped)
  std::vector<PathEntry> alias_dirs;  // directories searched for hard links to those paths
  ToolVerdict default_verdict = ToolVerdict::kDeny;
  std::string default_why;
  std::optional<SubcommandGrammar> subcommand;
  std::vector<ToolRule> rules;
  // Calls a rule runs on the host get this environment ("$NAME": the supervisor's own NAME), not
  // the agent's, and run in host_cwd (default {workspace}), not in the agent's working directory:
  // a repository the agent made elsewhere would bring its own hooks and configuration.
  std::map<std::string, std::string> host_env;
  std::string host_cwd = "{workspace}";
  HostRepository host_repository;  // filled before launch for a git tool with host rules
  SourceRef where;
};

// One call as the shim reports it, reduced to what the decision needs.
// The settings of a GIT_CONFIG_PARAMETERS value, each "key=value" ("key" alone for a bare
// boolean), or nullopt when it is not in git's quoting (shell single quotes, `'\''` for a quote,
// words separated by spaces, 'key'='value' or 'key=value').
std::optional<std::vector<std::string>> SplitConfigParameters(std::string_view text);

struct ToolCall {
  std::string invoked_as;         // the basename the tool was started as (argv[0]'s)
  std::vector<std::string> args;  // argv[1..]
  std::string cwd;                // absolute, inside the sandbox
  std::vector<std::string> env;   // "NAME=value"
};

struct ToolDecision {
  ToolVerdict verdict = ToolVerdict::kDeny;
  std::string rule;    // the deciding rule's id, "default", or "grammar"
  std::string reason;  // its justification
  bool run_on_host = false;
  std::string subcommand;  // empty when the tool has none or the call names none
  // What runs when allowed: argv[0] is the tool's name, and a dashed start (`git-push x`) is
  // spelled out (`git push x`), so the program sees exactly the call that was decided.
  std::vector<std::string> argv;
};

ToolDecision DecideToolCall(const ToolSpec& tool, const ToolCall& call);

// ---- calls that run on the host (the credential broker)

// Whether the tool is git: it is named git, its dashed prefix is "git-", or a path it lives at
// ends in /git. The host's git is pinned to the workspace's repository (HostInvocation).
bool IsGitTool(const ToolSpec& tool);
bool HasHostRules(const ToolSpec& tool);

// Checked again by the broker just before an allowed call runs on the host, independently of how
// it was decided: the deciding rule runs on the host and its literal args spell out every token
// of the argv, from argv[1] (options before the sub-command included). Empty when it holds.
std::string HostCallProblem(const ToolSpec& tool, const ToolDecision& decision);

// What the broker runs on the host for an allowed call: the decided argv and the profile's
// host_env (`"$NAME"` values from `supervisor_env`), plus PATH when not given — never a variable
// of the agent's. For git, the repository is pinned and what the agent could have planted in it
// is switched off:
//   GIT_DIR and GIT_COMMON_DIR = the tool's host_repository (a value host_env gives is replaced),
//   so no .git/commondir, .git file or GIT_* variable of the agent's chooses the repository;
//   -c core.hooksPath=/dev/null: no hook runs (hooks commonly run the project's own code, which
//   the agent wrote); -c core.fsmonitor=false; -c protocol.ext.allow=never.
struct HostInvocation {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "NAME=value"
  std::string error;             // set when the call must not run (and nothing else is)
};
inline constexpr const char* kHostGitOptions[] = {
    "core.hooksPath=/dev/null", "core.fsmonitor=false", "protocol.ext.allow=never"};
HostInvocation PrepareHostInvocation(
    const ToolSpec& tool, const ToolDecision& decision,
    const std::function<std::optional<std::string>(const std::string&)>& supervisor_env);

// The tool a call started as `invoked_as` belongs to: its name, or a dashed form of it.
const ToolSpec* FindToolByName(const std::map<std::string, ToolSpec>& tools,
                               std::string_view invoked_as);

// Glob match of one token (fnmatch without FNM_PATHNAME: '*' also matches '/').
bool GlobMatches(std::string_view pattern, std::string_view text);

// Whether a setting given on the command line ("key=value", or "key" alone, as git's `-c` takes
// it) matches `pattern`, a glob of the same form. Both are split at their first '=' (git's own
// split: the value keeps any further '='), and the two halves are matched apart, so a '*' in the
// key never reaches into the value. The value is compared exactly (a glob). The key is compared
// the way git reads it: the section (before the first '.') and the variable name (after the last
// '.') without case, the subsection between them with case (`core.hooksPath` is
// `core.hookspath`; `hook.Pre-Commit.enabled` keeps "Pre-Commit"). `pattern`'s section and name
// are written in lowercase (the loader insists); the setting's are folded to lowercase before the
// match. A pattern without '=' matches only a setting without one (git's "true").
bool SettingMatches(std::string_view pattern, std::string_view setting);
// `key` with its section and variable name in ASCII lowercase, its subsection as it is.
std::string CanonicalSettingKey(std::string_view key);

// `path` made absolute against `cwd` and normalised lexically ("a/../b" -> "b").
std::string AbsoluteLexical(std::string_view path, std::string_view cwd);

// An example a profile carries: a call and the verdict it must get.
struct ToolExample {
  std::vector<std::string> argv;  // argv[0] names the tool (its name, a dashed name or a path)
  std::string cwd;                // default "{workspace}"
  std::vector<std::string> env;   // "NAME=value"
  ToolVerdict expect = ToolVerdict::kDeny;
  std::string rule;  // the deciding rule it must get, if given
  std::string json_path;
  SourceRef where;
};

// The fixed placeholder values examples are decided with: {workspace} = /workspace,
// {home} = /home/agent, {tmp} = /tmp, {cache} = /home/agent/.cache.
struct PlanContext;
PlanContext ExampleContext();

// Checks a profile's examples against its tools, with placeholders expanded to the example
// values above. One message per failing example.
struct ExampleFailure {
  const ToolExample* example;
  std::string message;
};
std::vector<ExampleFailure> CheckToolExamples(const std::map<std::string, ToolSpec>& tools,
                                              const std::vector<ToolExample>& examples);

// Expands the placeholders of a tool's paths, roots and host environment for one launch.
struct PlanContext;
ToolSpec ExpandToolSpec(const ToolSpec& tool, const PlanContext& context);

}  // namespace tollgate::policy
