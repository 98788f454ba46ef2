// tollgate run: load the profile, compile the plans, launch, and exit with the command's status.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <memory>

#include "policy/plan_compiler.h"
#include "supervisor/commands.h"
#include "supervisor/kernel/launch_trace.h"
#include "supervisor/launcher.h"
#include "supervisor/plan_context.h"
#include "supervisor/profile_search.h"

namespace tollgate {
namespace {

int Fail(const std::string& message) {
  std::cerr << "tollgate: " << message << "\n";
  return kExitSetupFailed;
}

policy::LandlockMode ParseLandlockMode(const std::string& text) {
  if (text == "require") return policy::LandlockMode::kRequire;
  if (text == "off") return policy::LandlockMode::kOff;
  return policy::LandlockMode::kBestEffort;
}

}  // namespace

int RunCommand(const RunArgs& args) {
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
  // Without a cgroup to put it in, the sandbox's init is cloned now: its namespaces, id maps and
  // network helper are made while the profile is loaded and compiled. It waits for its plan, and
  // is killed if the profile turns out invalid.
  kernel::LaunchTrace("ids chosen");
  kernel::CgroupV2Probe cgroup_probe = kernel::ProbeCgroupV2();
  kernel::LaunchTrace("cgroup probed");
  std::unique_ptr<EarlySandbox> early;
  if (!cgroup_probe.available)
    early = StartEarlySandbox(ids.uid, ids.gid, /*forward_signals=*/true);

  policy::LoadResult loaded = MakeProfileLoader().Load(args.profile);
  kernel::LaunchTrace("loaded");
  if (!loaded.ok()) {
    std::cerr << "tollgate: profile " << args.profile << " is invalid:\n";
    for (const policy::ProfileError& error : loaded.errors)
      std::cerr << "  " << error.ToString() << "\n";
    return kExitSetupFailed;
  }
  PlanContextResult context = GatherPlanContext(args.workspace, ids.uid);
  if (!context.error.empty()) return Fail(context.error);

  policy::CompileOptions options;
  options.landlock = ParseLandlockMode(args.landlock);
  options.require_limits = args.require_limits;
  policy::CompileResult compiled = policy::CompilePlan(*loaded.profile, context.context, options);
  kernel::LaunchTrace("compiled");
  if (!compiled.ok()) {
    for (const std::string& error : compiled.errors) std::cerr << "tollgate: " << error << "\n";
    return kExitSetupFailed;
  }

  LaunchOptions launch;
  launch.argv = args.command;
  launch.plan = std::move(compiled.plan);
  launch.host_uid = ids.uid;
  launch.host_gid = ids.gid;
  // tollgate exits right after the run: the kernel finishes tearing the sandbox down meanwhile.
  launch.skip_teardown_wait = true;
  launch.cgroup_probe = cgroup_probe;
  spdlog::info("profile {} ({}), workspace {}, sandbox uid {} ({})", loaded.profile->name,
               loaded.profile->source_file, context.context.workspace, ids.uid, ids.why);

  RunResult result = Launch(launch, std::move(early));
  kernel::LaunchTrace("launch returned");
  spdlog::info("{}", result.ToString());
  if (!args.result_json.empty()) {
    std::ofstream out(args.result_json);
    out << result.ToJson().dump(2) << "\n";
    if (!out) std::cerr << "tollgate: cannot write " << args.result_json << "\n";
  }
  if (result.status == RunStatus::kSetupError || result.status == RunStatus::kInternalError) {
    std::cerr << "tollgate: " << result.reason << "\n";
    if (result.failed_errno == EACCES && geteuid() == 0) {
      std::cerr << "tollgate: the sandbox runs as uid " << ids.uid << " (" << ids.why
                << "); give that user access, or choose the uid with --sandbox-uid\n";
    }
  } else if (result.status == RunStatus::kTimeout) {
    std::cerr << "tollgate: " << result.reason << "\n";
  }
  return result.ProcessExitCode();
}

}  // namespace tollgate
