#!/usr/bin/env bash
# The demo: a scripted agent session under the workspace-write profile, in a scratch copy of a
# small C project, with a decoy SSH key and token that the agent must not reach.
set -euo pipefail
tollgate=${1:-build/bin/tollgate}
here=$(cd "$(dirname "$0")" && pwd)

scratch=$(mktemp -d /tmp/tollgate-demo.XXXXXX)
listener_pid= index_pid=
cleanup() {
  for pid in $listener_pid $index_pid; do kill "$pid" 2>/dev/null; done
  rm -rf "$scratch"
}
trap cleanup EXIT

ws=$scratch/project home=$scratch/home remote=$scratch/remote.git
cp -r "$here/demo-project" "$ws"
git init -q --bare "$remote"
mkdir -p "$home/.ssh" && echo "decoy private key" > "$home/.ssh/id_ed25519"
git -C "$ws" init -q && git -C "$ws" add -A &&
  git -C "$ws" -c user.name=demo -c user.email=demo@example.invalid commit -qm "Initial import"
git -C "$ws" config user.name demo && git -C "$ws" config user.email demo@example.invalid
git -C "$ws" remote add origin "$remote"
if [ "$(id -u)" -eq 0 ]; then
  # As root the sandbox runs as an unprivileged uid: give it the scratch project.
  chown -R nobody:nogroup "$scratch"
fi

# A listener on the host's loopback: reachable from the host, not from the sandbox.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -c "import socket, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', $port)); s.listen(); time.sleep(60)" &
listener_pid=$!

echo "tollgate demo: an agent session under the workspace-write profile"
echo "  workspace $ws (a scratch copy of examples/demo-project)"
echo "  decoys: $home/.ssh/id_ed25519 and GITHUB_TOKEN in the environment"
echo
set +e
HOME=$home GITHUB_TOKEN=ghp_decoy \
  "$tollgate" run --profile workspace-write --workspace "$ws" --audit-log "$scratch/audit" \
  -- bash -s "$port" < "$here/agent-session.sh"
status=$?
set -e

# The second session: the same agent with network mode proxy, and a package index on the host's
# loopback that the profile allows.
mkdir -p "$scratch/index" && echo "tollgate-demo package index" > "$scratch/index/index.html"
index_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$scratch/index" "$index_port" >/dev/null 2>&1 &
index_pid=$!
for _ in $(seq 50); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $index_port), 1)" 2>/dev/null && break
  sleep 0.1
done
echo
echo "tollgate demo: a second session with network proxy (examples/demo-network.json)"
set +e
HOME=$home "$tollgate" run --profile "$here/demo-network.json" --workspace "$ws" \
  --audit-log "$scratch/audit" -- bash -s "$index_port" < "$here/agent-network.sh"
set -e

echo
echo "On the host afterwards:"
echo "  NOTES.md committed:      $(git -c safe.directory="*" -C "$ws" log --oneline -1 -- NOTES.md | cut -c1-40)"
echo "  .git/hooks/pre-commit:   $(test -e "$ws/.git/hooks/pre-commit" && echo PRESENT || echo absent)"
echo "  .claude/ in the project: $(test -e "$ws/.claude" && echo PRESENT || echo absent)"
echo "tollgate exited with $status (the session's own status)"
echo
echo "What the audit log recorded of this run (tollgate audit summary):"
"$tollgate" audit summary --audit-log "$scratch/audit" --top 8 | sed 's/^/  /'
echo
echo "Its hash chain (tollgate audit verify):"
"$tollgate" audit verify --audit-log "$scratch/audit" | head -1 | sed 's/^/  /'

# The third part: a task, end to end — classified, dispatched, its evidence judged, its phases
# gated, completed, and recognised when it is dispatched again.
task="Fix the typo in the greeting's comment"
run_task() {  # run_task [tollgate run options] -- command...
  set +e
  HOME=$home "$tollgate" run --workspace "$ws" --audit-log "$scratch/audit" "$@" 2>&1 | sed 's/^/    /'
  echo "    (exit ${PIPESTATUS[0]})"
  set -e
}
echo
echo "tollgate demo: a task, end to end (docs/GOVERNANCE.md)"
echo "  \$ tollgate classify \"$task\""
"$tollgate" classify "$task" | grep -E '^(class|rule|profile|phases|evidence)' | sed 's/^/    /'
echo "  attempt 1: the agent commits without running the tests"
run_task --task "$task" -- bash -s forget-tests < "$here/agent-task.sh"
echo "  attempt 2: the agent runs the tests and commits"
run_task --task "$task" -- bash -s < "$here/agent-task.sh"
echo "  the ship phase: the push goes through the tool broker (profile release)"
run_task --task "$task" -- git push origin HEAD
echo "  on the host, the remote has: $(git -c safe.directory='*' -C "$remote" log --oneline -1 | cut -c1-60)"
echo "  the same task dispatched again:"
again=$(run_task --task "$task" -- bash -s < "$here/agent-task.sh")
echo "$again" | head -n 12
echo "  \$ tollgate task list"
"$tollgate" task list --audit-log "$scratch/audit" | sed 's/^/    /'
echo
echo "See what the profile allows: $tollgate explain workspace-write --workspace <dir>"
