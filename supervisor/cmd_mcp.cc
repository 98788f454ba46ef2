// tollgate mcp: an MCP server run in a sandbox built from the profile, with the MCP client (the
// agent) on tollgate's stdin and stdout and the relay (mcp_shim.h) in between (docs/MCP.md).
//
// Processes: the supervisor (this one) launches the server with pipes as its stdin and stdout;
// the relay is a child forked before the sandbox is cloned (Launch() must clone from a
// single-threaded process, and the relay needs two threads), holding the client's stdin and
// stdout and the supervisor's ends of the pipes. The relay writes its mcp.call records through an
// audit writer of its own on the same log (writers share a log through its lock), under the
// run's id, between the supervisor's run.start and run.end.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>

#include "policy/plan_compiler.h"
#include "policy/profile_loader.h"
#include "supervisor/audit/log_files.h"
#include "supervisor/audit/writer.h"
#include "supervisor/commands.h"
#include "supervisor/launcher.h"
#include "supervisor/mcp_shim.h"
#include "supervisor/placeholder_ledger.h"
#include "supervisor/plan_context.h"
#include "supervisor/profile_search.h"
#include "supervisor/run_audit.h"
#include "supervisor/tool_paths.h"

namespace tollgate {
namespace {

int Fail(const std::string& message) {
  std::cerr << "tollgate: mcp: " << message << "\n";
  return kExitSetupFailed;
}

// The relay process: never returns.
[[noreturn]] void RelayMain(const audit::WriterOptions& writer_options, const policy::McpSpec& spec,
                            const policy::SandboxPlan& plan, std::size_t max_message, int server_in,
                            int server_out) {
  ::signal(SIGPIPE, SIG_IGN);
  // A terminal's ^C reaches the whole group: the supervisor forwards it to the server, and the
  // relay ends when the server's output does, with every record written.
  ::signal(SIGINT, SIG_IGN);
  std::string error;
  audit::WriterOptions options = writer_options;
  options.defer_sync_thread = false;
  std::unique_ptr<audit::AuditWriter> log = audit::AuditWriter::Open(options, &error);
  if (!log) {
    std::string text = "tollgate: mcp: cannot use the audit log: " + error + "\n";
    (void)!::write(STDERR_FILENO, text.data(), text.size());
    ::kill(::getppid(), SIGTERM);
    ::_exit(kExitAuditFailed);
  }
  std::mutex log_mutex;
  McpRelayOptions relay_options;
  relay_options.spec = &spec;
  relay_options.plan = &plan;
  relay_options.profile = plan.profile_name;
  relay_options.max_message_bytes = max_message;
  relay_options.record = [&](const audit::Event& event) {
    std::lock_guard<std::mutex> lock(log_mutex);
    return log->Append(event);
  };
  McpRelay relay(std::move(relay_options));
  bool ok = RunMcpRelay(relay, STDIN_FILENO, STDOUT_FILENO, server_in, server_out);
  ok = log->Close() && ok;
  if (!ok) {
    // No record, no action: the server is stopped (the supervisor forwards the signal).
    ::kill(::getppid(), SIGTERM);
  }
  ::_exit(ok ? 0 : kExitAuditFailed);
}

}  // namespace

int McpCommand(const McpArgs& args) {
  if (args.sandbox_uid >= 0 && geteuid() != 0)
    return Fail("--sandbox-uid is for root only: an ordinary user's sandbox always runs as them");
  if (args.sandbox_uid == 0)
    return Fail("--sandbox-uid 0: the sandbox never runs as host root; pick an unprivileged uid");
  if (args.max_message < 1024) return Fail("--max-message must be at least 1024 bytes");
  SandboxIds ids =
      ChooseSandboxIds(args.workspace.empty() ? "." : args.workspace, args.sandbox_uid);
  const std::string audit_dir =
      args.audit_log.empty() ? audit::DefaultLogDirectory() : AbsolutePath(args.audit_log);

  std::vector<std::string> profile_file_digests;
  policy::LoadResult loaded = MakeProfileLoader(&profile_file_digests).Load(args.profile);
  if (!loaded.ok()) {
    std::cerr << "tollgate: profile " << args.profile << " is invalid:\n";
    for (const policy::ProfileError& error : loaded.errors)
      std::cerr << "  " << error.ToString() << "\n";
    return kExitSetupFailed;
  }
  PlanContextResult context = GatherPlanContext(args.workspace, ids.uid);
  if (!context.error.empty()) return Fail(context.error);
  context.context.supervisor_private.push_back(audit_dir);
  if (std::string state = PlaceholderLedger::StateDirectory(); !state.empty())
    context.context.supervisor_private.push_back(state);
  policy::CompileOptions options;
  options.landlock = policy::ParseLandlockMode(args.landlock);
  policy::CompileResult compiled = policy::CompilePlan(*loaded.profile, context.context, options);
  if (!compiled.ok()) {
    for (const std::string& error : compiled.errors) std::cerr << "tollgate: " << error << "\n";
    return kExitSetupFailed;
  }
  ToolMounts tool_mounts = AddToolShims(&compiled.plan, FindShimBinary());
  if (!tool_mounts.error.empty()) return Fail(tool_mounts.error);

  const audit::WriterOptions audit_options =
      SandboxRunWriterOptions(audit_dir, args.audit_sync, loaded.profile->name);
  std::string audit_error;
  std::unique_ptr<audit::AuditWriter> audit_log =
      audit::AuditWriter::Open(audit_options, &audit_error);
  if (!audit_log) return Fail("cannot use the audit log: " + audit_error);
  audit::Event start =
      RunStartEvent(SandboxRunFacts(args.command, *loaded.profile, profile_file_digests,
                                    compiled.plan, ids, args.audit_level, args.audit_sync));
  start.details["mcp"] = true;
  if (!audit_log->Append(start))
    return Fail("cannot write to the audit log: " + audit_log->failure());

  // The server's stdin and stdout.
  int to_server[2], from_server[2];
  if (::pipe2(to_server, O_CLOEXEC) != 0 || ::pipe2(from_server, O_CLOEXEC) != 0)
    return Fail(std::string("cannot make the server's pipes: ") + std::strerror(errno));
  // The relay is forked while this process has no other thread (the writer's batch thread is
  // deferred; Launch() clones later).
  const pid_t relay = ::fork();
  if (relay < 0) return Fail(std::string("cannot start the relay: ") + std::strerror(errno));
  if (relay == 0) {
    ::close(to_server[0]);
    ::close(from_server[1]);
    RelayMain(audit_options, loaded.profile->mcp, compiled.plan, args.max_message, to_server[1],
              from_server[0]);
  }
  // The supervisor keeps nothing of the client's stdio: the sandbox inherits 0 and 1 as pipes.
  if (::dup2(to_server[0], STDIN_FILENO) < 0 || ::dup2(from_server[1], STDOUT_FILENO) < 0) {
    ::kill(relay, SIGKILL);
    ::waitpid(relay, nullptr, 0);
    return Fail(std::string("cannot give the server its pipes: ") + std::strerror(errno));
  }
  for (int fd : {to_server[0], to_server[1], from_server[0], from_server[1]}) ::close(fd);

  LaunchOptions launch;
  launch.argv = args.command;
  launch.plan = std::move(compiled.plan);
  launch.host_uid = ids.uid;
  launch.host_gid = ids.gid;
  launch.audit = audit_log.get();
  launch.audit_observe = args.audit_level != "run";
  launch.audit_files = args.audit_level == "files";
  launch.tool_paths = tool_mounts.paths;
  // Nobody can be asked: stdin and stdout are the protocol's.
  launch.ask_is_deny = true;
  launch.run_id = audit_options.run;
  const policy::LimitsPlan limits = launch.plan.limits;
  RunResult result = Launch(launch);

  // Everything in the sandbox is gone: closing our copies ends the relay's server side.
  int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::close(null_fd);
  }
  int relay_status = 0;
  while (::waitpid(relay, &relay_status, 0) < 0 && errno == EINTR) {
  }
  const bool relay_audit_failed =
      WIFEXITED(relay_status) && WEXITSTATUS(relay_status) == kExitAuditFailed;

  if (result.status != RunStatus::kAuditFailed) {
    bool recorded = true;
    for (const audit::Event& event : LimitHitEvents(result, limits))
      recorded = recorded && audit_log->Append(event);
    recorded = recorded && audit_log->Append(RunEndEvent(result));
    if (!recorded) {
      result.status = RunStatus::kAuditFailed;
      result.reason =
          "the audit log could not be written (" + audit_log->failure() + ") when the run ended";
    }
  }
  if (!audit_log->Close() && result.status != RunStatus::kAuditFailed) {
    result.status = RunStatus::kAuditFailed;
    result.reason = "the audit log could not be synced to disk (" + audit_log->failure() + ")";
  }
  if (relay_audit_failed && result.status != RunStatus::kAuditFailed) {
    result.status = RunStatus::kAuditFailed;
    result.reason = "the audit log could not be written during the session";
  }
  if (result.status == RunStatus::kSetupError || result.status == RunStatus::kInternalError ||
      result.status == RunStatus::kAuditFailed || result.status == RunStatus::kTimeout) {
    std::cerr << "tollgate: " << result.reason << "\n";
  }
  return result.ProcessExitCode();
}

}  // namespace tollgate
