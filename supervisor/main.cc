// tollgate: launches AI coding agents (or any command) inside a sandbox built from a profile.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "supervisor/commands.h"
#include "supervisor/kernel/launch_trace.h"
#include "supervisor/serve_client.h"

namespace {

using namespace tollgate;

// The options `run` and `mcp` share: which profile and workspace, how the sandbox is built, and
// where and how the run is recorded.
template <typename Args>
void AddSandboxOptions(CLI::App* cmd, Args* args) {
  cmd->add_option("--profile,-p", args->profile, "Profile name or file")->capture_default_str();
  cmd->add_option("--workspace,-w", args->workspace, "The project directory (default: current)");
  cmd->add_option("--landlock", args->landlock, "best-effort, require or off")
      ->check(CLI::IsMember({"best-effort", "require", "off"}))
      ->capture_default_str();
  cmd->add_option("--sandbox-uid", args->sandbox_uid,
                  "As root: the unprivileged host uid the sandbox runs as");
  cmd->add_option("--audit-log", args->audit_log,
                  "The audit log directory (default: $XDG_STATE_HOME/tollgate/audit, "
                  "or /var/log/tollgate as root)");
  cmd->add_option("--audit-sync", args->audit_sync, "none, batch or every")
      ->check(CLI::IsMember({"none", "batch", "every"}))
      ->capture_default_str();
  cmd->add_option("--audit-level", args->audit_level,
                  "What the audit log records: run (start and end only), actions (also "
                  "every exec and denied syscall) or files (also every file access)")
      ->check(CLI::IsMember({"run", "actions", "files"}))
      ->capture_default_str();
}

CLI::App* AddRunCommand(CLI::App* app, RunArgs* run) {
  CLI::App* cmd = app->add_subcommand("run", "Run a command inside a sandbox built from a profile");
  AddSandboxOptions(cmd, run);
  cmd->add_flag("--require-limits", run->require_limits,
                "Refuse to run when a limit of the profile cannot be enforced");
  cmd->add_option("--result-json", run->result_json, "Write the run's result as JSON to FILE");
  cmd->add_flag("--ci", run->ci,
                "Non-interactive: never wait for a person; a tool call a rule would ask "
                "about is denied; a Markdown summary (denials first) is appended to "
                "$GITHUB_STEP_SUMMARY when it is set");
  cmd->add_option("--report", run->report,
                  "Write a JSON report of the run (its end, every denial, counts, the "
                  "task's outcome) to FILE, read back from the audit log");
  cmd->add_option("--approvals", run->approvals,
                  "How a tool call a rule asks about is answered: wait (for `tollgate "
                  "approvals` in another terminal) or deny. Default: wait when stderr is a "
                  "terminal and --ci is not given")
      ->check(CLI::IsMember({"wait", "deny"}));
  cmd->add_option("--approval-timeout", run->approval_timeout,
                  "How long a call waits for approval before it is denied (90s, 5m)")
      ->capture_default_str();
  cmd->add_option("--task,-t", run->task,
                  "Dispatch a task through the ledger: its text, or the key of a task "
                  "already dispatched (its class chooses the profile)");
  cmd->add_option("--task-file", run->task_file,
                  "Dispatch the task of a task file (JSON: title, description, kind, scope, "
                  "phase, base)");
  cmd->add_option("--phase", run->phase,
                  "The task's phase to run (plan, implement, review, ship; default: the "
                  "next one)");
  cmd->add_flag("--again", run->again, "Run a phase or a task that is done anew");
  cmd->add_option("--classes", run->classes_file,
                  "The classes file (default: classes.json on the profile search path)");
  cmd->add_option("command", run->command, "The command and its arguments (after --)");
  // `tollgate serve` starts the supervisor of a prepared sandbox with these (docs/SERVE.md).
  cmd->add_option("--prepared-fd", run->prepared_fd)->group("");
  cmd->add_flag("--prepared-stderr-terminal", run->prepared_stderr_terminal)->group("");
  cmd->prefix_command(false);
  return cmd;
}

CLI::App* AddServeCommand(CLI::App* app, ServeArgs* serve) {
  CLI::App* cmd = app->add_subcommand(
      "serve", "Keep sandboxes prepared for the runs seen, so that `tollgate run` starts at once");
  cmd->add_option("--socket", serve->socket,
                  "The socket to listen on (default: $TOLLGATE_SERVE_SOCKET, else "
                  "/run/tollgate/serve.sock for root, $XDG_RUNTIME_DIR/tollgate/serve.sock)");
  cmd->add_option("--max-age", serve->max_age,
                  "A prepared sandbox older than this is discarded and prepared anew")
      ->capture_default_str();
  cmd->add_option("--keep", serve->keep,
                  "A run configuration (options, directory, environment) not used for this long "
                  "gets no more prepared sandboxes")
      ->capture_default_str();
  cmd->add_option("--max-configurations", serve->max_configurations,
                  "At most this many run configurations have a sandbox prepared")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  return cmd;
}

CLI::App* AddMcpCommand(CLI::App* app, McpArgs* mcp) {
  CLI::App* cmd = app->add_subcommand(
      "mcp", "Run an MCP stdio server in a sandbox; relay, filter and record its tool calls");
  AddSandboxOptions(cmd, mcp);
  cmd->add_option("--max-message", mcp->max_message, "The largest message relayed, in bytes")
      ->capture_default_str();
  cmd->add_option("command", mcp->command, "The MCP server and its arguments (after --)")
      ->required();
  cmd->prefix_command(false);
  return cmd;
}

CLI::App* AddCheckCommand(CLI::App* app, std::vector<std::string>* profiles) {
  CLI::App* cmd = app->add_subcommand("check", "Validate profiles and print every error");
  cmd->add_option("profiles", *profiles, "Profile names or files")->required();
  return cmd;
}

CLI::App* AddExplainCommand(CLI::App* app, ExplainArgs* explain) {
  CLI::App* cmd = app->add_subcommand("explain", "Show the compiled plans of a profile in words");
  cmd->add_option("profile", explain->profile, "Profile name or file")->required();
  cmd->add_option("--workspace,-w", explain->workspace, "The project directory");
  cmd->add_option("--scope", explain->scope,
                  "A task's scope: only these workspace paths (and the profile's "
                  "scratch folders) stay writable")
      ->allow_extra_args(false);
  cmd->add_flag("--json", explain->json, "Print the plans as JSON");
  return cmd;
}

// The sub-command the command line names: the first word that is one, past the global options
// (--log-level takes a value). Empty when there is none (--help, --version, a mistake).
std::string RequestedSubcommand(int argc, char** argv, const std::vector<std::string>& names) {
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--log-level") {
      ++i;
      continue;
    }
    if (!word.empty() && word[0] == '-') continue;
    return std::find(names.begin(), names.end(), word) != names.end() ? word : "";
  }
  return "";
}

// `tollgate [global options] run [options] -- COMMAND…` with neither a task nor help: the
// options before "--" and the command, for the sandbox a server prepared for exactly these
// options (serve_client.h). False for anything else.
bool PreparedRunCandidate(int argc, char** argv, std::vector<std::string>* options,
                          std::vector<std::string>* command) {
  if (RequestedSubcommand(argc, argv, {"run"}) != "run") return false;
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") {
      if (i + 1 >= argc) return false;
      options->assign(argv + 1, argv + i);
      command->assign(argv + i + 1, argv + argc);
      return true;
    }
    // Tasks go through the ledger; help and version print; the prepared sandbox's own command
    // line is not a client's.
    if (word == "--task" || word == "-t" || word.rfind("--task=", 0) == 0 ||
        word.rfind("--task-file", 0) == 0 || word == "--help" || word == "-h" ||
        word == "--version" || word.rfind("--prepared", 0) == 0) {
      return false;
    }
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tollgate;
  kernel::LaunchTrace("main");
  // A run whose sandbox a server has prepared starts before anything else is set up (the
  // options were checked when the sandbox was prepared for them). Otherwise the server is told
  // after the command line is parsed (RunCommand).
  bool prepared_tried = false;
  {
    std::vector<std::string> options, command;
    if (PreparedRunCandidate(argc, argv, &options, &command)) {
      prepared_tried = true;
      if (std::optional<int> code = RunInPreparedSandbox(options, command)) {
        // Nothing of this process needs tearing down: the run was someone else's.
        std::fflush(nullptr);
        ::_exit(*code);
      }
    }
  }
  CLI::App app{"tollgate — a sandboxing supervisor for AI coding agents"};
  app.set_version_flag("--version", std::string("tollgate ") + TOLLGATE_VERSION);
  app.require_subcommand(1);
  std::string log_level = "warn";
  bool verbose = false;
  app.add_option("--log-level", log_level,
                 "Diagnostics on stderr: trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_flag("-v,--verbose", verbose, "Same as --log-level=info");

  // Only the sub-command the command line names is set up (each adds dozens of options, and
  // building them all cost every launch ~0.3 ms); all of them when it names none, for --help and
  // for the error that lists them.
  const std::vector<std::string> names = {"run",       "mcp",      "check", "explain", "audit",
                                          "approvals", "classify", "task",  "hook",    "serve"};
  const std::string wanted = RequestedSubcommand(argc, argv, names);
  auto wants = [&](const char* name) { return wanted.empty() || wanted == name; };

  RunArgs run;
  McpArgs mcp;
  std::vector<std::string> check_profiles;
  ExplainArgs explain;
  AuditArgs audit_args;
  ApprovalsArgs approvals_args;
  ClassifyArgs classify_args;
  TaskArgs task_args;
  HookArgs hook_args;
  ServeArgs serve_args;
  CLI::App* run_cmd = wants("run") ? AddRunCommand(&app, &run) : nullptr;
  CLI::App* mcp_cmd = wants("mcp") ? AddMcpCommand(&app, &mcp) : nullptr;
  CLI::App* check_cmd = wants("check") ? AddCheckCommand(&app, &check_profiles) : nullptr;
  CLI::App* explain_cmd = wants("explain") ? AddExplainCommand(&app, &explain) : nullptr;
  CLI::App* audit_cmd = wants("audit") ? AddAuditCommand(&app, &audit_args) : nullptr;
  CLI::App* approvals_cmd =
      wants("approvals") ? AddApprovalsCommand(&app, &approvals_args) : nullptr;
  CLI::App* classify_cmd = wants("classify") ? AddClassifyCommand(&app, &classify_args) : nullptr;
  CLI::App* task_cmd = wants("task") ? AddTaskCommand(&app, &task_args) : nullptr;
  CLI::App* hook_cmd = wants("hook") ? AddHookCommand(&app, &hook_args) : nullptr;
  CLI::App* serve_cmd = wants("serve") ? AddServeCommand(&app, &serve_args) : nullptr;
  auto chosen = [](CLI::App* cmd) { return cmd != nullptr && cmd->parsed(); };

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    // A run that could not start is "tollgate failed before the command ran" (DESIGN.md).
    bool is_run = argc > 1 && (std::string(argv[1]) == "run" || std::string(argv[1]) == "mcp");
    return code == 0 ? 0 : (is_run ? kExitSetupFailed : kExitUsage);
  }

  auto sink = std::make_shared<spdlog::sinks::stderr_sink_st>();
  auto logger = std::make_shared<spdlog::logger>("tollgate", sink);
  logger->set_pattern("tollgate: %l: %v");
  logger->set_level(spdlog::level::from_str(verbose && log_level == "warn" ? "info" : log_level));
  spdlog::set_default_logger(logger);

  kernel::LaunchTrace("parsed");
  if (chosen(run_cmd)) {
    run.profile_given = run_cmd->get_option("--profile")->count() > 0;
    run.prepared_tried = prepared_tried;
    // The arguments up to the command, for a server's prepared sandbox (serve_client.h): only
    // when the command is exactly argv's tail, as it is whenever it follows "--".
    const std::size_t tail = run.command.size();
    if (run.prepared_fd >= 0) {
      // A prepared sandbox's own configuration: its arguments but the ones `serve` added.
      for (int i = 1; i < argc; ++i) {
        const std::string word = argv[i];
        if (word == "--prepared-fd") {
          ++i;
        } else if (word != "--prepared-stderr-terminal") {
          run.server_options.push_back(word);
        }
      }
    } else if (tail > 0 && tail < static_cast<std::size_t>(argc) &&
               std::equal(run.command.begin(), run.command.end(), argv + (argc - tail))) {
      run.server_options.assign(argv + 1, argv + (argc - tail));
      if (!run.server_options.empty() && run.server_options.back() == "--")
        run.server_options.pop_back();
    }
    int code = RunCommand(run);
    kernel::LaunchTrace("run returned");
    return code;
  }
  if (chosen(mcp_cmd)) return McpCommand(mcp);
  if (chosen(check_cmd)) return CheckCommand(check_profiles);
  if (chosen(explain_cmd)) return ExplainCommand(explain);
  if (chosen(audit_cmd)) return AuditCommand(audit_args);
  if (chosen(approvals_cmd)) return ApprovalsCommand(approvals_args);
  if (chosen(classify_cmd)) return ClassifyCommand(classify_args);
  if (chosen(task_cmd)) return TaskCommand(task_args);
  if (chosen(hook_cmd)) return HookCommand(hook_args);
  if (chosen(serve_cmd)) return ServeCommand(serve_args);
  return kExitUsage;
}
