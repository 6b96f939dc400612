#!/usr/bin/env bash
# Builds the wsrelay .deb the way Debian builds its daemons: copies the source tree (without
# build directories, node_modules and .git) to a temporary directory, puts packaging/debian
# there as debian/, runs `dpkg-buildpackage -us -uc -b` and then
# `lintian --fail-on error,warning` on the result. The .deb files, .changes and .buildinfo
# land in OUTDIR. The repository itself never gets a debian/ directory.
#
#   packaging/build-deb.sh [OUTDIR]          (default: ./build-deb)
#   DEB_BUILD_OPTIONS=parallel=N ...         (default: parallel=$(nproc))
#   KEEP_TREE=1 ...                          keep the temporary tree for inspection
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$PWD/build-deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

for tool in dpkg-buildpackage dh lintian; do
  command -v "$tool" >/dev/null || {
    echo "build-deb: $tool is missing (apt-get install dpkg-dev debhelper lintian)" >&2
    exit 2
  }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/wsrelay-deb.XXXXXX")
cleanup() { [ -n "${KEEP_TREE:-}" ] && echo "build-deb: tree kept in $work" || rm -rf "$work"; }
trap cleanup EXIT
src=$work/wsrelay
mkdir -p "$src"

# The files to package: what git tracks plus untracked files it does not ignore (so local
# changes build too), else everything. Either way no build dirs, node_modules or debian/.
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$root" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$root" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
    grep -zEv '^(build[^/]*/|debian/)|(^|/)node_modules/' |
    tar -C "$root" --null -T - -cf - | tar -C "$src" -xf -
else
  tar -C "$root" --anchored --exclude='./build*' --exclude=./debian --exclude=./.git \
    --no-anchored --exclude=node_modules -cf - . | tar -C "$src" -xf -
fi
cp -a "$root/packaging/debian" "$src/debian"

export DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-parallel=$(nproc)}
(cd "$src" && dpkg-buildpackage -us -uc -b)

version=$(cd "$src" && dpkg-parsechangelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes=$work/wsrelay_${version}_${arch}.changes
# Lintian refuses nothing as root but says so; the build above is what it checks.
lintian --fail-on error,warning --display-info --tag-display-limit 0 "$changes"

find "$work" -maxdepth 1 -type f \( -name '*.deb' -o -name '*.ddeb' -o -name '*.changes' \
  -o -name '*.buildinfo' \) -exec cp {} "$out/" \;
echo "build-deb: lintian clean; packages in $out:"
ls -1 "$out"
