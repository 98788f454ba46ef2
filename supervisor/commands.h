// The subcommands of the tollgate program. Each returns the process exit status.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace tollgate {

// Exit statuses of tollgate itself (the README lists them all).
inline constexpr int kExitSetupFailed = 125;  // tollgate failed before the command ran
inline constexpr int kExitWallClock = 124;    // the wall-clock limit ended the run
inline constexpr int kExitInvalid = 1;        // check: a profile is invalid
inline constexpr int kExitUsage = 2;          // a command line that cannot be understood

struct RunArgs {
  std::string profile = "workspace-write";
  std::string workspace;  // empty: the current directory
  std::string landlock = "best-effort";
  bool require_limits = false;
  long sandbox_uid = -1;  // root only
  std::string result_json;
  // The audit log (docs/AUDIT.md): directory, sync mode, level.
  std::string audit_log;  // empty: audit::DefaultLogDirectory()
  std::string audit_sync = "batch";
  std::string audit_level = "actions";
  // Never wait for a person: a tool rule's `ask` is a deny ("needs approval").
  bool ci = false;
  // How `ask` is answered: "wait" for `tollgate approvals`, or "deny"; empty: wait when stderr
  // is a terminal and not --ci.
  std::string approvals;
  std::string approval_timeout = "2m";
  // A task dispatched through the ledger (docs/GOVERNANCE.md): text or a task's key, or a task
  // file; the phase to run (default: the next), --again to run a done phase or task anew.
  std::string task;
  std::string task_file;
  std::string phase;
  bool again = false;
  std::string classes_file;
  bool profile_given = false;  // --profile was on the command line
  // A JSON report of the run (its end, every denial, counts) read back from the audit log; with
  // --ci the same as Markdown is appended to $GITHUB_STEP_SUMMARY when it is set.
  std::string report;
  std::vector<std::string> command;
  // tollgate's arguments up to the command (no argv[0], no "--"): what a server's prepared
  // sandbox must have been prepared with (serve_client.h). Empty: no server is asked.
  std::vector<std::string> server_options;
  bool prepared_tried = false;  // main() already tried the prepared sandbox
  // Set by `tollgate serve` only (docs/SERVE.md): prepare the sandbox, say so on this fd, and
  // wait there for the command; what the client's stderr is.
  int prepared_fd = -1;
  bool prepared_stderr_terminal = false;
};
int RunCommand(const RunArgs& args);

// tollgate serve (cmd_serve.cc, docs/SERVE.md): keeps sandboxes prepared for the runs it has
// seen, and hands them to `tollgate run`.
struct ServeArgs {
  std::string socket;           // empty: serve::SocketPath()
  std::string max_age = "60s";  // a prepared sandbox older than this is made anew
  std::string keep = "30m";     // a run configuration unused this long is forgotten
  std::size_t max_configurations = 8;
};
int ServeCommand(const ServeArgs& args);

int CheckCommand(const std::vector<std::string>& profiles);

// tollgate mcp (cmd_mcp.cc, docs/MCP.md): an MCP server in a sandbox, its stdio relayed to the
// client on tollgate's own, tools filtered, calls decided and recorded. Exit status as run's.
struct McpArgs {
  std::string profile = "workspace-write";
  std::string workspace;  // empty: the current directory
  std::string landlock = "best-effort";
  long sandbox_uid = -1;  // root only
  std::string audit_log;  // empty: audit::DefaultLogDirectory()
  std::string audit_sync = "batch";
  std::string audit_level = "actions";
  std::size_t max_message = 16u << 20;  // bytes of one message, either way
  std::vector<std::string> command;     // the server
};
int McpCommand(const McpArgs& args);

struct ExplainArgs {
  std::string profile;
  std::string workspace;
  // A task's scope (workspace-relative paths): the plan as narrowed to it (docs/GOVERNANCE.md).
  std::vector<std::string> scope;
  bool json = false;
};
int ExplainCommand(const ExplainArgs& args);

// tollgate audit list|denied|summary|verify|export (cmd_audit.cc). Exit status 0, or
// kExitInvalid when verify finds a bad record or the log cannot be read, kExitUsage on a bad
// filter value.
struct AuditArgs {
  std::string action;   // list, summary, verify, export (denied is list with verdict deny)
  std::string log_dir;  // --audit-log; audit::DefaultLogDirectory() unless given
  std::string run, task, verdict, since, until, rule, grep;
  std::vector<std::string> kinds;
  long pid = -1;  // -1: any
  bool json = false;
  bool follow = false;
  std::string format = "jsonl";
  std::size_t top = 10;
};
// Adds the `audit` subcommand and its own subcommands to `app`, bound to `args`.
CLI::App* AddAuditCommand(CLI::App* app, AuditArgs* args);
int AuditCommand(const AuditArgs& args);

// tollgate approvals [list|approve ID|deny ID] (cmd_approvals.cc): answers the tool calls that
// running sandboxes wait on (approvals.h). Exit 0, kExitInvalid when the call was not found or
// not answered, kExitUsage on bad arguments.
struct ApprovalsArgs {
  std::string action = "list";  // list, approve, deny
  std::uint64_t id = 0;
  std::string run;  // a run id or prefix; needed only when several runs wait
  bool for_run = false;
  bool json = false;
};
CLI::App* AddApprovalsCommand(CLI::App* app, ApprovalsArgs* args);
int ApprovalsCommand(const ApprovalsArgs& args);

// tollgate classify TEXT | --task-file FILE (cmd_classify.cc): the class a task is routed to,
// the rule that decided and why, its profile, quota tier, phases, evidence and escalation, its
// scope and its task key. Exit 0, kExitInvalid when the task cannot be classified (an unknown
// kind, a bad task file or classes file, the class's profile not installed), kExitUsage on bad
// arguments.
struct ClassifyArgs {
  std::string text;
  std::string task_file;
  std::string classes_file;  // empty: classes.json in the profile search path
  bool json = false;
};
CLI::App* AddClassifyCommand(CLI::App* app, ClassifyArgs* args);
int ClassifyCommand(const ClassifyArgs& args);

// tollgate task list|show ID|history ID (cmd_task.cc): the task ledger, derived from the audit
// log's task.* records (docs/GOVERNANCE.md). Exit 0, kExitInvalid when the log cannot be read
// or the task is not found, kExitUsage on bad arguments.
struct TaskArgs {
  std::string action;  // list, show, history
  std::string id;      // a task key or a unique prefix
  std::string log_dir;
  std::string classes_file;
  bool json = false;
};
CLI::App* AddTaskCommand(CLI::App* app, TaskArgs* args);
int TaskCommand(const TaskArgs& args);

// tollgate hook claude-code | hook install (cmd_hook.cc, docs/HOOKS.md): Claude Code's
// PreToolUse hook, decided by a profile, and its installation into a project's settings.
// claude-code exits 0 with the decision on stdout, or 2 (Claude Code blocks the call) when no
// decision can be made or recorded; install exits 0, or kExitInvalid when the settings file
// cannot be merged.
struct HookArgs {
  std::string action;     // claude-code, install
  std::string profile;    // empty: $TOLLGATE_PROFILE, else workspace-write
  std::string workspace;  // empty: $CLAUDE_PROJECT_DIR, else the hook input's cwd
  std::string audit_log;  // empty: audit::DefaultLogDirectory() (none inside a sandbox)
  std::string settings;   // install: the file (default <workspace>/.claude/settings.json)
  std::string command;    // install: the hook command (default: this binary, hook claude-code)
};
CLI::App* AddHookCommand(CLI::App* app, HookArgs* args);
int HookCommand(const HookArgs& args);

}  // namespace tollgate
