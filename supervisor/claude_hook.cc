#include "supervisor/claude_hook.h"

#include <algorithm>
#include <cstdlib>
#include <set>
#include <utility>

#include "policy/file_decision.h"
#include "policy/net_rules.h"
#include "policy/shell_split.h"
#include "policy/tool_rules.h"

namespace tollgate {

using Json = nlohmann::json;
using policy::FileAccess;

namespace {

// More working directories than this after `cd`s: the line is too twisted to follow.
constexpr std::size_t kMaxCwds = 8;

std::string Basename(const std::string& path) {
  std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool IsWithin(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  return path.size() >= dir.size() && path.compare(0, dir.size(), dir) == 0 &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

// Built-ins that neither run another program nor open a file by themselves.
bool IsPlainBuiltin(const std::string& name) {
  static const std::set<std::string> kBuiltins = {
      "cd",     "echo",   "printf", "true",    "false",   "test",    "[",        "pwd",
      "export", "unset",  "set",    ":",       "read",    "type",    "hash",     "umask",
      "exit",   "return", "shift",  "local",   "declare", "typeset", "readonly", "wait",
      "jobs",   "help",   "times",  "getopts", "shopt",   "pushd",   "popd",     "dirs"};
  return kBuiltins.count(name) > 0;
}

// Paths a redirection may always use: they are no file of the workspace or the home.
bool IsHarmlessDevice(const std::string& path) {
  return path == "/dev/null" || path == "/dev/stdout" || path == "/dev/stderr" ||
         path == "/dev/stdin" || path == "/dev/tty" || path.rfind("/dev/fd/", 0) == 0;
}

struct Verdicts {
  std::vector<HookPart> parts;
  void Add(std::string what, HookVerdict verdict, std::string rule, std::string reason) {
    parts.push_back({std::move(what), verdict, std::move(rule), std::move(reason)});
  }
  // The strictest part, the first of equals.
  const HookPart* Strictest() const {
    const HookPart* best = nullptr;
    for (const HookPart& part : parts)
      if (best == nullptr || part.verdict > best->verdict) best = &part;
    return best;
  }
};

// The mount entry that hides `path` (the last one that covers it), or nullptr.
const policy::MountOp* HiddenBy(const policy::SandboxPlan& plan, const std::string& path) {
  const policy::MountOp* hidden = nullptr;
  for (const policy::MountOp& op : plan.mounts.ops)
    if (op.kind == policy::MountOpKind::kHide && IsWithin(path, op.target)) hidden = &op;
  return hidden;
}

// The innermost entry that shows `path`, as DecideFileAccess finds it.
const policy::MountOp* ShownBy(const policy::SandboxPlan& plan, const std::string& path) {
  const policy::MountOp* shown = nullptr;
  for (const policy::MountOp& op : plan.mounts.ops) {
    if (!IsWithin(path, op.target)) continue;
    if (op.kind == policy::MountOpKind::kBind || op.kind == policy::MountOpKind::kTmpfs ||
        op.kind == policy::MountOpKind::kProc || op.kind == policy::MountOpKind::kDevpts) {
      if (shown == nullptr || op.target.size() >= shown->target.size()) shown = &op;
    }
  }
  return shown;
}

// The sandbox's home is a private, empty tmpfs: a host file under the home that no entry binds
// into it is not there. The hook judges host paths, so such a path is out of the view, though
// DecideFileAccess (which answers for the sandbox's own files) would let the agent create it.
const policy::MountOp* PrivateHome(const policy::SandboxPlan& plan, const std::string& path) {
  const policy::MountOp* shown = ShownBy(plan, path);
  if (shown != nullptr && shown->kind == policy::MountOpKind::kTmpfs &&
      shown->why.rfind("filesystem.home", 0) == 0)
    return shown;
  return nullptr;
}

// The paths to judge for one path: as written (lexically) and, when it differs, with symlinks
// resolved. The stricter answer counts.
std::vector<std::string> PathsToJudge(const HookContext& context, const std::string& path) {
  std::vector<std::string> paths = {path};
  if (context.canonical) {
    if (std::optional<std::string> real = context.canonical(path); real && *real != path)
      paths.push_back(policy::NormalizePath(*real));
  }
  return paths;
}

void JudgeFile(const HookContext& context, const std::string& path, FileAccess access,
               const std::string& what, Verdicts* out) {
  for (const std::string& judged : PathsToJudge(context, path)) {
    policy::FileDecision decision = policy::DecideFileAccess(*context.plan, judged, access);
    std::string shown = judged == path ? path : path + " (a symlink to " + judged + ")";
    if (const policy::MountOp* home = PrivateHome(*context.plan, judged)) {
      out->Add(what, HookVerdict::kDeny, "file:" + home->why,
               std::string(policy::FileAccessName(access)) + " of " + shown +
                   " is denied: the sandbox's home is private and empty, the host's files under " +
                   home->target + " are not in it");
      continue;
    }
    if (decision.allowed) {
      out->Add(what, HookVerdict::kAllow, "file:" + decision.rule,
               std::string(policy::FileAccessName(access)) + " " + shown + " is allowed");
    } else {
      out->Add(what, HookVerdict::kDeny, "file:" + decision.rule,
               std::string(policy::FileAccessName(access)) + " of " + shown +
                   " is denied: " + decision.reason);
    }
  }
}

void JudgeProgram(const HookContext& context, const std::string& path, const std::string& what,
                  Verdicts* out) {
  for (const std::string& judged : PathsToJudge(context, path)) {
    policy::FileDecision visible =
        policy::DecideFileAccess(*context.plan, judged, FileAccess::kRead);
    if (PrivateHome(*context.plan, judged) != nullptr)
      visible = {false, "filesystem.home", "the sandbox's home is private and empty"};
    if (!visible.allowed) {
      out->Add(what, HookVerdict::kDeny, "exec:" + visible.rule,
               "the program " + judged + " cannot be run under this profile: " + visible.reason);
      continue;
    }
    const policy::MountOp* shown = ShownBy(*context.plan, judged);
    if (shown == nullptr || !shown->exec) {
      out->Add(what, HookVerdict::kDeny, "exec:" + visible.rule,
               "the program " + judged + " lies where this profile allows no execution");
      continue;
    }
    out->Add(what, HookVerdict::kAllow, "exec:" + shown->why, "runs " + judged);
  }
}

// Operands that name a hidden path: the hook sees words, not opens, so only what is hidden
// outright is refused here (the sandbox's mount view refuses the rest).
void JudgeOperands(const HookContext& context, const policy::SimpleCommand& command,
                   const std::string& cwd, const std::string& what, Verdicts* out) {
  for (std::size_t k = 1; k < command.words.size(); ++k) {
    std::string text = command.words[k].text;
    if (text.rfind("--", 0) == 0 && text.find('=') != std::string::npos)
      text = text.substr(text.find('=') + 1);
    if (text.find('/') == std::string::npos && text != "." && text != "..") continue;
    for (const std::string& judged : PathsToJudge(context, policy::AbsoluteLexical(text, cwd))) {
      if (const policy::MountOp* hidden = HiddenBy(*context.plan, judged)) {
        out->Add(what, HookVerdict::kDeny, "file:" + hidden->why,
                 judged + " is hidden by the profile (" + hidden->target + ")");
      } else if (const policy::MountOp* home = PrivateHome(*context.plan, judged)) {
        out->Add(what, HookVerdict::kDeny, "file:" + home->why,
                 judged +
                     " is hidden: the sandbox's home is private and empty, the host's "
                     "files under " +
                     home->target + " are not in it");
      }
    }
  }
}

std::string DenialText(const HookContext& context, const HookPart& part) {
  return "tollgate: `" + part.what + "` denied by rule " + part.rule + " of profile " +
         context.profile + ": " + part.reason;
}

void JudgeSimpleCommand(const HookContext& context, const policy::SimpleCommand& command,
                        const std::string& cwd, const std::vector<std::string>& env,
                        Verdicts* out) {
  const std::string what = command.Text().empty() ? "redirection" : command.Text();
  if (!command.construct.empty())
    out->Add(what, HookVerdict::kAsk, "shell:" + command.construct, command.reason);
  for (const policy::ShellRedirect& redirect : command.redirects) {
    using policy::RedirectKind;
    if (redirect.kind == RedirectKind::kDup || redirect.kind == RedirectKind::kHereDoc ||
        redirect.kind == RedirectKind::kHereString)
      continue;
    if (redirect.dynamic) {
      out->Add(what, HookVerdict::kAsk, "shell:parameter-expansion",
               "a redirection to a path built from variables: " + redirect.target);
      continue;
    }
    std::string path = policy::AbsoluteLexical(redirect.target, cwd);
    if (IsHarmlessDevice(path)) continue;
    bool reads = redirect.kind == RedirectKind::kRead;
    JudgeFile(context, path, reads ? FileAccess::kRead : FileAccess::kWrite,
              what + (reads ? " < " : " > ") + redirect.target, out);
  }
  if (command.words.empty()) return;
  JudgeOperands(context, command, cwd, what, out);
  const std::string& program = command.words[0].text;
  const std::string name = Basename(program);

  if (const policy::ToolSpec* tool = policy::FindToolByName(context.plan->tools, name)) {
    bool dynamic = std::any_of(command.words.begin(), command.words.end(),
                               [](const policy::ShellWord& word) { return word.dynamic; });
    if (dynamic)
      out->Add(what, HookVerdict::kAsk, "shell:parameter-expansion",
               "the arguments of the mediated tool " + tool->name +
                   " come from variables: the call that would run is not known");
    policy::ToolCall call;
    call.invoked_as = name;
    std::vector<std::string> argv = command.Argv();
    call.args.assign(argv.begin() + 1, argv.end());
    call.cwd = cwd;
    call.env = env;
    for (const std::string& assignment : command.assignments) call.env.push_back(assignment);
    policy::ToolDecision decision = policy::DecideToolCall(*tool, call);
    HookVerdict verdict = decision.verdict == policy::ToolVerdict::kAllow ? HookVerdict::kAllow
                          : decision.verdict == policy::ToolVerdict::kAsk ? HookVerdict::kAsk
                                                                          : HookVerdict::kDeny;
    out->Add(what, verdict, tool->name + ":" + decision.rule, decision.reason);
    return;
  }
  if (program.find('/') == std::string::npos && IsPlainBuiltin(name)) {
    out->Add(what, HookVerdict::kAllow, "shell:builtin", name + " is a shell built-in");
    return;
  }
  std::string path;
  if (program.find('/') != std::string::npos) {
    path = policy::AbsoluteLexical(program, cwd);
  } else if (std::optional<std::string> found =
                 context.find_program ? context.find_program(name) : std::nullopt) {
    path = policy::AbsoluteLexical(*found, cwd);
  } else {
    out->Add(what, HookVerdict::kAsk, "exec:not-found",
             name + " was not found on PATH: what would run is not known");
    return;
  }
  JudgeProgram(context, path, what, out);
}

std::string VariableName(const std::string& assignment) {
  return assignment.substr(0, assignment.find('='));
}

void JudgeBash(const HookContext& context, const std::string& line, const std::string& cwd,
               Verdicts* out) {
  policy::ShellSplitOptions options;
  options.home = context.home;
  policy::ShellSplit split = policy::SplitShellCommand(line, options);
  if (!split.ok())
    out->Add("the command line", HookVerdict::kAsk, "shell:" + split.construct, split.reason);
  if (split.ok() && split.commands.empty())
    out->Add("the command line", HookVerdict::kAllow, "shell:empty", "nothing to run");
  // Where each command may run: `cd` moves the later ones, unless it fails; both are judged.
  std::vector<std::string> cwds = {cwd};
  std::vector<std::string> env = context.env;
  std::vector<std::string> shell_variables;
  for (const policy::SimpleCommand& command : split.commands) {
    for (const std::string& where : cwds) JudgeSimpleCommand(context, command, where, env, out);
    if (command.words.empty()) {
      for (const std::string& assignment : command.assignments)
        shell_variables.push_back(assignment);
      continue;
    }
    const std::string name = command.words[0].text;
    if (name == "cd" || name == "pushd") {
      std::vector<std::string> next = cwds;
      if (command.words.size() > 2 ||
          (command.words.size() == 2 &&
           (command.words[1].dynamic || command.words[1].text == "-" || command.words[1].glob))) {
        out->Add(command.Text(), HookVerdict::kAsk, "shell:cd",
                 "a directory change the hook cannot follow: " + command.Text());
        continue;
      }
      std::string target = command.words.size() == 2 ? command.words[1].text : context.home;
      for (const std::string& where : cwds) {
        std::string moved = policy::AbsoluteLexical(target, where);
        if (std::find(next.begin(), next.end(), moved) == next.end()) next.push_back(moved);
      }
      if (next.size() > kMaxCwds) {
        out->Add(command.Text(), HookVerdict::kAsk, "shell:cd",
                 "too many directory changes to follow");
        return;
      }
      cwds = std::move(next);
    } else if (name == "popd") {
      out->Add(command.Text(), HookVerdict::kAsk, "shell:cd",
               "popd returns to a directory the hook does not track");
    } else if (name == "export" || name == "declare" || name == "typeset" || name == "local" ||
               name == "readonly") {
      for (std::size_t k = 1; k < command.words.size(); ++k) {
        const std::string& word = command.words[k].text;
        if (word.find('=') != std::string::npos) {
          env.push_back(word);
        } else {
          for (const std::string& variable : shell_variables)
            if (VariableName(variable) == word) env.push_back(variable);
        }
      }
    }
  }
}

struct ParsedUrl {
  std::string scheme, host, error;
  int port = 0;
};

ParsedUrl ParseUrl(const std::string& url) {
  ParsedUrl parsed;
  std::size_t colon = url.find("://");
  if (colon == std::string::npos) {
    parsed.error = "not an absolute URL";
    return parsed;
  }
  parsed.scheme = url.substr(0, colon);
  std::transform(parsed.scheme.begin(), parsed.scheme.end(), parsed.scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (parsed.scheme != "http" && parsed.scheme != "https") {
    parsed.error = "only http and https URLs are fetched";
    return parsed;
  }
  std::size_t start = colon + 3;
  std::size_t end = url.find_first_of("/?#", start);
  std::string authority =
      url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (authority.find('@') != std::string::npos) {
    parsed.error = "a URL with user information (user@host) is refused";
    return parsed;
  }
  std::string port_text;
  if (!authority.empty() && authority[0] == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string::npos) {
      parsed.error = "an unclosed [ in the host";
      return parsed;
    }
    parsed.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') {
        parsed.error = "bytes after the IPv6 address";
        return parsed;
      }
      port_text = authority.substr(close + 2);
    }
  } else {
    std::size_t port_colon = authority.rfind(':');
    parsed.host = authority.substr(0, port_colon);
    if (port_colon != std::string::npos) port_text = authority.substr(port_colon + 1);
  }
  parsed.port = parsed.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), ::isdigit)) {
      parsed.error = "the port is not a number";
      return parsed;
    }
    parsed.port = std::stoi(port_text);
    if (parsed.port < 1 || parsed.port > 65535) parsed.error = "the port is out of range";
  }
  if (parsed.host.empty() && parsed.error.empty()) parsed.error = "no host";
  return parsed;
}

void JudgeFetch(const HookContext& context, const std::string& url, HookDecision* decision,
                Verdicts* out) {
  const std::string what = "fetch " + url;
  const policy::NetworkPlan& network = context.plan->network;
  if (network.mode == policy::NetworkMode::kNone) {
    out->Add(what, HookVerdict::kDeny, "network:none", "this profile allows no network access");
    return;
  }
  ParsedUrl parsed = ParseUrl(url);
  if (!parsed.error.empty()) {
    out->Add(what, HookVerdict::kDeny, "network:url", parsed.error);
    return;
  }
  decision->facts.push_back({"host", parsed.host});
  decision->facts.push_back({"port", std::to_string(parsed.port)});
  if (network.mode == policy::NetworkMode::kHost) {
    out->Add(what, HookVerdict::kAllow, "network:host", "this profile uses the host's network");
    return;
  }
  policy::HostNameResult host = policy::NormaliseHostName(parsed.host);
  if (!host.host) {
    out->Add(what, HookVerdict::kDeny, "network:host-name", host.error);
    return;
  }
  policy::NameDecision name =
      policy::DecideHost(network.rules, *host.host, static_cast<std::uint16_t>(parsed.port));
  out->Add(what, name.allowed ? HookVerdict::kAllow : HookVerdict::kDeny, "network:" + name.rule,
           name.allowed ? host.host->name + ":" + std::to_string(parsed.port) + " is allowed"
                        : host.host->name + ":" + std::to_string(parsed.port) + ": " + name.why);
}

const std::string* StringField(const Json& object, const char* name) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) return nullptr;
  return it->get_ptr<const std::string*>();
}

}  // namespace

const char* HookVerdictName(HookVerdict verdict) {
  switch (verdict) {
    case HookVerdict::kAllow:
      return "allow";
    case HookVerdict::kAsk:
      return "ask";
    case HookVerdict::kDeny:
      return "deny";
  }
  return "deny";
}

HookDecision DecideHook(const HookContext& context, const Json& input) {
  HookDecision decision;
  Verdicts verdicts;
  auto finish = [&]() {
    decision.decided = true;
    const HookPart* best = verdicts.Strictest();
    if (best == nullptr) {
      decision.verdict = HookVerdict::kAsk;
      decision.rule = "hook";
      decision.reason = "tollgate: nothing in the call could be judged";
    } else {
      decision.verdict = best->verdict;
      decision.rule = best->rule;
      if (best->verdict == HookVerdict::kDeny) {
        decision.reason = DenialText(context, *best);
      } else if (best->verdict == HookVerdict::kAsk) {
        decision.reason = "tollgate (profile " + context.profile + "): `" + best->what +
                          "` needs a person's approval: " + best->reason + " [" + best->rule + "]";
      } else {
        decision.reason = "tollgate: allowed by profile " + context.profile;
      }
    }
    decision.parts = std::move(verdicts.parts);
    return decision;
  };
  auto malformed = [&](const std::string& why) {
    verdicts.Add("the hook input", HookVerdict::kDeny, "hook:input", why);
    return finish();
  };

  if (!input.is_object()) return malformed("the hook input is not a JSON object");
  const std::string* event = StringField(input, "hook_event_name");
  if (event != nullptr && *event != "PreToolUse") return decision;  // not ours to decide
  const std::string* tool_name = StringField(input, "tool_name");
  if (tool_name == nullptr) return malformed("the hook input has no tool_name");
  decision.tool = *tool_name;
  const Json empty = Json::object();
  auto tool_input_it = input.find("tool_input");
  const Json& tool_input = tool_input_it != input.end() ? *tool_input_it : empty;
  if (!tool_input.is_object()) return malformed("tool_input is not an object");
  std::string cwd = context.plan->cwd;
  if (const std::string* given = StringField(input, "cwd"); given && !given->empty()) {
    if ((*given)[0] != '/') return malformed("cwd is not an absolute path");
    cwd = policy::NormalizePath(*given);
  }
  decision.facts.push_back({"cwd", cwd});
  if (const std::string* id = StringField(input, "tool_use_id"))
    decision.facts.push_back({"tool_use_id", *id});
  if (const std::string* id = StringField(input, "session_id"))
    decision.facts.push_back({"session", *id});

  const std::string& tool = *tool_name;
  if (tool == "Bash") {
    const std::string* command = StringField(tool_input, "command");
    if (command == nullptr) return malformed("Bash without a command");
    decision.facts.push_back({"command", *command});
    JudgeBash(context, *command, cwd, &verdicts);
    return finish();
  }
  auto file_tool = [&](const char* field, FileAccess access, bool optional) {
    const std::string* path = StringField(tool_input, field);
    if (path == nullptr && !optional) return malformed(tool + " without " + field);
    std::string absolute = policy::AbsoluteLexical(path ? *path : cwd, cwd);
    decision.facts.push_back({"path", absolute});
    decision.facts.push_back({"access", policy::FileAccessName(access)});
    JudgeFile(context, absolute, access, tool + " " + absolute, &verdicts);
    return finish();
  };
  if (tool == "Read" || tool == "NotebookRead")
    return file_tool("file_path", FileAccess::kRead, false);
  if (tool == "Write" || tool == "Edit" || tool == "MultiEdit")
    return file_tool("file_path", FileAccess::kWrite, false);
  if (tool == "NotebookEdit") return file_tool("notebook_path", FileAccess::kWrite, false);
  if (tool == "Grep" || tool == "Glob" || tool == "LS")
    return file_tool("path", FileAccess::kRead, true);
  if (tool == "WebFetch") {
    const std::string* url = StringField(tool_input, "url");
    if (url == nullptr) return malformed("WebFetch without a url");
    decision.facts.push_back({"url", *url});
    JudgeFetch(context, *url, &decision, &verdicts);
    return finish();
  }
  if (tool == "WebSearch") {
    const policy::NetworkMode mode = context.plan->network.mode;
    if (mode == policy::NetworkMode::kNone)
      verdicts.Add("web search", HookVerdict::kDeny, "network:none",
                   "this profile allows no network access");
    else if (mode == policy::NetworkMode::kProxy)
      verdicts.Add("web search", HookVerdict::kAsk, "network:search",
                   "a web search names no host the profile's list could allow");
    else
      verdicts.Add("web search", HookVerdict::kAllow, "network:host",
                   "this profile uses the host's network");
    return finish();
  }
  if (tool.rfind("mcp__", 0) == 0) {
    verdicts.Add(tool, HookVerdict::kAsk, "mcp:default",
                 "profiles have no rules for MCP tools: a person decides each call");
    return finish();
  }
  return decision;  // a tool the hook does not know: Claude Code's own permissions apply
}

namespace {

shim_protocol::HookVerdict WireVerdict(HookVerdict verdict) {
  switch (verdict) {
    case HookVerdict::kAllow:
      return shim_protocol::HookVerdict::kAllow;
    case HookVerdict::kAsk:
      return shim_protocol::HookVerdict::kAsk;
    case HookVerdict::kDeny:
      return shim_protocol::HookVerdict::kDeny;
  }
  return shim_protocol::HookVerdict::kDeny;
}

const char* WireVerdictName(shim_protocol::HookVerdict verdict) {
  switch (verdict) {
    case shim_protocol::HookVerdict::kAllow:
      return "allow";
    case shim_protocol::HookVerdict::kAsk:
      return "ask";
    case shim_protocol::HookVerdict::kDeny:
      return "deny";
  }
  return "deny";
}

// `text` cut to at most `limit` bytes, never inside a UTF-8 character (the audit writer would
// otherwise escape the stray bytes of the cut one).
std::string CutAt(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  std::size_t end = limit;
  for (int back = 0; back < 3 && end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80;
       ++back)
    --end;
  return std::string(text.substr(0, end));
}

shim_protocol::HookReport ReportCutAt(const HookDecision& decision, std::string_view agent,
                                      std::size_t limit) {
  shim_protocol::HookReport report;
  report.agent = std::string(agent);
  report.tool = CutAt(decision.tool, limit);
  report.verdict = WireVerdict(decision.verdict);
  report.rule = CutAt(decision.rule, limit);
  report.reason = CutAt(decision.reason, limit);
  for (const auto& [key, value] : decision.facts) {
    if (key == "cwd") {
      report.cwd = CutAt(value, limit);
    } else if (key == "session") {
      report.session = CutAt(value, limit);
    } else if (key == "tool_use_id") {
      report.tool_use_id = CutAt(value, limit);
    } else if (key == "command") {
      report.command = CutAt(value, limit);
    } else if (key == "path") {
      report.path = CutAt(value, limit);
    } else if (key == "access") {
      report.access = value == "read"    ? shim_protocol::HookAccess::kRead
                      : value == "write" ? shim_protocol::HookAccess::kWrite
                                         : shim_protocol::HookAccess::kNone;
    } else if (key == "url") {
      report.url = CutAt(value, limit);
    } else if (key == "host") {
      report.host = CutAt(value, limit);
    } else if (key == "port") {
      unsigned long port = std::strtoul(value.c_str(), nullptr, 10);
      report.port = port <= 65535 ? static_cast<std::uint32_t>(port) : 0;
    }
  }
  for (std::size_t k = 0; k < decision.parts.size() && k < shim_protocol::kMaxHookParts; ++k) {
    const HookPart& part = decision.parts[k];
    report.parts.push_back({CutAt(part.what, limit), WireVerdict(part.verdict),
                            CutAt(part.rule, limit), CutAt(part.reason, limit)});
  }
  return report;
}

}  // namespace

shim_protocol::HookReport ReportOf(const HookDecision& decision, std::string_view agent) {
  // A long Bash line shows up in the command, in its parts and in the reason: halving the bound
  // until the frame fits keeps short strings whole. At audit::kMaxStringBytes every string of
  // the largest report fits (15 strings and 64 parts of three), so the loop ends there.
  static_assert((15 + 3 * shim_protocol::kMaxHookParts) * (4 + audit::kMaxStringBytes) + 1024 <=
                shim_protocol::kMaxPayload);
  for (std::size_t limit = shim_protocol::kMaxStringBytes;; limit /= 2) {
    shim_protocol::HookReport report = ReportCutAt(decision, agent, limit);
    if (limit <= audit::kMaxStringBytes ||
        shim_protocol::Encode(report).size() <=
            shim_protocol::kHeaderSize + shim_protocol::kMaxPayload)
      return report;
  }
}

audit::Event HookDecisionEvent(const shim_protocol::HookReport& report) {
  audit::Event event;
  event.kind = std::string(kKindHookDecision);
  event.verdict = report.verdict == shim_protocol::HookVerdict::kAllow  ? audit::Verdict::kAllow
                  : report.verdict == shim_protocol::HookVerdict::kDeny ? audit::Verdict::kDeny
                                                                        : audit::Verdict::kInfo;
  event.rule = report.rule;
  event.reason = report.reason;
  audit::Json& details = event.details;
  details["agent"] = event.strings.String(report.agent, "details.agent");
  details["tool"] = event.strings.String(report.tool, "details.tool");
  details["decision"] = WireVerdictName(report.verdict);
  for (const auto& [key, value] : {std::pair<const char*, const std::string*>{"cwd", &report.cwd},
                                   {"session", &report.session},
                                   {"tool_use_id", &report.tool_use_id},
                                   {"command", &report.command},
                                   {"path", &report.path},
                                   {"url", &report.url},
                                   {"host", &report.host}}) {
    if (!value->empty()) details[key] = event.strings.String(*value, std::string("details.") + key);
  }
  if (report.access == shim_protocol::HookAccess::kRead) details["access"] = "read";
  if (report.access == shim_protocol::HookAccess::kWrite) details["access"] = "write";
  if (report.port != 0) details["port"] = report.port;
  audit::Json parts = audit::Json::array();
  for (std::size_t k = 0; k < report.parts.size(); ++k) {
    const shim_protocol::HookPart& part = report.parts[k];
    std::string at = "details.parts." + std::to_string(k) + ".";
    parts.push_back({{"what", event.strings.String(part.what, at + "what")},
                     {"verdict", WireVerdictName(part.verdict)},
                     {"rule", event.strings.String(part.rule, at + "rule")},
                     {"reason", event.strings.String(part.reason, at + "reason")}});
  }
  details["parts"] = std::move(parts);
  return event;
}

Json HookOutput(const HookDecision& decision) {
  if (!decision.decided) return nullptr;
  Json out;
  out["hookSpecificOutput"] = {
      {"hookEventName", "PreToolUse"},
      {"permissionDecision", HookVerdictName(decision.verdict)},
      {"permissionDecisionReason", decision.reason},
  };
  return out;
}

InstallResult MergeHookSettings(const std::string& existing, const std::string& command) {
  InstallResult result;
  Json settings = Json::object();
  bool blank = std::all_of(existing.begin(), existing.end(),
                           [](unsigned char c) { return std::isspace(c); });
  if (!blank) {
    try {
      settings = Json::parse(existing);
    } catch (const Json::exception& e) {
      result.error = std::string("it is not valid JSON (") + e.what() + ")";
      return result;
    }
    if (!settings.is_object()) {
      result.error = "its top level is not a JSON object";
      return result;
    }
  }
  Json& hooks = settings["hooks"];
  if (hooks.is_null()) hooks = Json::object();
  if (!hooks.is_object()) {
    result.error = "its \"hooks\" is not an object";
    return result;
  }
  Json& pre = hooks["PreToolUse"];
  if (pre.is_null()) pre = Json::array();
  if (!pre.is_array()) {
    result.error = "its \"hooks.PreToolUse\" is not an array";
    return result;
  }
  for (const Json& entry : pre) {
    if (!entry.is_object()) {
      result.error = "an entry of \"hooks.PreToolUse\" is not an object";
      return result;
    }
    auto matcher = entry.find("matcher");
    auto inner = entry.find("hooks");
    if (inner == entry.end() || !inner->is_array()) continue;
    for (const Json& hook : *inner) {
      if (hook.is_object() && hook.value("type", "") == "command" &&
          hook.value("command", "") == command && matcher != entry.end() && matcher->is_string() &&
          *matcher == kHookMatcher) {
        result.text = settings.dump(2) + "\n";
        return result;  // installed already
      }
    }
  }
  pre.push_back({{"matcher", kHookMatcher},
                 {"hooks", Json::array({{{"type", "command"}, {"command", command}}})}});
  result.text = settings.dump(2) + "\n";
  result.changed = true;
  return result;
}

}  // namespace tollgate
