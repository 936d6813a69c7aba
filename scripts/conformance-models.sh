#!/usr/bin/env bash
# Model-level conformance against MXNet 1.9.1: exports every network of
# mxnet.gluon.model_zoo.vision, GluonCV's classifiers and a few detectors with
# seeded random weights, runs them on MXNet (float64 and float32) and on Kiln
# (build/bin/kiln-run), compares outputs, gradients and aux states array by
# array and writes the table to docs/compatibility.md. Not part of ctest: it
# installs MXNet and GluonCV (PyPI) and writes several GB of models and
# references under ~/.cache/kiln/conformance-models (KILN_CONFORMANCE_CACHE).
#
#   scripts/conformance-models.sh                     # everything (hours)
#   scripts/conformance-models.sh --models resnet18_v1,mobilenet1.0
#   scripts/conformance-models.sh --forward-only --models densenet121
#   scripts/conformance-models.sh --list              # the model list
#   scripts/conformance-models.sh --smooth --models cifar_wideresnet16_10
#   scripts/conformance-models.sh --study --kinks     # docs/numerics.md's measurements
#   scripts/conformance-models.sh --help              # every option
#
# The venv: $KILN_MXNET_VENV when set (e.g. /opt/mxvenv), else
# ~/.cache/kiln/mxnet-venv, made on first use with Python 3.11.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${KILN_MXNET_VENV:-$HOME/.cache/kiln/mxnet-venv}"

if ! "$venv/bin/python" -c "import mxnet, gluoncv" >/dev/null 2>&1; then
  if [ -n "${KILN_MXNET_VENV:-}" ] && [ -x "$venv/bin/python" ]; then
    echo "conformance-models: error: KILN_MXNET_VENV=$venv cannot import mxnet and gluoncv" >&2
    exit 1
  fi
  python=""
  for p in python3.11 python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      python="$p"
      break
    fi
  done
  if [ -z "$python" ]; then
    echo "conformance-models: error: needs Python 3.11 for the MXNet 1.9.1 venv (or set KILN_MXNET_VENV)" >&2
    exit 1
  fi
  echo "conformance-models: making the MXNet venv in $venv" >&2
  "$python" -m venv "$venv"
  # numpy must stay 1.23.5: MXNet 1.9.1 does not import with NumPy >= 1.24, and
  # GluonCV's dependencies would pull NumPy 2 unless their versions are capped.
  "$venv/bin/pip" install -q "mxnet==1.9.1" "numpy==1.23.5" "scipy<1.12" "pandas<2.1" \
    "matplotlib<3.9" "opencv-python-headless<4.9" tqdm requests portalocker Pillow yacs \
    pyyaml autocfg
  # GluonCV asks for opencv-python; the headless build above provides cv2.
  "$venv/bin/pip" install -q --no-deps "gluoncv==0.10.5.post0"
  "$venv/bin/python" -c "import mxnet, gluoncv, numpy; assert numpy.__version__ == '1.23.5'"
fi

export MXNET_SUBGRAPH_VERBOSE=0 MXNET_STORAGE_FALLBACK_LOG_VERBOSE=0 PYTHONWARNINGS=ignore
if [ "${1:-}" = "--study" ]; then
  shift
  exec "$venv/bin/python" "$root/scripts/conformance_noise_study.py" "$@"
fi
exec "$venv/bin/python" "$root/scripts/conformance_models.py" "$@"
