#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs them, one after the other: the audit record
# fuzzer, the shim protocol fuzzer, the proxy's HTTP request-head and SOCKS5 fuzzers, then the
# test report parsers' fuzzer.
#   tests/fuzz/run.sh smoke        a short run for the test suite (20,000 inputs each)
#   tests/fuzz/run.sh SECONDS      each fuzzer runs that many seconds, so the whole takes five
#                                  times as long (bench/run.sh: BENCH_FUZZ=1, 600)
# Environment: FUZZ_BUILD (build directory, default build-fuzz), FUZZ_JOBS (parallel build jobs,
# default 2). Exits non-zero on a crash, a sanitizer report, a leak or a timeout; the input that
# caused it is left in the build directory as crash-*/leak-*/timeout-*.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=${1:-smoke}
build=${FUZZ_BUILD:-build-fuzz}
command -v clang++ >/dev/null || { echo "clang++ missing: run scripts/install-deps.sh" >&2; exit 1; }

cmake -S tests/fuzz -B "$build" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"${FUZZ_JOBS:-2}" >/dev/null

# run_fuzzer TITLE BINARY DICT SEEDS CORPUS LOG
# The corpus grows in the build directory, seeded from the checked-in seeds.
run_fuzzer() {
  local title=$1 binary=$2 dict=$3 seeds=$4 corpus=$5 log=$6
  mkdir -p "$corpus"
  cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
  local args=(-dict="$dict" -max_len=4096 -timeout=10 -rss_limit_mb=1024
              -artifact_prefix="$build/" -print_final_stats=1)
  if [ "$mode" = smoke ]; then
    args+=(-runs=20000 -seed=1)
  else
    args+=(-max_total_time="$mode")
  fi
  echo "== $title ($mode)"
  "$binary" "${args[@]}" "$corpus" 2>"$log" || {
    tail -n 60 "$log" >&2
    exit 1
  }
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ *DONE)' "$log" || true
  echo "ok: no crash, no sanitizer report"
}

run_fuzzer "audit record fuzzer" "$build/audit_record_fuzz" tests/fuzz/audit_record.dict \
  tests/fuzz/seeds "$build/corpus" "$build/fuzz.log"
run_fuzzer "shim protocol fuzzer" "$build/shim_protocol_fuzz" tests/fuzz/shim_protocol.dict \
  tests/fuzz/seeds-shim "$build/corpus-shim" "$build/shim-fuzz.log"
run_fuzzer "HTTP request head fuzzer" "$build/http_head_fuzz" tests/fuzz/http_head.dict \
  tests/fuzz/seeds-http "$build/corpus-http" "$build/http-fuzz.log"
run_fuzzer "SOCKS5 fuzzer" "$build/socks5_fuzz" tests/fuzz/socks5.dict \
  tests/fuzz/seeds-socks5 "$build/corpus-socks5" "$build/socks5-fuzz.log"
run_fuzzer "test report fuzzer" "$build/test_results_fuzz" tests/fuzz/test_results.dict \
  tests/fuzz/test_results_seeds "$build/corpus-test-results" "$build/test-results-fuzz.log"
