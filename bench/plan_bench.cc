// Micro-benchmarks of the work tollgate does in user space before each launch: loading the
// profile, compiling the plans, and compiling the seccomp filter to BPF.
#include <benchmark/benchmark.h>

#include "policy/plan_compiler.h"
#include "supervisor/kernel/seccomp.h"
#include "supervisor/plan_context.h"
#include "supervisor/profile_search.h"

namespace {

using namespace tollgate;

void BM_LoadProfile(benchmark::State& state) {
  policy::ProfileLoader loader = MakeProfileLoader();
  for (auto _ : state) {
    policy::LoadResult result = loader.Load("workspace-write");
    if (!result.ok()) state.SkipWithError("workspace-write does not load");
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_LoadProfile);

void BM_CompilePlan(benchmark::State& state) {
  policy::LoadResult loaded = MakeProfileLoader().Load("workspace-write");
  PlanContextResult context = GatherPlanContext("/tmp", 0);
  if (!loaded.ok() || !context.error.empty()) {
    state.SkipWithError("setup failed");
    return;
  }
  for (auto _ : state) {
    policy::CompileResult result = policy::CompilePlan(*loaded.profile, context.context);
    benchmark::DoNotOptimize(result);
  }
}
BENCHMARK(BM_CompilePlan);

void BM_CompileSeccompFilter(benchmark::State& state) {
  policy::LoadResult loaded = MakeProfileLoader().Load("workspace-write");
  PlanContextResult context = GatherPlanContext("/tmp", 0);
  if (!loaded.ok() || !context.error.empty()) {
    state.SkipWithError("setup failed");
    return;
  }
  policy::CompileResult compiled = policy::CompilePlan(*loaded.profile, context.context);
  for (auto _ : state) {
    std::vector<sock_filter> program;
    kernel::Status status = kernel::CompileSeccompFilter(compiled.plan.seccomp, &program);
    if (!status.ok) state.SkipWithError("compile failed");
    benchmark::DoNotOptimize(program);
  }
}
BENCHMARK(BM_CompileSeccompFilter);

}  // namespace
