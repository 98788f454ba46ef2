#!/usr/bin/env bash
# The whole suite: the normal build, the ASan/UBSan build, a short run of the fuzzers, and — when
# run as root — the sandbox tests once more as an unprivileged user this script creates. Exits
# non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

build() {  # build DIR [cmake args…]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
}

build build
build build-asan -DTOLLGATE_SANITIZE=ON -DTOLLGATE_BUILD_BENCH=OFF

echo "== tests (release build)"
ctest --test-dir build --output-on-failure -j"$jobs"
echo "== tests (ASan/UBSan build)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs"

echo "== fuzz smoke run (clang, libFuzzer + ASan/UBSan)"
tests/fuzz/run.sh smoke

if [ "$(id -u)" -eq 0 ]; then
  echo "== sandbox tests as an unprivileged user"
  scripts/run-as-unprivileged.sh build
fi
