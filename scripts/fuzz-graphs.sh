#!/usr/bin/env bash
# scripts/fuzz-graphs.sh SECONDS [SEED] [OUT]: runs kiln-fuzz-graphs for SECONDS
# seconds (all modes: inference, training, forward+backward) from SEED (default:
# the current time, so every run explores new graphs), minimizes each finding
# into OUT (default fuzz-findings/) and prints a summary. Exit status 1 when
# something was found. docs/testing.md describes the fuzzer.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:?usage: scripts/fuzz-graphs.sh SECONDS [SEED] [OUT]}"
seed="${2:-$(date +%s)}"
out="${3:-fuzz-findings}"
tool="${KILN_FUZZ_GRAPHS:-$root/build/bin/kiln-fuzz-graphs}"
[ -x "$tool" ] || "$root/scripts/build.sh" kiln-fuzz-graphs kiln-run >/dev/null
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
echo "fuzz-graphs: ${seconds}s from seed $seed, findings into $out/"
status=0
"$tool" --seed "$seed" --seconds "$seconds" --minimize-into "$out" | tee "$log" || status=$?
echo
echo "== summary =="
grep -E '^kiln-fuzz-graphs: [0-9]+ graphs' -A1 "$log" || true
if grep -q '^FAIL' "$log"; then
  echo "findings:"
  grep -E '^FAIL|minimized to' "$log"
  echo "replay one: sh $out/seed-<S>-<mode>/replay.sh (KILN_RUN=$root/build/bin/kiln-run)"
elif [ "$status" -ne 0 ]; then
  echo "kiln-fuzz-graphs exited with status $status (a crash names its seed above)"
else
  echo "no findings"
fi
exit "$status"
