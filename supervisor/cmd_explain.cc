// tollgate explain PROFILE: the compiled plans in human words (or JSON).
#include <sys/stat.h>
#include <unistd.h>

#include <iostream>

#include "policy/classifier.h"
#include "policy/explain.h"
#include "policy/plan_compiler.h"
#include "supervisor/commands.h"
#include "supervisor/launcher.h"
#include "supervisor/plan_context.h"
#include "supervisor/profile_search.h"
#include "supervisor/tool_paths.h"

namespace tollgate {

int ExplainCommand(const ExplainArgs& args) {
  policy::LoadResult loaded = MakeProfileLoader().Load(args.profile);
  if (!loaded.ok()) {
    for (const policy::ProfileError& error : loaded.errors) std::cerr << error.ToString() << "\n";
    return kExitInvalid;
  }
  // The same {home} as `tollgate run` would use: as root, the sandbox user's.
  SandboxIds ids = ChooseSandboxIds(args.workspace.empty() ? "." : args.workspace, -1);
  PlanContextResult context = GatherPlanContext(args.workspace, ids.uid);
  if (!context.error.empty()) {
    std::cerr << "tollgate: " << context.error << "\n";
    return kExitUsage;
  }
  // A task's scope, keyed as the task key keys it ("./src/" is "src"); each path the scope makes
  // writable must exist, as `tollgate run` will require.
  policy::CompileOptions options;
  if (!args.scope.empty()) {
    std::string scope_error;
    options.scope = policy::NormaliseScope(args.scope, &scope_error);
    if (!scope_error.empty()) {
      std::cerr << "tollgate: " << scope_error << "\n";
      return kExitUsage;
    }
    options.scope_path_exists = [](const std::string& path) {
      struct stat st {};
      return ::lstat(path.c_str(), &st) == 0;
    };
  }
  policy::CompileResult compiled = policy::CompilePlan(*loaded.profile, context.context, options);
  if (!compiled.ok()) {
    for (const std::string& error : compiled.errors) std::cerr << "tollgate: " << error << "\n";
    return kExitInvalid;
  }
  // The files the shim will cover on this machine, as `tollgate run` finds them.
  ToolMounts tools = AddToolShims(&compiled.plan, FindShimBinary());
  if (!tools.error.empty()) std::cerr << "tollgate: " << tools.error << "\n";
  if (args.json) {
    std::cout << policy::PlanToJson(compiled.plan).dump(2) << "\n";
  } else {
    std::cout << policy::ExplainPlan(*loaded.profile, compiled.plan);
  }
  return 0;
}

}  // namespace tollgate
