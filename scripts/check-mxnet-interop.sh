#!/usr/bin/env bash
# Checks that MXNet 1.9.1 itself reads Kiln's checkpoints (1.x symbol JSON +
# V2 .params) and computes the same outputs as Kiln. Needs PyPI (MXNet and an
# older NumPy go into build/mxnet-venv); the ctest suite does not need it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="$root/build/mxnet-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "mxnet==1.9.1" "numpy<1.24"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ck"
gen="$root/test/lit/Tools/Inputs/random_npy.py"
python3 "$gen" "$work/gray.npy" 1 2 1 28 28
python3 "$gen" "$work/rgb.npy" 2 2 3 32 32
for case in mlp:gray lenet:gray resnet18:rgb resnet50:rgb inception-bn:gray vgg16:rgb; do
  net="${case%%:*}"
  data="$work/${case##*:}.npy"
  "$root/build/bin/kiln-run" "zoo:$net" --random-params 5 --input "data=$data" \
    --output-dir "$work/$net" --save-checkpoint "$work/ck/$net" 2>/dev/null
  "$venv/bin/python" "$root/scripts/mxnet_interop_check.py" "$work/ck/$net" "$data" \
    "$work/$net/out0.npy" 2>&1 | grep -v "Subgraph backend"
done
