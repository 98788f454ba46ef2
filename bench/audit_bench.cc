// Audit writer throughput per sync mode, and memory after a million records.
// The log goes to $TOLLGATE_BENCH_DIR (default /var/tmp), a real disk: fdatasync must cost what
// it costs in production, which a tmpfs would hide.
#include <benchmark/benchmark.h>
#include <sys/resource.h>

#include <cstdlib>
#include <filesystem>

#include "supervisor/audit/writer.h"

namespace {

using tollgate::audit::AuditWriter;
using tollgate::audit::Event;
using tollgate::audit::SyncMode;
using tollgate::audit::Verdict;
using tollgate::audit::WriterOptions;

std::string BenchDirectory(const std::string& name) {
  const char* base = std::getenv("TOLLGATE_BENCH_DIR");
  std::string dir = std::string(base ? base : "/var/tmp") + "/tollgate-audit-bench-" + name;
  std::filesystem::remove_all(dir);
  return dir;
}

// A typical exec record: a path, five arguments, a working directory and the process.
Event ExecEvent() {
  Event event;
  event.kind = "exec";
  event.verdict = Verdict::kAllow;
  event.rule = "observe";
  event.process = tollgate::audit::ProcessInfo{42, 7, "cc1plus", "/usr/lib/gcc/cc1plus"};
  event.details["path"] = event.strings.String("/usr/bin/g++", "details.path");
  event.details["argv"] = event.strings.StringArray(
      {"g++", "-O2", "-c", "supervisor/launcher.cc", "-o", "launcher.o"}, "details.argv");
  event.details["cwd"] = event.strings.String("/work/project/build", "details.cwd");
  return event;
}

void BM_AuditAppend(benchmark::State& state) {
  SyncMode mode = static_cast<SyncMode>(state.range(0));
  WriterOptions options;
  options.directory = BenchDirectory(tollgate::audit::SyncModeName(mode));
  options.sync = mode;
  options.run = "20261127-000000-0123456789abcdef";
  options.profile = "workspace-write";
  std::string error;
  auto writer = AuditWriter::Open(options, &error);
  if (!writer) {
    state.SkipWithError(error.c_str());
    return;
  }
  Event event = ExecEvent();
  for (auto _ : state) {
    if (!writer->Append(event)) {
      state.SkipWithError(writer->failure().c_str());
      break;
    }
  }
  writer->Close();
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(tollgate::audit::SyncModeName(mode));
  std::filesystem::remove_all(options.directory);
}
BENCHMARK(BM_AuditAppend)
    ->Arg(static_cast<int>(SyncMode::kNone))
    ->Arg(static_cast<int>(SyncMode::kBatch))
    ->Arg(static_cast<int>(SyncMode::kEvery))
    ->MinTime(1.0)
    ->UseRealTime();

// One million records in batch mode; the process's peak RSS is reported as a counter (it
// includes the benchmark library: an upper bound for the writer).
void BM_AuditMillionRecordsPeakRss(benchmark::State& state) {
  WriterOptions options;
  options.directory = BenchDirectory("million");
  options.sync = SyncMode::kBatch;
  options.run = "20261127-000000-0123456789abcdef";
  options.profile = "workspace-write";
  Event event = ExecEvent();
  for (auto _ : state) {
    std::string error;
    auto writer = AuditWriter::Open(options, &error);
    if (!writer) {
      state.SkipWithError(error.c_str());
      return;
    }
    for (int i = 0; i < 1'000'000; ++i) writer->Append(event);
    writer->Close();
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  state.counters["peak_rss_kib"] = static_cast<double>(usage.ru_maxrss);
  state.SetItemsProcessed(state.iterations() * 1'000'000);
  std::filesystem::remove_all(options.directory);
}
BENCHMARK(BM_AuditMillionRecordsPeakRss)->Iterations(1)->UseRealTime()->Unit(benchmark::kSecond);

}  // namespace
