// tollgate hook claude-code | hook install (docs/HOOKS.md).
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <variant>

#include "policy/plan_compiler.h"
#include "shims/protocol.h"
#include "supervisor/audit/log_files.h"
#include "supervisor/audit/writer.h"
#include "supervisor/claude_hook.h"
#include "supervisor/commands.h"
#include "supervisor/plan_context.h"
#include "supervisor/process_description.h"
#include "supervisor/profile_search.h"

extern char** environ;

namespace tollgate {

namespace {

// Claude Code blocks a call when its PreToolUse hook exits with 2 and reads stderr as the reason.
constexpr int kExitBlock = 2;
constexpr std::size_t kMaxInputBytes = 16u << 20;
constexpr std::string_view kAgent = "claude-code";
// How long the supervisor may take to acknowledge a report inside a sandbox: far beyond a record
// (milliseconds), well within Claude Code's hook timeout (60 s by default).
constexpr int kAckTimeoutMs = 10000;

int Block(const std::string& message) {
  std::cerr << "tollgate hook: " << message << " (the call is blocked)\n";
  return kExitBlock;
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::optional<std::string> FindOnPath(const std::string& name) {
  std::string path = Env("PATH");
  if (path.empty()) path = "/usr/local/bin:/usr/bin:/bin";
  std::size_t at = 0;
  while (at <= path.size()) {
    std::size_t end = path.find(':', at);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(at, end - at);
    at = end + 1;
    if (dir.empty()) dir = ".";
    std::string candidate = AbsolutePath(dir + "/" + name);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return std::nullopt;
}

std::optional<std::string> Canonical(const std::string& path) {
  if (char* real = ::realpath(path.c_str(), nullptr)) {
    std::string out = real;
    std::free(real);
    return out;
  }
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return std::nullopt;
  if (char* real = ::realpath(path.substr(0, slash).c_str(), nullptr)) {
    std::string out = std::string(real) + path.substr(slash);
    std::free(real);
    return out;
  }
  return std::nullopt;
}

// The run a hook's records belong to: the Claude Code session.
std::string SessionRun(const std::string& session) {
  std::string safe;
  for (char c : session) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') safe += c;
    if (safe.size() >= 64) break;
  }
  return safe.empty() ? "claude-code" : "claude-code-" + safe;
}

bool Record(const std::string& directory, const std::string& profile, const nlohmann::json& input,
            const HookDecision& decision, std::string* error) {
  std::string session;
  if (auto it = input.find("session_id"); it != input.end() && it->is_string()) session = *it;
  audit::WriterOptions options;
  options.directory = directory;
  options.sync = audit::SyncMode::kEvery;  // the decision takes effect as soon as we exit
  options.run = SessionRun(session);
  options.profile = profile;
  std::unique_ptr<audit::AuditWriter> writer = audit::AuditWriter::Open(options, error);
  if (!writer) return false;
  audit::Event event = HookDecisionEvent(ReportOf(decision, kAgent));
  event.process = DescribeProcess(::getppid(), &event.details);
  if (!writer->Append(event)) {
    *error = writer->failure();
    return false;
  }
  if (!writer->Close()) {
    *error = "the record could not be made durable";
    return false;
  }
  return true;
}

// Inside a sandbox: hands the decision to the supervisor over the broker socket (where the shims
// find it) and waits for its acknowledgement. True once the supervisor says the record is in
// the run's audit log; otherwise `error` says why not (no socket: a profile without mediated
// tools has none).
bool ReportToSupervisor(const HookDecision& decision, std::string* error) {
  int sock = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{sock};
  // A supervisor too busy to take the connection (its backlog full) must not hold the hook past
  // Claude Code's timeout: connect and send give up after the same time as the acknowledgement.
  struct timeval send_timeout {};
  send_timeout.tv_sec = kAckTimeoutMs / 1000;
  ::setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, shim_protocol::kSocketPath, sizeof address.sun_path - 1);
  if (::connect(sock, reinterpret_cast<struct sockaddr*>(&address), sizeof address) != 0) {
    *error = std::string("the supervisor is not reachable at ") + shim_protocol::kSocketPath +
             " (" + std::strerror(errno) + ")";
    return false;
  }
  const std::string frame = shim_protocol::Encode(ReportOf(decision, kAgent));
  for (std::size_t sent = 0; sent < frame.size();) {
    ssize_t n = ::send(sock, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = std::string("sending the report: ") + std::strerror(errno);
      return false;
    }
    sent += static_cast<std::size_t>(n);
  }
  std::string pending;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kAckTimeoutMs);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    struct pollfd wait = {sock, POLLIN, 0};
    int ready = left > 0 ? ::poll(&wait, 1, static_cast<int>(left)) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      *error = ready == 0 ? "no acknowledgement from the supervisor in time"
                          : std::string("poll: ") + std::strerror(errno);
      return false;
    }
    char buffer[4096];
    ssize_t n = ::recv(sock, buffer, sizeof buffer, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = "the supervisor closed the connection without an acknowledgement";
      return false;
    }
    pending.append(buffer, static_cast<std::size_t>(n));
    shim_protocol::DecodeResult decoded = shim_protocol::Decode(pending);
    if (decoded.state == shim_protocol::DecodeState::kNeedMore) continue;
    if (decoded.state == shim_protocol::DecodeState::kError) {
      *error = "a malformed answer from the supervisor: " + decoded.error;
      return false;
    }
    if (const auto* ack = std::get_if<shim_protocol::HookAck>(&decoded.message)) {
      if (!ack->recorded) *error = "the supervisor did not record it: " + ack->message;
      return ack->recorded;
    }
    // A refusal meant for a shim: the supervisor did not take the report.
    const auto* refusal = std::get_if<shim_protocol::Decision>(&decoded.message);
    *error = refusal != nullptr ? "the supervisor refused the report: " + refusal->message
                                : std::string("an unexpected answer from the supervisor");
    return false;
  }
}

int ClaudeCode(const HookArgs& args) {
  std::string text;
  char buffer[65536];
  while (std::cin.read(buffer, sizeof buffer) || std::cin.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(std::cin.gcount()));
    if (text.size() > kMaxInputBytes) return Block("the hook input is larger than 16 MiB");
  }
  nlohmann::json input;
  try {
    input = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Block(std::string("the hook input is not JSON: ") + e.what());
  }
  if (input.is_object()) {
    auto event = input.find("hook_event_name");
    if (event != input.end() && (!event->is_string() || *event != "PreToolUse")) return 0;
  }

  std::string profile_name = args.profile;
  if (profile_name.empty()) profile_name = Env("TOLLGATE_PROFILE");
  if (profile_name.empty()) profile_name = "workspace-write";
  policy::LoadResult loaded = MakeProfileLoader().Load(profile_name);
  if (!loaded.ok()) {
    std::string errors;
    for (const policy::ProfileError& error : loaded.errors) errors += "\n  " + error.ToString();
    return Block("profile " + profile_name + " cannot be loaded:" + errors);
  }
  std::string workspace = args.workspace;
  if (workspace.empty()) workspace = Env("CLAUDE_PROJECT_DIR");
  if (workspace.empty() && input.is_object() && input.contains("cwd") && input["cwd"].is_string())
    workspace = input["cwd"].get<std::string>();
  PlanContextResult context = GatherPlanContext(workspace, ::getuid());
  if (!context.error.empty()) return Block(context.error);

  // Inside a tollgate sandbox the audit log is out of reach (docs/HOOKS.md).
  const bool in_sandbox = Env("TOLLGATE_SANDBOX") == "1";
  std::string audit_dir = !args.audit_log.empty() ? AbsolutePath(args.audit_log)
                          : in_sandbox            ? std::string()
                                                  : audit::DefaultLogDirectory();
  if (!audit_dir.empty()) context.context.supervisor_private.push_back(audit_dir);
  policy::CompileResult compiled = policy::CompilePlan(*loaded.profile, context.context);
  if (!compiled.ok()) {
    std::string errors;
    for (const std::string& error : compiled.errors) errors += "\n  " + error;
    return Block("profile " + profile_name + " does not compile:" + errors);
  }

  HookContext hook;
  hook.plan = &compiled.plan;
  hook.profile = loaded.profile->name;
  hook.home = context.context.home;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry)
    hook.env.emplace_back(*entry);
  hook.find_program = FindOnPath;
  hook.canonical = Canonical;
  HookDecision decision = DecideHook(hook, input);
  if (!decision.decided) return 0;  // Claude Code's own permission rules decide

  if (audit_dir.empty()) {
    // Inside a sandbox the supervisor records the decision. When it cannot (no broker socket,
    // no acknowledgement), an allow is not given (no record, no action): Claude Code's own
    // permissions decide instead, and the sandbox bounds what runs. A deny or an ask is given
    // either way: it takes nothing away.
    std::string error;
    if (!ReportToSupervisor(decision, &error) && decision.verdict == HookVerdict::kAllow) {
      std::cerr << "tollgate hook: the allow is left to Claude Code: the decision could not be "
                   "recorded: "
                << error << "\n";
      return 0;
    }
  } else {
    std::string error;
    if (!Record(audit_dir, loaded.profile->name, input, decision, &error))
      return Block("the audit log " + audit_dir + " could not be written: " + error);
  }
  std::cout << HookOutput(decision).dump() << "\n";
  return 0;
}

std::string ShellQuote(const std::string& word) {
  bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](unsigned char c) {
    return std::isalnum(c) || std::strchr("/._-+=:,@%", c) != nullptr;
  });
  if (plain) return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string SelfPath() {
  char path[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string("tollgate");
}

int Install(const HookArgs& args) {
  std::string workspace = args.workspace.empty() ? "." : args.workspace;
  char* real = ::realpath(workspace.c_str(), nullptr);
  if (real == nullptr) {
    std::cerr << "tollgate: the workspace " << workspace << " does not exist\n";
    return kExitUsage;
  }
  workspace = real;
  std::free(real);
  std::string file =
      args.settings.empty() ? workspace + "/.claude/settings.json" : AbsolutePath(args.settings);
  std::string command = args.command;
  if (command.empty()) {
    command = ShellQuote(SelfPath()) + " hook claude-code --profile " +
              ShellQuote(args.profile.empty() ? "workspace-write" : args.profile);
    if (!args.audit_log.empty())
      command += " --audit-log " + ShellQuote(AbsolutePath(args.audit_log));
  }

  std::string existing;
  struct stat st {};
  mode_t mode = 0644;
  if (::lstat(file.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) {
      std::cerr << "tollgate: cannot install the hook: " << file
                << " is not a regular file (a symlink or a directory); remove it or pass "
                   "--settings\n";
      return kExitInvalid;
    }
    mode = st.st_mode & 07777;
    std::ifstream in(file, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    if (!in && !in.eof()) {
      std::cerr << "tollgate: cannot read " << file << "\n";
      return kExitInvalid;
    }
    existing = content.str();
  } else if (errno != ENOENT) {
    std::cerr << "tollgate: cannot use " << file << ": " << std::strerror(errno) << "\n";
    return kExitInvalid;
  }
  InstallResult merged = MergeHookSettings(existing, command);
  if (!merged.error.empty()) {
    std::cerr << "tollgate: cannot install the hook: " << file << ": " << merged.error
              << "; it was left as it is: fix it (or move it away) and run install again\n";
    return kExitInvalid;
  }
  if (!merged.changed) {
    std::cout << "the tollgate hook is already in " << file << "\n";
    return 0;
  }
  std::string dir = file.substr(0, file.rfind('/'));
  if (!dir.empty() && ::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    std::cerr << "tollgate: cannot create " << dir << ": " << std::strerror(errno) << "\n";
    return kExitInvalid;
  }
  // Written aside and renamed over: a crash never leaves half a settings file.
  std::string temporary = file + ".tollgate-tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  bool ok = fd >= 0 &&
            ::write(fd, merged.text.data(), merged.text.size()) ==
                static_cast<ssize_t>(merged.text.size()) &&
            ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  if (!ok || ::rename(temporary.c_str(), file.c_str()) != 0) {
    std::cerr << "tollgate: cannot write " << file << ": " << std::strerror(errno) << "\n";
    ::unlink(temporary.c_str());
    return kExitInvalid;
  }
  std::cout << "installed the tollgate PreToolUse hook in " << file << ":\n  " << command << "\n";
  return 0;
}

}  // namespace

CLI::App* AddHookCommand(CLI::App* app, HookArgs* args) {
  CLI::App* cmd = app->add_subcommand("hook", "Agent hooks decided by a profile (docs/HOOKS.md)");
  cmd->require_subcommand(1);
  CLI::App* claude = cmd->add_subcommand(
      "claude-code",
      "Claude Code's PreToolUse hook: the hook's JSON on stdin, the decision on stdout");
  claude->add_option("--profile,-p", args->profile,
                     "Profile name or file (default: $TOLLGATE_PROFILE, else workspace-write)");
  claude->add_option("--workspace,-w", args->workspace,
                     "The project directory (default: $CLAUDE_PROJECT_DIR, else the call's cwd)");
  claude->add_option("--audit-log", args->audit_log,
                     "The audit log directory (default: the user's; none inside a sandbox)");
  claude->callback([args] { args->action = "claude-code"; });
  CLI::App* install = cmd->add_subcommand(
      "install", "Add the hook to the project's .claude/settings.json (run it before launch)");
  install->add_option("--workspace,-w", args->workspace,
                      "The project directory (default: current)");
  install->add_option("--settings", args->settings,
                      "The settings file (default: <workspace>/.claude/settings.json)");
  install->add_option("--profile,-p", args->profile, "The profile the hook decides with");
  install->add_option("--audit-log", args->audit_log, "The audit log directory the hook writes");
  install->add_option("--command", args->command, "The hook command to install, as written");
  install->callback([args] { args->action = "install"; });
  return cmd;
}

int HookCommand(const HookArgs& args) {
  if (args.action == "install") return Install(args);
  return ClaudeCode(args);
}

}  // namespace tollgate
