#!/usr/bin/env bash
# Installs the npm packages an end-to-end test runs, pinned by the package-lock.json of SRC, into
# DIR with `npm ci` from the npm registry:
#
#   tests/npm_setup.sh tests/mcp DIR      the MCP server and SDK client (tests/e2e/mcp_test.cc)
#   tests/npm_setup.sh tests/agents DIR   Claude Code and Codex (tests/e2e/agents_test.cc)
#
# ctest runs it as a fixture (tests/CMakeLists.txt) with DIR in the build's share/. Every file
# of SRC is copied beside node_modules; the install reruns only when one of them changed. Exit 0
# when installed, 77 (CTest's skip) when npm is missing, 1 when the install failed. Concurrent
# runs on one DIR wait for each other.
set -euo pipefail
src=$(cd "${1:?usage: npm_setup.sh SRC DIR}" && pwd)
dir=${2:?usage: npm_setup.sh SRC DIR}
name=$(basename "$src")

if ! command -v npm >/dev/null 2>&1; then
  echo "$name setup: npm is not installed; the tests that need these packages will be skipped" >&2
  exit 77
fi

mkdir -p "$dir"
exec 9>"$dir/.setup.lock"
flock 9

stamp="$dir/.installed"
want=$(cd "$src" && find . -maxdepth 1 -type f -print0 | sort -z | xargs -0 cat | sha256sum | cut -d" " -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$dir/node_modules" ]; then
  exit 0
fi
rm -f "$stamp"
find "$src" -maxdepth 1 -type f -exec cp {} "$dir/" \;
# No install scripts run: the MCP packages are plain JavaScript, and the agents' native programs
# come in their platform packages (Claude Code's postinstall only links what npm links already).
if ! (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
  echo "$name setup: npm ci failed in $dir (is the npm registry reachable?)" >&2
  exit 1
fi
# The sandbox runs as another user than the one installing (root's sandbox: nobody), and the
# suite copies the build to an unprivileged user: everyone may read the install.
chmod -R a+rX "$dir"
echo "$want" >"$stamp"
echo "$name setup: installed $(cd "$dir" && node -e '
  const deps = Object.keys(require("./package.json").dependencies);
  process.stdout.write(deps.map(p => p + "@" + require("./node_modules/" + p + "/package.json").version).join(" "))'
) in $dir"
