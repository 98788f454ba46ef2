// `tollgate hook claude-code`: Claude Code's PreToolUse hook (docs/HOOKS.md), decided by the same
// policy as a sandboxed run: the tool rules for mediated programs, the mount plan for files and
// programs, the network rules for fetches.
//
// DecideHook is pure: the profile compiled into a plan, the hook's JSON input, and two look-ups
// the caller supplies (PATH and symlink resolution) give a decision. The command (cmd_hook.cc)
// reads stdin, records the decision in the audit log (or, inside a sandbox, sends it to the
// supervisor to record: shims/protocol.h, HookReport) and prints the protocol's JSON. Both
// records are made from the same HookReport by HookDecisionEvent, so they have one shape.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/plans.h"
#include "shims/protocol.h"
#include "supervisor/audit/record.h"

namespace tollgate {

inline constexpr std::string_view kKindHookDecision = "hook.decision";

// Ordered by strictness: a larger value is stricter.
enum class HookVerdict : std::uint8_t { kAllow = 0, kAsk = 1, kDeny = 2 };
const char* HookVerdictName(HookVerdict verdict);  // "allow", "ask", "deny"

struct HookContext {
  const policy::SandboxPlan* plan = nullptr;
  std::string profile;  // its name, for messages
  std::string home;     // what `~` means
  // The hook's environment ("NAME=value"): what a Bash command starts with, besides its own
  // assignments and exports.
  std::vector<std::string> env;
  // A program name looked up in PATH: its absolute path, or nullopt when not found.
  std::function<std::optional<std::string>(const std::string& name)> find_program;
  // An absolute path with its symlinks resolved (the parent's, for a file that does not exist
  // yet), or nullopt. Unset: paths are judged lexically only.
  std::function<std::optional<std::string>(const std::string& path)> canonical;
};

// One thing a call was judged on: a simple command of a Bash line, a redirection, a path.
struct HookPart {
  std::string what;  // "git push origin main", "write /w/.git/hooks/pre-commit"
  HookVerdict verdict = HookVerdict::kAsk;
  std::string rule;  // "git:git-push", "shell:eval", "file:<entry>", "exec:<entry>", "network:…"
  std::string reason;
};

struct HookDecision {
  // False: tollgate gives no decision and Claude Code's own permission rules apply (a tool the
  // hook does not know, an event other than PreToolUse).
  bool decided = false;
  HookVerdict verdict = HookVerdict::kAsk;
  std::string rule;    // the deciding part's rule
  std::string reason;  // for the agent (deny) or the person (ask); one paragraph
  std::string tool;    // tool_name
  std::vector<HookPart> parts;
  // Facts for the audit record: "command", "path", "access", "url", "host", "port", "cwd", …
  std::vector<std::pair<std::string, std::string>> facts;
};

// Decides one hook input (the parsed stdin JSON). A malformed input is a deny.
HookDecision DecideHook(const HookContext& context, const nlohmann::json& input);

// The JSON Claude Code reads on stdout; null when there is no decision (print nothing).
nlohmann::json HookOutput(const HookDecision& decision);

// A decided call as the shim protocol carries it: the facts in their fields, the first
// kMaxHookParts parts. Strings are cut, on a character boundary, only as far as the frame's
// bounds need, never below the audit record's own bound (audit::kMaxStringBytes): the record
// holds what it would have held had the hook written it itself.
shim_protocol::HookReport ReportOf(const HookDecision& decision, std::string_view agent);

// The `hook.decision` record of a report (docs/AUDIT.md), without a process: who ran the hook
// is for the caller to say (the hook itself, or the supervisor from the socket's peer).
audit::Event HookDecisionEvent(const shim_protocol::HookReport& report);

// The PreToolUse entry `tollgate hook install` merges into a Claude settings file.
inline constexpr const char* kHookMatcher =
    "Bash|Read|Write|Edit|MultiEdit|NotebookEdit|WebFetch|WebSearch|mcp__.*";

struct InstallResult {
  std::string text;  // the new file's content (when no error)
  bool changed = false;
  std::string error;  // why the existing content cannot be merged
};
// Merges the hook `command` into a settings file's content (empty: no file yet). Everything else
// is kept; an entry already running `command` with the same matcher is left as it is.
InstallResult MergeHookSettings(const std::string& existing, const std::string& command);

}  // namespace tollgate
