#!/usr/bin/env bash
# Installs the MCP server and client the `tollgate mcp` end-to-end test runs
# (@modelcontextprotocol/server-filesystem and @modelcontextprotocol/sdk, pinned by the
# package-lock.json beside this script) into DIR with `npm ci`, from the npm registry.
#
#   tests/mcp/setup.sh DIR     (the build's share/tollgate-mcp-test: see tests/CMakeLists.txt)
#
# Reruns only when the lock file or the client changed. Exit 0 when installed, 77 (CTest's skip) when node or
# npm is missing, 1 when the install failed. Concurrent runs on one DIR wait for each other.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:?usage: setup.sh DIR}

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "mcp setup: $tool is not installed; the MCP end-to-end test will be skipped" >&2
    exit 77
  fi
done

mkdir -p "$dir"
exec 9>"$dir/.setup.lock"
flock 9

stamp="$dir/.installed"
want=$(cat "$here/package-lock.json" "$here/client.mjs" | sha256sum | cut -d" " -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$dir/node_modules" ]; then
  exit 0
fi
rm -f "$stamp"
cp "$here/package.json" "$here/package-lock.json" "$here/client.mjs" "$dir/"
# No install scripts run: the packages are plain JavaScript.
if ! (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error); then
  echo "mcp setup: npm ci failed in $dir (is the npm registry reachable?)" >&2
  exit 1
fi
# The sandbox runs as another user than the one installing (root's sandbox: nobody), and the
# suite copies the build to an unprivileged user: everyone may read the install.
chmod -R a+rX "$dir"
echo "$want" >"$stamp"
echo "mcp setup: installed $(cd "$dir" && node -e 'for (const p of ["@modelcontextprotocol/sdk","@modelcontextprotocol/server-filesystem"]) process.stdout.write(p + "@" + require("./node_modules/" + p + "/package.json").version + " ")')in $dir"
