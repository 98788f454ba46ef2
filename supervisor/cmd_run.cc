// tollgate run: load the profile, compile the plans, launch, and exit with the command's status.
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>

#include "policy/plan_compiler.h"
#include "policy/profile_loader.h"
#include "supervisor/audit/log_files.h"
#include "supervisor/audit/writer.h"
#include "supervisor/commands.h"
#include "supervisor/governance/dispatch.h"
#include "supervisor/kernel/launch_trace.h"
#include "supervisor/launcher.h"
#include "supervisor/placeholder_ledger.h"
#include "supervisor/plan_context.h"
#include "supervisor/prepared_sandbox.h"
#include "supervisor/profile_inputs.h"
#include "supervisor/profile_search.h"
#include "supervisor/run_audit.h"
#include "supervisor/run_report.h"
#include "supervisor/serve_client.h"
#include "supervisor/serve_protocol.h"
#include "supervisor/tool_paths.h"

namespace tollgate {
namespace {

int Fail(const std::string& message) {
  std::cerr << "tollgate: " << message << "\n";
  return kExitSetupFailed;
}

// --report FILE (JSON) and, with --ci, $GITHUB_STEP_SUMMARY (Markdown, appended): the run as the
// audit log recorded it, denials first.
void WriteReports(const RunArgs& args, const std::string& audit_dir, const LogPosition& from,
                  const std::string& run, const RunResult& result) {
  const char* step_summary = std::getenv("GITHUB_STEP_SUMMARY");
  const bool summary = args.ci && step_summary != nullptr && step_summary[0] != '\0';
  if (args.report.empty() && !summary) return;
  RunReport report = ReadRunReport(audit_dir, from, run);
  report.result = result.ToJson();
  if (!args.report.empty()) {
    std::ofstream out(args.report);
    out << RunReportJson(report).dump(2) << "\n";
    if (!out) std::cerr << "tollgate: cannot write the report to " << args.report << "\n";
  }
  if (summary) {
    std::ofstream out(step_summary, std::ios::app);
    out << RunReportMarkdown(report);
    if (!out)
      std::cerr << "tollgate: cannot append to $GITHUB_STEP_SUMMARY (" << step_summary << ")\n";
  }
}

std::string RealPath(const std::string& path) {
  char* resolved = ::realpath(path.c_str(), nullptr);
  if (resolved == nullptr) return {};
  std::string text = resolved;
  std::free(resolved);
  return text;
}

}  // namespace

int RunCommand(const RunArgs& args) {
  // A sandbox prepared by `tollgate serve` (docs/SERVE.md): built now, its command given later.
  const bool prepared = args.prepared_fd >= 0;
  if (!prepared && args.task.empty() && args.task_file.empty() && !args.server_options.empty()) {
    if (std::optional<int> code =
            RunThroughServer(args.server_options, args.command, !args.prepared_tried))
      return *code;
  }
  if (!prepared && args.command.empty()) return Fail("no command to run: give it after --");
  if (prepared && (!args.task.empty() || !args.task_file.empty()))
    return Fail("a task is never run in a prepared sandbox");
  // Started as /proc/self/exe by the server: named as a launch from the command line is (the
  // sandbox's init inherits the name).
  if (prepared) ::prctl(PR_SET_NAME, "tollgate", 0, 0, 0);
  if (args.sandbox_uid >= 0 && geteuid() != 0) {
    return Fail("--sandbox-uid is for root only: an ordinary user's sandbox always runs as them");
  }
  if (args.sandbox_uid == 0) {
    return Fail("--sandbox-uid 0: the sandbox never runs as host root; pick an unprivileged uid");
  }
  // As root the sandbox runs as another user: {home} is that user's home, whose secrets the
  // profile hides (a workspace may well lie inside it).
  SandboxIds ids =
      ChooseSandboxIds(args.workspace.empty() ? "." : args.workspace, args.sandbox_uid);
  // Without a cgroup to put it in, the sandbox's init is cloned now (no thread exists yet: the
  // audit log is opened below): its namespaces, id maps and network helper are made while the
  // profile is loaded and compiled. It waits for its plan, and is killed if the profile turns
  // out invalid or the audit log cannot be used.
  kernel::LaunchTrace("ids chosen");
  const std::string audit_dir =
      args.audit_log.empty() ? audit::DefaultLogDirectory() : AbsolutePath(args.audit_log);

  // A task: the ledger's gate decides whether (and under which profile) anything runs.
  std::unique_ptr<governance::Dispatch> dispatch;
  std::string profile_name = args.profile;
  if (!args.task.empty() || !args.task_file.empty()) {
    if (args.profile_given)
      return Fail(
          "--profile with a task: a task runs under its class's profile for the phase "
          "(tollgate classify shows which)");
    if (!args.task.empty() && !args.task_file.empty())
      return Fail("--task and --task-file: give the task one way");
    governance::DispatchRequest request;
    request.task = args.task;
    request.task_file = args.task_file;
    request.phase = args.phase;
    request.again = args.again;
    request.classes_file = args.classes_file;
    char* canonical = ::realpath(args.workspace.empty() ? "." : args.workspace.c_str(), nullptr);
    if (canonical == nullptr) return Fail("the workspace " + args.workspace + " does not exist");
    request.workspace = canonical;
    std::free(canonical);
    request.audit_dir = audit_dir;
    request.uid = ids.uid;
    request.gid = ids.gid;
    int code = 0;
    dispatch = governance::Dispatch::Prepare(request, &code);
    if (!dispatch) return code;
    profile_name = dispatch->profile();
  } else if (!args.phase.empty() || args.again || !args.classes_file.empty()) {
    return Fail("--phase, --again and --classes are for a task (--task or --task-file)");
  }
  kernel::CgroupV2Probe cgroup_probe = kernel::ProbeCgroupV2();
  kernel::LaunchTrace("cgroup probed");
  std::unique_ptr<EarlySandbox> early;
  if (!cgroup_probe.available) {
    early = StartEarlySandbox(ids.uid, ids.gid, /*forward_signals=*/true,
                              /*seccomp_listener=*/args.audit_level != "run");
  }

  std::vector<std::string> profile_file_digests;
  std::vector<std::string> profile_files;
  policy::LoadResult loaded =
      MakeProfileLoader(&profile_file_digests, &profile_files).Load(profile_name);
  kernel::LaunchTrace("loaded");
  if (!loaded.ok()) {
    std::cerr << "tollgate: profile " << profile_name << " is invalid:\n";
    for (const policy::ProfileError& error : loaded.errors)
      std::cerr << "  " << error.ToString() << "\n";
    return kExitSetupFailed;
  }
  if (dispatch) {
    dispatch->ApplyTier(&loaded.profile->limits);
    std::string error;
    if (dispatch->phase() == "plan" && !dispatch->PreparePlanDirectory(&error)) return Fail(error);
  }
  PlanContextResult context = GatherPlanContext(args.workspace, ids.uid);
  if (!context.error.empty()) return Fail(context.error);
  context.context.supervisor_private.push_back(audit_dir);
  // The placeholder ledger too: a sandbox that could edit it could make a later run leave a
  // protected path unprotected.
  if (std::string state = PlaceholderLedger::StateDirectory(); !state.empty())
    context.context.supervisor_private.push_back(state);

  policy::CompileOptions options;
  options.landlock = policy::ParseLandlockMode(args.landlock);
  options.require_limits = args.require_limits;
  if (dispatch && !dispatch->scope().empty()) {
    options.scope = dispatch->scope();
    options.scope_path_exists = [](const std::string& path) {
      struct stat st {};
      return ::lstat(path.c_str(), &st) == 0;
    };
  }
  policy::CompileResult compiled = policy::CompilePlan(*loaded.profile, context.context, options);
  kernel::LaunchTrace("compiled");
  if (!compiled.ok()) {
    for (const std::string& error : compiled.errors) std::cerr << "tollgate: " << error << "\n";
    return kExitSetupFailed;
  }

  std::optional<std::uint64_t> approval_timeout = policy::ParseDuration(args.approval_timeout);
  if (!approval_timeout || *approval_timeout == 0)
    return Fail("--approval-timeout " + args.approval_timeout + " is not a duration (90s, 5m)");
  if (args.ci && args.approvals == "wait")
    return Fail("--ci never waits for a person: drop --approvals wait");

  // Mediated tools: the shim goes over every path they live at (tool_paths.h).
  ToolMounts tool_mounts = AddToolShims(&compiled.plan, FindShimBinary());
  if (!tool_mounts.error.empty()) return Fail(tool_mounts.error);
  for (const std::string& skipped : tool_mounts.skipped)
    spdlog::debug("tool path skipped: {}", skipped);

  // The audit log is open and the run recorded before the sandbox is given anything to do: an
  // init cloned early (above) holds empty namespaces and waits for its plan, which Launch()
  // sends only after this record.
  audit::WriterOptions audit_options =
      SandboxRunWriterOptions(audit_dir, args.audit_sync, loaded.profile->name);
  if (dispatch) audit_options.task = dispatch->key();
  std::string audit_error;
  std::unique_ptr<audit::AuditWriter> audit_log =
      audit::AuditWriter::Open(audit_options, &audit_error);
  if (!audit_log) return Fail("cannot use the audit log: " + audit_error);
  const RunStartFacts facts =
      SandboxRunFacts(args.command, *loaded.profile, profile_file_digests, compiled.plan, ids,
                      args.audit_level, args.audit_sync);
  spdlog::info("audit log {} (run {}, level {}, sync {})", audit_dir, audit_options.run,
               args.audit_level, args.audit_sync);
  // Where this run's records begin, for the report read back after it.
  LogPosition report_from;
  report_from.file = audit_log->current_file();
  if (struct stat st{}; !report_from.file.empty() && ::stat(report_from.file.c_str(), &st) == 0)
    report_from.offset = static_cast<std::uint64_t>(st.st_size);
  // A task's dispatch is recorded first, and releases the dispatch lock.
  if (dispatch && !dispatch->Record(audit_log.get(), args.command))
    return Fail("cannot write to the audit log: " + audit_log->failure());
  // A prepared sandbox writes it when its command comes (made now: the plan moves below).
  audit::Event start_event = RunStartEvent(facts);
  if (!prepared && !audit_log->Append(start_event))
    return Fail("cannot write to the audit log: " + audit_log->failure());

  LaunchOptions launch;
  launch.argv = args.command;
  launch.plan = std::move(compiled.plan);
  launch.host_uid = ids.uid;
  launch.host_gid = ids.gid;
  // tollgate exits right after the run: the kernel finishes tearing the sandbox down meanwhile.
  launch.skip_teardown_wait = true;
  launch.cgroup_probe = cgroup_probe;
  launch.audit = audit_log.get();
  // Level "run" records the run's start and end only: no observer in the sandbox at all.
  launch.audit_observe = args.audit_level != "run";
  launch.audit_files = args.audit_level == "files";
  launch.tool_paths = tool_mounts.paths;
  // `ask`: wait for a person only where one can answer (approvals.h).
  const bool stderr_is_terminal =
      prepared ? args.prepared_stderr_terminal : ::isatty(STDERR_FILENO) == 1;
  const bool wait_for_approval =
      !args.ci && (args.approvals == "wait" || (args.approvals.empty() && stderr_is_terminal));
  launch.ask_is_deny = !wait_for_approval;
  launch.run_id = audit_options.run;
  launch.approval_timeout = std::chrono::seconds(*approval_timeout);
  spdlog::info("profile {} ({}), workspace {}, sandbox uid {} ({})", loaded.profile->name,
               loaded.profile->source_file, context.context.workspace, ids.uid, ids.why);

  const policy::LimitsPlan limits = launch.plan.limits;
  // Files the run leaves count as its evidence from this time on. File times come from the
  // kernel's coarse clock (or a finer one, never earlier): read that clock, and a file written
  // after this point is never older than it.
  auto now_coarse_ns = [] {
    timespec coarse{};
    ::clock_gettime(CLOCK_REALTIME_COARSE, &coarse);
    return std::int64_t(coarse.tv_sec) * 1'000'000'000 + coarse.tv_nsec;
  };
  std::int64_t started_ns = now_coarse_ns();

  // A prepared sandbox (docs/SERVE.md): the command comes from a client that connects to it.
  // It is used only while the profile's files, where profiles are looked up, and the workspace
  // are as they were.
  int client = -1;
  bool abandoned = false;
  std::optional<ProfileInputs> inputs;
  const std::string workspace_given = args.workspace.empty() ? "." : args.workspace;
  std::string workspace_real;
  std::unique_ptr<PreparedSandbox> waiting;
  if (prepared) {
    std::vector<std::string> inputs_paths = ProfileSearchCandidates();
    inputs_paths.insert(inputs_paths.end(), profile_files.begin(), profile_files.end());
    inputs = ProfileInputs::Capture(inputs_paths);
    workspace_real = RealPath(workspace_given);
    std::string error;
    waiting = PreparedSandbox::Create(args.prepared_fd, args.server_options,
                                      args.prepared_stderr_terminal, &error);
    if (!waiting) return Fail(error);
    launch.argv.clear();
    launch.await_command = [&]() -> std::optional<DeferredCommand> {
      const auto ready_at = std::chrono::steady_clock::now();
      std::optional<PreparedSandbox::Client> taken = waiting->Wait();
      if (!taken) {
        abandoned = true;  // the server let it go
        return std::nullopt;
      }
      client = taken->connection;
      kernel::LaunchTrace("prepared: request read");
      std::string stale;
      if (std::string changed = inputs->FirstChanged(); !changed.empty()) {
        stale = changed + " changed since the sandbox was prepared";
      } else if (RealPath(workspace_given) != workspace_real) {
        stale = "the workspace " + workspace_given + " is another directory now";
      }
      if (!stale.empty()) {
        waiting->TellStale();
      } else {
        // The client's stdio becomes this process's (its messages reach the client) and the
        // sandbox's.
        for (int i = 0; i < 3; ++i) ::dup2(taken->stdio[i], i);
        // The record was made while the sandbox was prepared; only the command line and the
        // wait are new.
        start_event.details["command"] =
            start_event.strings.StringArray(taken->request.command, "details.command");
        start_event.details["prepared"] = {
            {"waited_usec", std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - ready_at)
                                .count()}};
        report_from.file = audit_log->current_file();
        if (struct stat st{};
            !report_from.file.empty() && ::stat(report_from.file.c_str(), &st) == 0)
          report_from.offset = static_cast<std::uint64_t>(st.st_size);
        started_ns = now_coarse_ns();
        // The client launches it itself, and reports the failure, if this record cannot be
        // written.
        if (!audit_log->Append(start_event)) stale = "the audit log cannot be written";
        kernel::LaunchTrace("prepared: run.start recorded");
      }
      for (int fd : taken->stdio) ::close(fd);
      if (!stale.empty()) {
        serve::Reply(client, serve::kMiss, stale);
        abandoned = true;
        return std::nullopt;
      }
      serve::Reply(client, serve::kAccepted);
      DeferredCommand command;
      command.argv = taken->request.command;
      command.control_fd = client;
      return command;
    };
  }
  RunResult result = Launch(launch, std::move(early));
  kernel::LaunchTrace("launch returned");
  // A prepared sandbox that never got its command (let go, stale, or never built: then the
  // reason goes to the server's stderr) has no run to record.
  if (prepared && (abandoned || client < 0)) {
    audit_log->Close();
    if (client >= 0) ::close(client);
    if (abandoned) return 0;
    std::cerr << "tollgate: preparing a sandbox failed: " << result.reason << "\n";
    return kExitSetupFailed;
  }
  spdlog::info("{}", result.ToString());
  // The run's end, unless the log already failed (that is what ended it).
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
  // A task's evidence, judged, and its outcome (the process's exit status in task mode).
  std::optional<int> task_exit;
  if (dispatch && result.status != RunStatus::kAuditFailed)
    task_exit = dispatch->Finish(audit_log.get(), result, *loaded.profile, started_ns);
  // A launch hands the final sync to a detached process and exits; a prepared run tells its
  // client the status first and syncs after (its failure, as a detached sync's, is then not the
  // run's). Both report a sync that failed before.
  const bool closed =
      prepared ? !audit_log->failed() : audit_log->Close(/*detach_final_sync=*/true);
  if (!closed && result.status != RunStatus::kAuditFailed) {
    result.status = RunStatus::kAuditFailed;
    result.reason = "the audit log could not be synced to disk (" + audit_log->failure() + ")";
  }
  WriteReports(args, audit_dir, report_from, audit_options.run, result);
  if (!args.result_json.empty()) {
    std::ofstream out(args.result_json);
    out << result.ToJson().dump(2) << "\n";
    if (!out) std::cerr << "tollgate: cannot write " << args.result_json << "\n";
  }
  if (result.status == RunStatus::kSetupError || result.status == RunStatus::kInternalError ||
      result.status == RunStatus::kAuditFailed) {
    std::cerr << "tollgate: " << result.reason << "\n";
    if (result.failed_errno == EACCES && geteuid() == 0) {
      std::cerr << "tollgate: the sandbox runs as uid " << ids.uid << " (" << ids.why
                << "); give that user access, or choose the uid with --sandbox-uid\n";
    }
  } else if (result.status == RunStatus::kTimeout) {
    std::cerr << "tollgate: " << result.reason << "\n";
  }
  const int code =
      task_exit && result.status != RunStatus::kAuditFailed ? *task_exit : result.ProcessExitCode();
  if (client >= 0) {
    std::string status(sizeof(std::int32_t), '\0');
    const std::int32_t value = code;
    std::memcpy(status.data(), &value, sizeof value);
    serve::Reply(client, serve::kExit, status);
    ::close(client);
  }
  if (prepared) audit_log->Close();
  return code;
}

}  // namespace tollgate
