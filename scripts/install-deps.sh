#!/usr/bin/env bash
# Installs the Debian packages tollgate needs to build, test and benchmark, if any is missing.
# Works as root or through sudo; does nothing when everything is present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libseccomp-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev nettle-dev libidn2-dev
  libexpat1-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  hyperfine bubblewrap python3 procps passwd util-linux
  # The network tests: real clients through the proxy (curl, git, pip) and the local servers'
  # certificates (openssl).
  curl openssl python3-pip
  # The schema test checks every shipped profile and task example against docs/schema.
  python3-jsonschema
  # The fuzzers (tests/fuzz): clang, and libFuzzer's runtime, which Debian 12 ships in
  # libclang-rt-14-dev (only recommended by clang, so not pulled in by --no-install-recommends).
  clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm for the network tests: Debian's, unless Node.js and npm are already installed some other
# way (a NodeSource package conflicts with Debian's npm).
command -v npm >/dev/null || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0

echo "tollgate: installing missing packages: ${missing[*]}"
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "tollgate: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
