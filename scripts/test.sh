#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test
# (lit + gtest) through ctest, which prints the summary.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh"
cd "$root/build"
ctest --output-on-failure -j"$(nproc)"
