#!/usr/bin/env bash
# Configures and builds Kiln into build/ (Ninja, ccache, lld; Release).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cmake -S "$root" -B "$root/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$root/build" "$@"
