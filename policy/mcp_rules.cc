#include "policy/mcp_rules.h"

#include <algorithm>
#include <cctype>

#include "policy/tool_rules.h"

namespace tollgate::policy {

namespace {

using Json = nlohmann::json;

// Nested arguments deeper than this are not searched (a call that nests paths deeper is
// refused: its paths could not all be checked).
constexpr int kMaxDepth = 16;

std::string NormalizedKey(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '_' || c == '-') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

// Keys whose values are what a file holds or what a person wrote, not where: a top-level
// string under one of them is never taken for a path because of its first character.
const std::vector<std::string>& ContentKeys() {
  static const std::vector<std::string> kKeys = {
      "content", "contents", "text",   "data",        "body",    "message", "newtext",
      "oldtext", "code",     "script", "query",       "pattern", "regex",   "command",
      "prompt",  "comment",  "title",  "description", "value",   "input",   "excludepatterns"};
  return kKeys;
}

bool Contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool IsPathKey(const McpSpec& spec, std::string_view key) {
  const std::string normalized = NormalizedKey(key);
  if (Contains(BuiltinMcpPathArgumentNames(), normalized)) return true;
  return std::any_of(spec.path_arguments.begin(), spec.path_arguments.end(),
                     [&](const std::string& name) { return NormalizedKey(name) == normalized; });
}

// A string that reads as an absolute path: "/…", "~", "~/…" or "file://…", one line, no glob
// characters (a pattern is not a path).
bool LooksLikePath(const std::string& text) {
  if (text.empty() || text.size() > 4096) return false;
  const bool rooted =
      text[0] == '/' || text == "~" || text.starts_with("~/") || text.starts_with("file://");
  if (!rooted) return false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '*' || c == '?' || c == '[' || c == '{') return false;
  }
  return true;
}

// `given` as the sandbox sees it: "file://" stripped (with a "localhost" authority), "~"
// against the home, a relative path against the working directory; normalised.
std::string Resolve(const std::string& given, const McpCallContext& context) {
  std::string path = given;
  if (path.starts_with("file://")) {
    path = path.substr(7);
    if (path.starts_with("localhost/")) path = path.substr(9);
  }
  if (path == "~" || path.starts_with("~/")) {
    path = context.home + path.substr(1);
  } else if (path.empty() || path[0] != '/') {
    path = context.cwd + "/" + path;
  }
  return NormalizePath(path);
}

class PathCollector {
 public:
  PathCollector(const McpSpec& spec, const McpCallContext& context, FileAccess access)
      : spec_(spec), context_(context), access_(access) {}

  std::vector<McpPathArgument> paths;
  bool too_deep = false;

  void Add(const std::string& where, const std::string& given) {
    paths.push_back(McpPathArgument{where, given, Resolve(given, context_), access_});
  }

  // Every string under a path key is a path.
  void AllStrings(const std::string& where, const Json& value, int depth) {
    if (depth > kMaxDepth) {
      too_deep = true;
      return;
    }
    if (value.is_string()) {
      Add(where, value.get<std::string>());
    } else if (value.is_array()) {
      for (std::size_t i = 0; i < value.size(); ++i)
        AllStrings(where + "/" + std::to_string(i), value[i], depth + 1);
    } else if (value.is_object()) {
      Walk(where, value, depth + 1);
    }
  }

  // Keys named like paths, at any depth.
  void Walk(const std::string& where, const Json& object, int depth) {
    if (depth > kMaxDepth) {
      too_deep = true;
      return;
    }
    for (const auto& [key, value] : object.items()) {
      const std::string child = where.empty() ? key : where + "/" + key;
      if (IsPathKey(spec_, key)) {
        AllStrings(child, value, depth);
      } else if (value.is_object()) {
        Walk(child, value, depth + 1);
      } else if (value.is_array()) {
        for (std::size_t i = 0; i < value.size(); ++i) {
          if (value[i].is_object()) Walk(child + "/" + std::to_string(i), value[i], depth + 2);
        }
      }
    }
  }

  // Top-level strings (and strings in top-level arrays) of other keys that look like paths.
  void TopLevelLookalikes(const Json& object) {
    for (const auto& [key, value] : object.items()) {
      if (IsPathKey(spec_, key) || Contains(ContentKeys(), NormalizedKey(key))) continue;
      if (value.is_string()) {
        if (LooksLikePath(value.get<std::string>())) Add(key, value.get<std::string>());
      } else if (value.is_array()) {
        for (std::size_t i = 0; i < value.size(); ++i) {
          if (value[i].is_string() && LooksLikePath(value[i].get<std::string>()))
            Add(key + "/" + std::to_string(i), value[i].get<std::string>());
        }
      }
    }
  }

 private:
  const McpSpec& spec_;
  const McpCallContext& context_;
  FileAccess access_;
};

bool AnyGlob(const std::vector<McpToolPattern>& patterns, std::string_view tool,
             const McpToolPattern** which) {
  for (const McpToolPattern& pattern : patterns) {
    if (GlobMatches(pattern.glob, tool)) {
      if (which != nullptr) *which = &pattern;
      return true;
    }
  }
  return false;
}

std::string RuleWithSource(const std::string& rule, const SourceRef& where) {
  if (where.file.empty()) return rule;
  return rule + " (" + where.ToString() + ")";
}

}  // namespace

const std::vector<std::string>& BuiltinMcpPathArgumentNames() {
  static const std::vector<std::string> kNames = {
      "path",      "paths",           "file",   "files",  "filepath",
      "filepaths", "filename",        "dir",    "dirs",   "dirpath",
      "directory", "directories",     "folder", "source", "sources",
      "src",       "destination",     "dest",   "target", "root",
      "cwd",       "workingdirectory"};
  return kNames;
}

const std::vector<std::string>& BuiltinMcpWriteTools() {
  static const std::vector<std::string> kTools = {
      "write_*", "edit_*",   "create_*", "move_*", "rename_*",   "delete_*", "remove_*",
      "mkdir*",  "append_*", "patch_*",  "save_*", "truncate_*", "chmod*",   "upload_*"};
  return kTools;
}

McpCallContext McpContextFor(const SandboxPlan& plan) {
  McpCallContext context;
  context.cwd = plan.cwd.empty() ? "/" : plan.cwd;
  for (const auto& [name, value] : plan.env.vars) {
    if (name == "HOME") context.home = value;
  }
  if (context.home.empty()) context.home = "/";
  return context;
}

McpDecision DecideMcpTool(const McpSpec& spec, std::string_view tool) {
  McpDecision decision;
  const std::string name(tool);
  const McpToolPattern* which = nullptr;
  if (AnyGlob(spec.deny, tool, &which)) {
    decision.rule = RuleWithSource("mcp.tools.deny", which->where);
    decision.reason =
        "MCP tool " + name + " is denied by the profile (pattern " + which->glob + ")";
    return decision;
  }
  if (AnyGlob(spec.allow, tool, &which)) {
    decision.allowed = true;
    decision.rule = RuleWithSource("mcp.tools.allow", which->where);
    return decision;
  }
  decision.allowed = spec.default_allow.value_or(true);
  decision.rule = "mcp.default";
  if (!decision.allowed) {
    decision.reason = spec.why ? "MCP tool " + name + ": " + *spec.why
                               : "MCP tool " + name +
                                     " is not on the profile's mcp.tools.allow list, and the "
                                     "default is deny";
  }
  return decision;
}

bool IsMcpWriteTool(const McpSpec& spec, std::string_view tool) {
  for (const std::string& glob : BuiltinMcpWriteTools()) {
    if (GlobMatches(glob, tool)) return true;
  }
  return AnyGlob(spec.write_tools, tool, nullptr);
}

std::vector<McpPathArgument> FindMcpPathArguments(const McpSpec& spec, std::string_view tool,
                                                  const Json& arguments,
                                                  const McpCallContext& context) {
  if (!arguments.is_object()) return {};
  PathCollector collector(spec, context,
                          IsMcpWriteTool(spec, tool) ? FileAccess::kWrite : FileAccess::kRead);
  collector.Walk("", arguments, 0);
  collector.TopLevelLookalikes(arguments);
  return std::move(collector.paths);
}

McpDecision DecideMcpCall(const McpSpec& spec, const SandboxPlan& plan, std::string_view tool,
                          const Json& arguments) {
  McpDecision decision = DecideMcpTool(spec, tool);
  if (!decision.allowed) return decision;
  const std::string name(tool);
  const McpCallContext context = McpContextFor(plan);
  PathCollector collector(spec, context,
                          IsMcpWriteTool(spec, tool) ? FileAccess::kWrite : FileAccess::kRead);
  if (arguments.is_object()) {
    collector.Walk("", arguments, 0);
    collector.TopLevelLookalikes(arguments);
  } else if (!arguments.is_null()) {
    return McpDecision{false,
                       "mcp.arguments",
                       "MCP tool " + name + ": arguments must be an object, got " +
                           std::string(arguments.type_name()),
                       {}};
  }
  if (collector.too_deep) {
    return McpDecision{false,
                       "mcp.arguments",
                       "MCP tool " + name + ": arguments nested deeper than " +
                           std::to_string(kMaxDepth) + " levels cannot be checked",
                       {}};
  }
  if (collector.paths.size() > kMaxMcpPathArguments) {
    return McpDecision{false,
                       "mcp.arguments",
                       "MCP tool " + name + ": more than " + std::to_string(kMaxMcpPathArguments) +
                           " path arguments to check",
                       {}};
  }
  decision.paths = std::move(collector.paths);
  for (const McpPathArgument& argument : decision.paths) {
    if (argument.given.find('\0') != std::string::npos) {
      decision.allowed = false;
      decision.rule = "mcp.arguments";
      decision.reason = "MCP tool " + name + ": argument " + argument.argument +
                        " holds a NUL byte, which no path can";
      return decision;
    }
    FileDecision file = DecideFileAccess(plan, argument.path, argument.access);
    if (!file.allowed) {
      decision.allowed = false;
      decision.rule = file.rule;
      decision.reason = "MCP tool " + name + ": argument " + argument.argument + " (" +
                        FileAccessName(argument.access) + " " + argument.path + "): " + file.reason;
      return decision;
    }
  }
  return decision;
}

}  // namespace tollgate::policy
