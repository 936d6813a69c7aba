#!/usr/bin/env bash
# Installs the benchmark's reference side into bench/.venv (idempotent):
# PyTorch (CPU use only) and numpy from PyPI. Falls back to Debian's
# python3-torch (a venv over /usr/bin/python3 with system site packages) when
# PyPI's wheel cannot be installed. Also builds the C references into
# bench/build/. Nothing in the project's tests needs any of this.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"

have_torch() { [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import torch' 2>/dev/null; }

if ! have_torch; then
  echo "setup: installing PyTorch into $venv (PyPI)" >&2
  python3 -m venv "$venv"
  if ! "$venv/bin/pip" install -q --progress-bar off numpy torch; then
    echo "setup: PyPI torch failed; trying Debian's python3-torch" >&2
    rm -rf "$venv"
    if command -v apt-get >/dev/null; then
      apt-get install -y -q python3-torch python3-numpy >/dev/null || {
        apt-get update -q >/dev/null && apt-get install -y -q python3-torch python3-numpy >/dev/null; }
    fi
    /usr/bin/python3 -m venv --system-site-packages "$venv"
  fi
fi
if have_torch; then
  echo "setup: $("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)')" >&2
else
  echo "setup: WARNING: no PyTorch; the PyTorch reference columns will read n/a" >&2
fi

mkdir -p "$here/build"
cc -O2 -march=native -o "$here/build/sgemm_openblas" "$here/sgemm_openblas.c" -lopenblas
cc -O3 -march=native -fopenmp -o "$here/build/stream_triad" "$here/stream_triad.c"
