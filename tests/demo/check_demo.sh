#!/usr/bin/env bash
# Runs the demo (examples/demo.sh) and checks what it must show: the agent's forbidden steps
# denied, the audit chain intact, and the task end to end — unverified without tests, completed
# with them, shipped through the broker, and recognised when dispatched again.
set -uo pipefail
tollgate=$1
out=$(bash "$(dirname "$0")/../../examples/demo.sh" "$tollgate" 2>&1 | sed 's/\x1b\[[0-9;]*m//g')
status=0
expect() {
  if ! grep -qF -- "$1" <<<"$out"; then
    echo "demo output lacks: $1" >&2
    status=1
  fi
}
expect "denied   read ~/.ssh/id_ed25519"
expect "denied   publish its work (git push)"
expect "the chain is intact"
expect "phase implement attempt 1: unverified"
expect "test_results: no test report with tests was written during the run"
expect "phase implement attempt 2: completed"
expect "phase ship attempt 1: completed"
expect "on the host, the remote has: "
expect "was dispatched before: the task is completed; nothing was run"
expect "completed    tiny-fix"
[ "$status" -eq 0 ] || printf '%s\n' "$out" | tail -n 60 >&2
exit "$status"
