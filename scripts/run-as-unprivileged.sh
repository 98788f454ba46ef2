#!/usr/bin/env bash
# Runs the kernel and end-to-end tests as an ordinary user. Used by the suite when it runs as root:
# creates the user "tollgate-test" if needed, copies bin/ and share/ of the build to a folder that
# user can read, and runs the e2e test binary there.
set -euo pipefail
build=${1:-build}
user=tollgate-test
[ "$(id -u)" -eq 0 ] || { echo "run-as-unprivileged: must run as root" >&2; exit 2; }
id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
home=$(getent passwd "$user" | cut -d: -f6)

dir=$(mktemp -d /tmp/tollgate-suite.XXXXXX)
trap 'rm -rf "$dir"' EXIT
cp -a "$build/bin" "$dir/"
# share/ holds the agents' test install (~800 MB): hard links where the file system allows.
cp -al "$build/share" "$dir/" 2>/dev/null || { rm -rf "$dir/share"; cp -a "$build/share" "$dir/"; }
chmod -R a+rX "$dir"

out="$dir/result.txt"
set +e
runuser -u "$user" -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$home" USER="$user" \
  LANG=C.UTF-8 "$dir/bin/tollgate_e2e_tests" --gtest_color=no 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
passed=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
failed=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -1)
echo "unprivileged: ${passed:-0} passed, ${failed:-0} failed"
exit "$status"
