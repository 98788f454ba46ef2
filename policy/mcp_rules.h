// The decisions of `tollgate mcp` (docs/MCP.md): which tools of an MCP server the agent may
// see and call, and whether the paths a call names are within what the profile lets the sandbox
// read or write. Pure: the profile's `mcp` section and the compiled mount plan decide.
//
// The sandbox still enforces the filesystem (the server runs inside it); the path check gives a
// precise refusal, before the server is asked, and a record that says which argument and why.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/file_decision.h"
#include "policy/plans.h"
#include "policy/profile.h"

namespace tollgate::policy {

// A path found in a call's arguments.
struct McpPathArgument {
  std::string argument;  // where it was: "path", "paths/1", "options/destination"
  std::string given;     // as the call wrote it
  std::string path;      // absolute and normalised, as the sandbox sees it
  FileAccess access = FileAccess::kRead;
};

struct McpDecision {
  bool allowed = false;
  std::string rule;    // "mcp.tools.deny (p.json:5:17)", "mcp.default", a filesystem rule…
  std::string reason;  // one line, for the agent and the record
  std::vector<McpPathArgument> paths;  // the path arguments found (all of them, when allowed)
};

// Where the server runs: relative paths are taken against `cwd`, "~" against `home`.
struct McpCallContext {
  std::string cwd;
  std::string home;
};
// The sandbox's working directory and its HOME, from the plan.
McpCallContext McpContextFor(const SandboxPlan& plan);

// The tool's name alone (what tools/list filtering asks): a tools.deny glob that matches wins,
// then a tools.allow glob, then the default (allow unless the profile says deny).
McpDecision DecideMcpTool(const McpSpec& spec, std::string_view tool);

// Whether the tool's path arguments are written: a write_tools glob (built-in or the
// profile's) matches its name.
bool IsMcpWriteTool(const McpSpec& spec, std::string_view tool);

// At most this many path arguments are checked in one call; a call with more is refused.
inline constexpr std::size_t kMaxMcpPathArguments = 256;

// The path arguments of a call: the string values (or strings in arrays) of keys named like
// paths at any depth (built-in names and the profile's paths.arguments; compared without case,
// '_' and '-'), and the top-level strings of other keys that look like absolute paths ("/…",
// "~/…", "file://…", one line, no glob characters) unless the key names content ("content",
// "text", "newText", …). `arguments` that is not an object has none.
std::vector<McpPathArgument> FindMcpPathArguments(const McpSpec& spec, std::string_view tool,
                                                  const nlohmann::json& arguments,
                                                  const McpCallContext& context);

// A tools/call: the tool's name first, then every path argument against the mount plan
// (DecideFileAccess; read, or write for a write tool). The first refusal decides.
McpDecision DecideMcpCall(const McpSpec& spec, const SandboxPlan& plan, std::string_view tool,
                          const nlohmann::json& arguments);

// The built-in lists (docs/MCP.md), normalised: lower case, without '_' and '-'.
const std::vector<std::string>& BuiltinMcpPathArgumentNames();
const std::vector<std::string>& BuiltinMcpWriteTools();  // globs on the tool's name

}  // namespace tollgate::policy
