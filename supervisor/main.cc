// tollgate: launches AI coding agents (or any command) inside a sandbox built from a profile.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "supervisor/commands.h"
#include "supervisor/kernel/launch_trace.h"

int main(int argc, char** argv) {
  using namespace tollgate;
  kernel::LaunchTrace("main");
  CLI::App app{"tollgate — a sandboxing supervisor for AI coding agents"};
  app.set_version_flag("--version", std::string("tollgate ") + TOLLGATE_VERSION);
  app.require_subcommand(1);
  std::string log_level = "warn";
  bool verbose = false;
  app.add_option("--log-level", log_level,
                 "Diagnostics on stderr: trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_flag("-v,--verbose", verbose, "Same as --log-level=info");

  RunArgs run;
  CLI::App* run_cmd =
      app.add_subcommand("run", "Run a command inside a sandbox built from a profile");
  run_cmd->add_option("--profile,-p", run.profile, "Profile name or file")->capture_default_str();
  run_cmd->add_option("--workspace,-w", run.workspace, "The project directory (default: current)");
  run_cmd->add_option("--landlock", run.landlock, "best-effort, require or off")
      ->check(CLI::IsMember({"best-effort", "require", "off"}))
      ->capture_default_str();
  run_cmd->add_flag("--require-limits", run.require_limits,
                    "Refuse to run when a limit of the profile cannot be enforced");
  run_cmd->add_option("--sandbox-uid", run.sandbox_uid,
                      "As root: the unprivileged host uid the sandbox runs as");
  run_cmd->add_option("--result-json", run.result_json, "Write the run's result as JSON to FILE");
  run_cmd->add_option("--audit-log", run.audit_log,
                      "The audit log directory (default: $XDG_STATE_HOME/tollgate/audit, "
                      "or /var/log/tollgate as root)");
  run_cmd->add_option("--audit-sync", run.audit_sync, "none, batch or every")
      ->check(CLI::IsMember({"none", "batch", "every"}))
      ->capture_default_str();
  run_cmd
      ->add_option("--audit-level", run.audit_level,
                   "What the audit log records: run (start and end only), actions (also "
                   "every exec and denied syscall) or files (also every file access)")
      ->check(CLI::IsMember({"run", "actions", "files"}))
      ->capture_default_str();
  run_cmd->add_flag("--ci", run.ci,
                    "Non-interactive: never wait for a person; a tool call a rule would ask "
                    "about is denied; a Markdown summary (denials first) is appended to "
                    "$GITHUB_STEP_SUMMARY when it is set");
  run_cmd->add_option("--report", run.report,
                      "Write a JSON report of the run (its end, every denial, counts, the "
                      "task's outcome) to FILE, read back from the audit log");
  run_cmd
      ->add_option("--approvals", run.approvals,
                   "How a tool call a rule asks about is answered: wait (for `tollgate "
                   "approvals` in another terminal) or deny. Default: wait when stderr is a "
                   "terminal and --ci is not given")
      ->check(CLI::IsMember({"wait", "deny"}));
  run_cmd
      ->add_option("--approval-timeout", run.approval_timeout,
                   "How long a call waits for approval before it is denied (90s, 5m)")
      ->capture_default_str();
  run_cmd->add_option("--task,-t", run.task,
                      "Dispatch a task through the ledger: its text, or the key of a task "
                      "already dispatched (its class chooses the profile)");
  run_cmd->add_option("--task-file", run.task_file,
                      "Dispatch the task of a task file (JSON: title, description, kind, scope, "
                      "phase, base)");
  run_cmd->add_option("--phase", run.phase,
                      "The task's phase to run (plan, implement, review, ship; default: the "
                      "next one)");
  run_cmd->add_flag("--again", run.again, "Run a phase or a task that is done anew");
  run_cmd->add_option("--classes", run.classes_file,
                      "The classes file (default: classes.json on the profile search path)");
  run_cmd->add_option("command", run.command, "The command and its arguments (after --)")
      ->required();
  run_cmd->prefix_command(false);

  McpArgs mcp;
  CLI::App* mcp_cmd = app.add_subcommand(
      "mcp", "Run an MCP stdio server in a sandbox; relay, filter and record its tool calls");
  mcp_cmd->add_option("--profile,-p", mcp.profile, "Profile name or file")->capture_default_str();
  mcp_cmd->add_option("--workspace,-w", mcp.workspace, "The project directory (default: current)");
  mcp_cmd->add_option("--landlock", mcp.landlock, "best-effort, require or off")
      ->check(CLI::IsMember({"best-effort", "require", "off"}));
  mcp_cmd->add_option("--sandbox-uid", mcp.sandbox_uid, "As root: the uid the sandbox runs as");
  mcp_cmd->add_option("--audit-log", mcp.audit_log, "The audit log directory");
  mcp_cmd->add_option("--audit-sync", mcp.audit_sync, "none, batch or every")
      ->check(CLI::IsMember({"none", "batch", "every"}));
  mcp_cmd->add_option("--audit-level", mcp.audit_level, "run, actions or files")
      ->check(CLI::IsMember({"run", "actions", "files"}));
  mcp_cmd->add_option("--max-message", mcp.max_message, "The largest message relayed, in bytes")
      ->capture_default_str();
  mcp_cmd->add_option("command", mcp.command, "The MCP server and its arguments (after --)")
      ->required();
  mcp_cmd->prefix_command(false);

  std::vector<std::string> check_profiles;
  CLI::App* check_cmd = app.add_subcommand("check", "Validate profiles and print every error");
  check_cmd->add_option("profiles", check_profiles, "Profile names or files")->required();

  ExplainArgs explain;
  CLI::App* explain_cmd =
      app.add_subcommand("explain", "Show the compiled plans of a profile in words");
  explain_cmd->add_option("profile", explain.profile, "Profile name or file")->required();
  explain_cmd->add_option("--workspace,-w", explain.workspace, "The project directory");
  explain_cmd
      ->add_option("--scope", explain.scope,
                   "A task's scope: only these workspace paths (and the profile's "
                   "scratch folders) stay writable")
      ->allow_extra_args(false);
  explain_cmd->add_flag("--json", explain.json, "Print the plans as JSON");

  AuditArgs audit_args;
  CLI::App* audit_cmd = AddAuditCommand(&app, &audit_args);
  ApprovalsArgs approvals_args;
  CLI::App* approvals_cmd = AddApprovalsCommand(&app, &approvals_args);
  ClassifyArgs classify_args;
  CLI::App* classify_cmd = AddClassifyCommand(&app, &classify_args);
  TaskArgs task_args;
  CLI::App* task_cmd = AddTaskCommand(&app, &task_args);
  HookArgs hook_args;
  CLI::App* hook_cmd = AddHookCommand(&app, &hook_args);

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
  if (*run_cmd) {
    run.profile_given = run_cmd->get_option("--profile")->count() > 0;
    int code = RunCommand(run);
    kernel::LaunchTrace("run returned");
    return code;
  }
  if (*mcp_cmd) return McpCommand(mcp);
  if (*check_cmd) return CheckCommand(check_profiles);
  if (*explain_cmd) return ExplainCommand(explain);
  if (*audit_cmd) return AuditCommand(audit_args);
  if (*approvals_cmd) return ApprovalsCommand(approvals_args);
  if (*classify_cmd) return ClassifyCommand(classify_args);
  if (*task_cmd) return TaskCommand(task_args);
  if (*hook_cmd) return HookCommand(hook_args);
  return kExitUsage;
}
