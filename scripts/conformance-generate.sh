#!/usr/bin/env bash
# Regenerates the operator conformance cases (test/conformance/cases/) with
# MXNet 1.9.1. Offline work: ctest never runs it. The venv is
# $KILN_MXNET_VENV when set (e.g. /opt/mxvenv), else
# $HOME/.cache/kiln/mxnet-venv, created with mxnet==1.9.1 and numpy==1.23.5
# (newer NumPy breaks `import mxnet`) when it lacks them. Arguments go to
# generate.py (e.g. --only clip Pooling). docs/conformance.md has the details.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${KILN_MXNET_VENV:-$HOME/.cache/kiln/mxnet-venv}"
python="$venv/bin/python"
if ! { [ -x "$python" ] && "$python" -c 'import mxnet, numpy
assert mxnet.__version__ == "1.9.1" and numpy.__version__ == "1.23.5"' 2>/dev/null; }; then
  echo "conformance-generate: setting up $venv (mxnet==1.9.1, numpy==1.23.5)"
  base="$(command -v python3.11 || command -v python3)"
  [ -x "$python" ] || "$base" -m venv "$venv"
  "$venv/bin/pip" install -q "mxnet==1.9.1" "numpy==1.23.5"
fi
# MXNet logs a line per bound executor on stderr; keep everything else.
"$python" "$root/test/conformance/generate.py" "$@" \
  2> >(grep -v -e "graph_executor.cc:.*subgraph backend" -e "start using engine" >&2)
