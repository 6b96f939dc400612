#!/bin/bash
# SPDX-License-Identifier: MIT
# The engine's static libraries (libwsrelay.a is relay_ws + relay_net + relay_base) export
# no C symbol without the wsr_ prefix: libdill's now, hclose, ws_send... stay free for a
# program that links libdill too. C++ symbols (mangled, _Z...) are namespaced already.
# Usage: check_exported_symbols.sh LIB.a...
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 LIB.a..." >&2; exit 2; }
bad=$(nm -g --defined-only "$@" | awk 'NF == 3 && $2 ~ /^[A-Z]$/ && $3 !~ /^(_Z|wsr_)/ {print $3}' |
  sort -u)
prefixed=$(nm -g --defined-only "$@" | awk 'NF == 3 && $3 ~ /^wsr_/' | wc -l)
if [ -n "$bad" ]; then
  echo "C symbols without the wsr_ prefix:" >&2
  echo "$bad" >&2
  exit 1
fi
if [ "$prefixed" -lt 30 ]; then  # ws.h declares 31 functions
  echo "expected the wsr_ functions of ws.h, found $prefixed" >&2
  exit 1
fi
echo "ok: $prefixed wsr_ symbols, no bare C symbol"
