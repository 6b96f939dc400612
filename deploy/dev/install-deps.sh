#!/usr/bin/env bash
# Installs what building, running and testing wsrelay needs on Debian 12, only what is
# missing (so a second run costs a second). Used by both quick-start commands.
set -euo pipefail
need=(cmake ninja-build g++ clang libclang-rt-14-dev pkg-config make
      libssl-dev libspdlog-dev nlohmann-json3-dev libvalijson-dev libsystemd-dev zlib1g-dev
      prometheus-cpp-dev libjwt-dev libhiredis-dev libgtest-dev libbenchmark-dev)
if [ "${1:-}" = "--test" ]; then
  # python3-jwt (+ python3-cryptography for RS/ES): the independent signer of tests/unit/auth.
  need+=(python3 python3-websockets python3-pytest python3-jwt python3-cryptography
         nodejs npm chromium prometheus clang-format git
         redis-server python3-yaml openssl procps iproute2 curl systemd util-linux gnuplot
         build-essential fakeroot dpkg-dev debhelper lintian docker-compose docker.io mmdebstrap)
fi
missing=()
for p in "${need[@]}"; do
  # nodejs may come from another repository that bundles npm: accept any installed node.
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  if [ "$p" = nodejs ] && command -v node >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
