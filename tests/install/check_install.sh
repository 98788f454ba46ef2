#!/usr/bin/env bash
# Installs a build into a scratch prefix (cmake --install) and checks what a user gets: the two
# binaries, the profiles found from the installed binary, the man page, the bash and zsh
# completions, the AppArmor profile naming the installed path; then builds the Debian package
# (cpack -G DEB) and checks its contents and dependencies.
set -euo pipefail
build=$(realpath "$1")
scratch=$(mktemp -d /tmp/tollgate-install.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
fail() { echo "install check: $*" >&2; exit 1; }

prefix=$scratch/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/tollgate bin/tollgate-shim share/tollgate/profiles/workspace-write.json \
         share/tollgate/profiles/classes.json share/tollgate/schema/profile.schema.json \
         share/man/man1/tollgate.1 share/bash-completion/completions/tollgate \
         share/zsh/vendor-completions/_tollgate share/tollgate/apparmor/tollgate; do
  [ -e "$prefix/$f" ] || fail "$f was not installed"
done
# The installed binary finds the installed profiles (bin/../share/tollgate/profiles), not the
# source tree's: run it from elsewhere, with the source tree's profiles out of reach by name.
explained=$(cd "$scratch" && env -i PATH=/usr/bin:/bin HOME="$scratch" "$prefix/bin/tollgate" explain workspace-write --json)
grep -q "$(realpath "$prefix")/share/tollgate/profiles/workspace-write.json" <<<"$explained" \
  || fail "the installed tollgate does not use the installed profiles"
version=$("$prefix/bin/tollgate" --version)
grep -q '^tollgate ' <<<"$version" || fail "--version: $version"
grep -q "profile tollgate $prefix/bin/tollgate " "$prefix/share/tollgate/apparmor/tollgate" \
  || fail "the AppArmor profile does not name the installed binary"
if command -v man >/dev/null; then
  manpage=$(man -l "$prefix/share/man/man1/tollgate.1" 2>/dev/null)
  grep -q "sandboxing supervisor" <<<"$manpage" || fail "the man page does not render"
else
  grep -q '^\.TH TOLLGATE 1' "$prefix/share/man/man1/tollgate.1" || fail "the man page has no .TH"
fi
completions=$(bash -c "source '$prefix/share/bash-completion/completions/tollgate'
  PATH='$prefix/bin':\$PATH
  COMP_WORDS=(tollgate run --profile read); COMP_CWORD=3; _tollgate; echo \${COMPREPLY[*]}
  COMP_WORDS=(tollgate au); COMP_CWORD=1; _tollgate; echo \${COMPREPLY[*]}")
grep -qx "read-only" <<<"$(sed -n 1p <<<"$completions")" || fail "bash completion of profiles: $completions"
grep -qx "audit" <<<"$(sed -n 2p <<<"$completions")" || fail "bash completion of commands: $completions"

# The Debian package.
(cd "$scratch" && cpack -G DEB -B "$scratch/deb" --config "$build/CPackConfig.cmake" >/dev/null) \
  || fail "cpack -G DEB failed"
deb=$(ls "$scratch"/deb/tollgate_*.deb) || fail "no .deb was made"
contents=$(dpkg-deb -c "$deb")
for f in ./usr/bin/tollgate ./usr/bin/tollgate-shim ./usr/share/man/man1/tollgate.1 \
         ./usr/share/tollgate/profiles/release.json ./usr/share/tollgate/apparmor/tollgate; do
  grep -q " $f\$" <<<"$contents" || fail "the package lacks $f"
done
apparmor=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/tollgate/apparmor/tollgate)
grep -q "profile tollgate /usr/bin/tollgate " <<<"$apparmor" \
  || fail "the package's AppArmor profile does not name /usr/bin/tollgate"
depends=$(dpkg-deb -f "$deb" Depends)
grep -q "libc6" <<<"$depends" || fail "the package's dependencies lack libc6: $depends"
# libidn2 is loaded with dlopen (policy/idna.h): dpkg-shlibdeps cannot see it, the package names it.
grep -q "libidn2-0" <<<"$depends" || fail "the package's dependencies lack libidn2-0: $depends"
echo "ok: installed layout, profiles found from the installed binary, man page, completions, AppArmor profile; $(basename "$deb") ($depends)"
