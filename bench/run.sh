#!/usr/bin/env bash
# Benchmarks of docs/BENCHMARKS.md, each measured against a baseline in the same run:
#   1. launch: tollgate (test-runner, seccomp + Landlock on) vs bwrap with an equivalent view vs bare;
#      launched by itself, and in a sandbox `tollgate serve` prepared
#   2. launch cost vs workspace size: 300,000 files vs an empty workspace
#   3. supervisor peak RSS during a run
#   4. a real build (tollgate's own, from clean) inside the sandbox vs bare   (BENCH_BUILD=1)
#   5. ten minutes of each fuzzer: audit records, the shim protocol (libFuzzer)  (BENCH_FUZZ=1)
#  10. a mediated tool call vs a direct one in one sandbox; 1,000 concurrent calls
#  11. network proxy: bulk throughput through a CONNECT tunnel and connection setup (HTTP
#      absolute-form, CONNECT, SOCKS5) vs direct loopback TCP
#  12. a task dispatch (ledger, gate, git evidence before and after) vs the same run without a task
# Usage: bench/run.sh [BUILD_DIR]     Results go to stdout and bench/results/.
set -euo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
root=$(pwd)
tollgate=$root/$build/bin/tollgate
out=$root/bench/results
mkdir -p "$out"
command -v hyperfine >/dev/null || { echo "hyperfine missing: run scripts/install-deps.sh" >&2; exit 1; }
# Every launch below launches by itself, whatever server runs on this machine; section 1b
# measures the prepared sandboxes of a server of its own.
export TOLLGATE_SERVE_SOCKET=off

scratch=${BENCH_SCRATCH:-/tmp/tollgate-bench}
empty=$scratch/empty big=$scratch/big
mkdir -p "$empty"
if [ ! -f "$big/.complete" ]; then
  echo "creating a workspace of 300,000 files in $big (once)…"
  rm -rf "$big" && mkdir -p "$big"
  python3 - "$big" <<'PY'
import os, sys
root = sys.argv[1]
for d in range(300):
    path = os.path.join(root, f"dir{d:03}")
    os.mkdir(path)
    for f in range(1000):
        with open(os.path.join(path, f"file{f:04}.txt"), "w") as fh:
            fh.write("x")
PY
  touch "$big/.complete"
fi
if [ "$(id -u)" -eq 0 ]; then chown -R nobody:nogroup "$empty"; fi

bwrap_view=(--unshare-all --die-with-parent --ro-bind /usr /usr --ro-bind /etc /etc
  --symlink usr/bin /bin --symlink usr/sbin /sbin --symlink usr/lib /lib --symlink usr/lib64 /lib64
  --proc /proc --dev /dev --tmpfs /tmp --ro-bind "$empty" "$empty" --chdir "$empty")

echo "== 1. launch of /bin/true"
hyperfine -N --warmup 20 --runs 200 --export-json "$out/launch.json" --export-markdown "$out/launch.md" \
  -n bare "/bin/true" \
  -n bwrap "bwrap ${bwrap_view[*]} /bin/true" \
  -n tollgate "$tollgate run --profile test-runner --workspace $empty -- /bin/true"

echo "== 1b. launch in a sandbox prepared by tollgate serve"
# A prepared sandbox is for one configuration, environment included, so hyperfine (which gives
# every run an environment of its own, HYPERFINE_RANDOMIZED_ENVIRONMENT_OFFSET) would never find
# one: the interleaving driver runs the commands instead, one of each in turn, 30 ms apart (the
# server prepares the next sandbox when a run ends, ~10 ms of work here). Back-to-back launches
# find none ready about every other time and launch by themselves (docs/SERVE.md).
serve_socket=$scratch/serve.sock
TOLLGATE_SERVE_SOCKET=$serve_socket "$tollgate" serve >"$out/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
sleep 0.3
# A configuration's first run launches by itself; the server prepares one for the next.
TOLLGATE_SERVE_SOCKET=$serve_socket "$tollgate" run --profile test-runner --workspace "$empty" -- /bin/true
sleep 0.5
TOLLGATE_SERVE_SOCKET=$serve_socket "$root/$build/bin/bench_interleave" --gap 30 300 \
  :: /bin/true :: "$(command -v bwrap)" "${bwrap_view[@]}" /bin/true \
  :: "$tollgate" run --profile test-runner --workspace "$empty" -- /bin/true | tee "$out/launch-prepared.txt"
kill "$server"
wait "$server" 2>/dev/null || true

echo "== 2. launch in a workspace of 300,000 files vs an empty one"
hyperfine -N --warmup 20 --runs 200 --export-json "$out/workspace-size.json" \
  --export-markdown "$out/workspace-size.md" \
  -n empty "$tollgate run --profile test-runner --workspace $empty -- /bin/true" \
  -n 300k-files "$tollgate run --profile test-runner --workspace $big -- /bin/true"

echo "== 3. supervisor peak RSS during a run"
"$tollgate" run --profile test-runner --workspace "$empty" -- /bin/sleep 1 &
pid=$!
sleep 0.5
grep -E 'VmHWM|VmRSS' "/proc/$pid/status" | tee "$out/rss.txt"
wait "$pid"

python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
launch = {r["command"]: r for r in json.load(open(f"{out}/launch.json"))["results"]}
size = {r["command"]: r for r in json.load(open(f"{out}/workspace-size.json"))["results"]}
# bench_interleave's lines: command, median, p25, p75, ratio to the first command (bare).
prepared = [line.split() for line in open(f"{out}/launch-prepared.txt") if "median" in line]
t, b = launch["tollgate"]["median"], launch["bwrap"]["median"]
print(f"launch median: tollgate {t*1e3:.2f} ms, bwrap {b*1e3:.2f} ms, bare {launch['bare']['median']*1e3:.2f} ms"
      f" -> tollgate/bwrap = {t/b:.2f}")
pb, p = float(prepared[1][2]), float(prepared[2][2])
print(f"prepared launch median: tollgate {p:.2f} ms, bwrap {pb:.2f} ms"
      f" -> tollgate/bwrap = {p/pb:.2f} (target <= 0.80)")
e, g = size["empty"]["median"], size["300k-files"]["median"]
print(f"workspace size: empty {e*1e3:.2f} ms, 300k files {g*1e3:.2f} ms -> ratio {g/e:.3f} (target <= 1.05)")
PY

if [ "${BENCH_BUILD:-0}" = 1 ]; then
  echo "== 4. tollgate's own build from clean, sandboxed vs bare"
  src=$scratch/src
  rm -rf "$src" && mkdir -p "$src" && git -C "$root" archive HEAD | tar -x -C "$src"
  if [ "$(id -u)" -eq 0 ]; then chown -R nobody:nogroup "$src"; fi
  build_cmd="cmake -S $src -B $src/b -DTOLLGATE_BUILD_TESTS=OFF -DTOLLGATE_BUILD_BENCH=OFF >/dev/null && cmake --build $src/b -j$(nproc) >/dev/null"
  hyperfine --runs 2 --prepare "rm -rf $src/b" --export-json "$out/build.json" \
    --export-markdown "$out/build.md" \
    -n bare "bash -c '$build_cmd'" \
    -n tollgate "$tollgate run --profile workspace-write --workspace $src -- bash -c '$build_cmd'"
fi

echo "== 6. audit: the observer's cost on 5,000 execs (levels run, actions, files)"
loop='i=0; while [ $i -lt 5000 ]; do /bin/true; i=$((i+1)); done'
audit_dir=$scratch/audit
hyperfine --warmup 1 --runs 5 --export-json "$out/audit-execs.json" \
  --export-markdown "$out/audit-execs.md" --prepare "rm -rf $audit_dir" \
  -n bare "sh -c '$loop'" \
  -n run "$tollgate run --profile test-runner --workspace $empty --audit-log $audit_dir --audit-level run -- sh -c '$loop'" \
  -n actions "$tollgate run --profile test-runner --workspace $empty --audit-log $audit_dir --audit-level actions -- sh -c '$loop'" \
  -n files "$tollgate run --profile test-runner --workspace $empty --audit-log $audit_dir --audit-level files -- sh -c '$loop'"

echo "== 7. audit: records per second for each sync mode, and RSS after a million records"
"$root/$build/bin/tollgate_microbench" --benchmark_filter='BM_Audit' \
  --benchmark_out="$out/audit-writer.json" --benchmark_out_format=json

echo "== 9. audit: the supervisor's peak RSS while it writes a million records (level files)"
rm -rf "$audit_dir"
"$tollgate" run --profile test-runner --workspace "$empty" --audit-log "$audit_dir" --audit-level files \
  -- python3 -c "
import os, time
for i in range(1000000):
    os.close(os.open('/etc/hostname', os.O_RDONLY))
time.sleep(3)" &
pid=$!
sleep 5
while kill -0 "$pid" 2>/dev/null; do grep VmHWM "/proc/$pid/status" >"$out/audit-rss.txt" 2>/dev/null; sleep 2; done
echo "records: $(cat "$audit_dir"/audit-*.jsonl | wc -l) in $(ls "$audit_dir"/audit-*.jsonl | wc -l) files; supervisor $(cat "$out/audit-rss.txt")"
"$tollgate" audit verify --audit-log "$audit_dir" | head -1

if [ "${BENCH_BUILD:-0}" = 1 ]; then
  echo "== 8. audit: the observer's cost on tollgate's own build (levels run, actions, files)"
  hyperfine --runs 2 --prepare "rm -rf $src/b $audit_dir" --export-json "$out/audit-build.json" \
    --export-markdown "$out/audit-build.md" \
    -n run "$tollgate run --profile workspace-write --workspace $src --audit-log $audit_dir --audit-level run -- bash -c '$build_cmd'" \
    -n actions "$tollgate run --profile workspace-write --workspace $src --audit-log $audit_dir --audit-level actions -- bash -c '$build_cmd'" \
    -n files "$tollgate run --profile workspace-write --workspace $src --audit-log $audit_dir --audit-level files -- bash -c '$build_cmd'"
fi

echo "== 10. tool mediation: git --version through the shim vs the same git unmediated, 1,000 calls"
# bench/profiles/toolcall.json mediates /usr/bin/git only: /usr/lib/git-core/git (the same program)
# is the direct baseline in the same sandbox. The benchmark binary runs from the workspace.
calls=$scratch/toolcall
mkdir -p "$calls" && cp "$root/$build/bin/bench_toolcall" "$calls/"
if [ "$(id -u)" -eq 0 ]; then chown -R nobody:nogroup "$calls"; fi
for level in run actions; do
  echo "-- audit level $level"
  (cd "$calls" && "$tollgate" run --audit-level "$level" --profile "$root/bench/profiles/toolcall.json" \
    --audit-log "$scratch/toolcall-audit" -- ./bench_toolcall serial 1000 /usr/bin/git \
    /usr/lib/git-core/git --version) | tee "$out/toolcall-$level.txt"
done
echo "-- an empty static program vs /bin/true, outside any sandbox: the cost of one more process"
cc -O2 -static -x c -o "$calls/empty" - <<<'int main(void) { return 0; }'
"$calls/bench_toolcall" serial 1000 "$calls/empty" /bin/true | tee "$out/toolcall-floor.txt"
echo "-- 1,000 concurrent calls, mediated and direct"
for program in /usr/bin/git /usr/lib/git-core/git; do
  (cd "$calls" && "$tollgate" run --profile "$root/bench/profiles/toolcall.json" \
    --audit-log "$scratch/toolcall-audit" -- ./bench_toolcall concurrent 1000 "$program" --version)
done | tee "$out/toolcall-concurrent.txt"

echo "== 11. network proxy: throughput through a CONNECT tunnel and connection setup vs direct TCP"
# A server on the host's 127.0.0.1 (bench_netproxy serve); the client (bench/netproxy.c) runs in a
# sandbox of bench/profiles/netproxy.json (mode proxy, the host's loopback allowed by name and by
# address) through the proxies, and outside any sandbox directly: the baseline, interleaved with
# it round by round. Direct from a network-host sandbox too (bench/profiles/netproxy-host.json:
# nothing relayed, every connect() recorded). CPU: the client's own, the supervisor's (the
# shell's `time` of `tollgate run`, which does not wait for the sandbox's processes) and the
# server's (/proc, in ticks of 10 ms), for 3 GiB each.
np=$scratch/netproxy
mkdir -p "$np" && cp "$root/$build/bin/bench_netproxy" "$np/"
if [ "$(id -u)" -eq 0 ]; then chown -R nobody:nogroup "$np"; fi
exec {serve_fd}< <("$np/bench_netproxy" serve)
serve_pid=$!
read -r -u "$serve_fd" serve_port
target=localhost:$serve_port
in_sandbox() {  # PROFILE ARGS...: bench_netproxy ARGS in a sandbox of bench/profiles/PROFILE.json
  local profile=$1
  shift
  (cd "$np" && "$tollgate" run --profile "$root/bench/profiles/$profile.json" \
    --audit-log "$scratch/netproxy-audit" -- ./bench_netproxy "$@")
}
server_ticks() { awk '{print $14 + $15}' "/proc/$serve_pid/stat"; }
TIMEFORMAT='supervisor CPU %U s user %S s sys'
{
  for round in 1 2 3 4 5; do
    echo "-- round $round, load average $(cut -d' ' -f1 /proc/loadavg)"
    ticks=$(server_ticks)
    "$np/bench_netproxy" throughput --direct --target "$target" --bytes 1073741824 --repeat 3
    echo "server CPU $(($(server_ticks) - ticks)) ticks"
    ticks=$(server_ticks)
    time in_sandbox netproxy throughput --proxy 127.0.0.1:3128 --target "$target" \
      --bytes 1073741824 --repeat 3
    echo "server CPU $(($(server_ticks) - ticks)) ticks"
  done
  for round in 1 2 3; do
    echo "-- latency round $round, load average $(cut -d' ' -f1 /proc/loadavg)"
    "$np/bench_netproxy" latency --direct --target "$target" --count 1000
    in_sandbox netproxy-host latency --direct --target "$target" --count 1000
    in_sandbox netproxy latency --proxy 127.0.0.1:3128 --absolute --target "$target" --count 1000
    in_sandbox netproxy latency --proxy 127.0.0.1:3128 --target "$target" --count 1000
    in_sandbox netproxy latency --socks 127.0.0.1:1080 --target "$target" --count 1000
  done
} 2>&1 | tee "$out/netproxy.txt"
unset TIMEFORMAT
kill "$serve_pid"
exec {serve_fd}<&-
python3 - "$out/netproxy.txt" <<'PY'
import re, statistics, sys
text = open(sys.argv[1]).read()
ratios = []
for r in text.split("-- round ")[1:]:
    direct, proxied = (float(x) for x in re.findall(r"throughput \S+ median ([\d.]+) MB/s", r))
    ratios.append(proxied / direct)
    print(f"round {r.split(',')[0]}: direct {direct:.0f} MB/s, through the proxy {proxied:.0f} MB/s"
          f" -> {proxied / direct:.2f}")
print(f"throughput through the proxy / direct: median {statistics.median(ratios):.2f}"
      f" ({min(ratios):.2f}-{max(ratios):.2f}, {len(ratios)} rounds; target >= 0.80)")
firsts = {}
for via, value in re.findall(r"latency (\S+) first byte: median ([\d.]+) us", text):
    firsts.setdefault(via, []).append(float(value))
# Each latency round measures direct twice: outside any sandbox, then in a network-host one.
firsts["direct (network-host sandbox)"] = firsts["direct"][1::2]
firsts["direct"] = firsts["direct"][0::2]
base = statistics.median(firsts["direct"])
for via in ("direct", "direct (network-host sandbox)", "absolute-form", "connect", "socks5"):
    m = statistics.median(firsts[via])
    print(f"connect() to first byte, {via}: {m:.0f} us (median of the rounds' medians,"
          f" {min(firsts[via]):.0f}-{max(firsts[via]):.0f}); added {m - base:.0f} us")
PY

echo "== 12. task dispatch: run --task (ledger, gate, evidence) vs the same run without a task"
# A git repository of 2,000 files in 20 directories, one commit; the task's class (bench/profiles/
# task-classes.json) runs the tiny-fix profile and requires only the exit status, so each --again
# dispatch is a complete attempt: ledger read (through its index), gate, git before and after the
# run, evidence record. The ledger grows by one attempt per run.
repo=$scratch/task-repo taskaudit=$scratch/task-audit
rm -rf "$repo" "$taskaudit" && mkdir -p "$repo"
python3 - "$repo" <<'PY'
import os, sys
for d in range(20):
    os.makedirs(f"{sys.argv[1]}/src{d:02}")
    for f in range(100):
        open(f"{sys.argv[1]}/src{d:02}/f{f:03}.c", "w").write(f"int f{d}_{f};\n")
PY
git -C "$repo" init -q && git -C "$repo" add -A &&
  git -C "$repo" -c user.name=b -c user.email=b@b commit -qm init
if [ "$(id -u)" -eq 0 ]; then chown -R nobody:nogroup "$repo"; fi
hyperfine -N --warmup 5 --runs 100 --export-json "$out/task.json" \
  -n run "$tollgate run --profile tiny-fix --workspace $repo --audit-log $taskaudit -- /bin/true" \
  -n "run --task" "$tollgate run --task bench --again --classes $root/bench/profiles/task-classes.json --workspace $repo --audit-log $taskaudit -- /bin/true"

if [ "${BENCH_FUZZ:-0}" = 1 ]; then
  echo "== 5. fuzzers (audit records, shim protocol), ${BENCH_FUZZ_SECONDS:-600} s each"
  tests/fuzz/run.sh "${BENCH_FUZZ_SECONDS:-600}" | tee "$out/fuzz.txt"
fi
