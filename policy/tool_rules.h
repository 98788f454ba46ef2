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
  std::vector<std::vector<std::string>> args;  // from the sub-command on; each token: alternatives
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
  SourceRef where;
};

// One call as the shim reports it, reduced to what the decision needs.
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

// The tool a call started as `invoked_as` belongs to: its name, or a dashed form of it.
const ToolSpec* FindToolByName(const std::map<std::string, ToolSpec>& tools,
                               std::string_view invoked_as);

// Glob match of one token (fnmatch without FNM_PATHNAME: '*' also matches '/').
bool GlobMatches(std::string_view pattern, std::string_view text);

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
