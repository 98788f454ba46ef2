#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs the audit record fuzzer.
#   tests/fuzz/run.sh smoke        a short run for the test suite (20,000 inputs)
#   tests/fuzz/run.sh SECONDS      a run of that many seconds (bench/run.sh: BENCH_FUZZ=1, 600)
# Environment: FUZZ_BUILD (build directory, default build-fuzz). Exits non-zero on a crash,
# a sanitizer report, a leak or a timeout; the input that caused it is left in the build
# directory as crash-*/leak-*/timeout-*.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-smoke}
build=${FUZZ_BUILD:-build-fuzz}
command -v clang++ >/dev/null || { echo "clang++ missing: run scripts/install-deps.sh" >&2; exit 1; }

cmake -S tests/fuzz -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"${FUZZ_JOBS:-2}" >/dev/null

# The corpus grows in the build directory, seeded from the checked-in seeds.
corpus=$build/corpus
mkdir -p "$corpus"
cp -n tests/fuzz/seeds/* "$corpus"/ 2>/dev/null || true

args=(-dict=tests/fuzz/audit_record.dict -max_len=4096 -timeout=10 -rss_limit_mb=1024
      -artifact_prefix="$build/" -print_final_stats=1)
if [ "$mode" = smoke ]; then
  args+=(-runs=20000 -seed=1)
else
  args+=(-max_total_time="$mode")
fi
echo "== audit record fuzzer ($mode)"
"$build/audit_record_fuzz" "${args[@]}" "$corpus" 2>"$build/fuzz.log" || {
  tail -n 60 "$build/fuzz.log" >&2
  exit 1
}
grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)' "$build/fuzz.log" || true
echo "ok: no crash, no sanitizer report"
