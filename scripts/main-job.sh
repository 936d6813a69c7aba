#!/usr/bin/env bash
# The README's main job. Until training lands (issue 4) it imports a zoo
# network, prints its shape-inferred graph and memory plan, JIT-compiles it and
# runs it on real Fashion-MNIST test images with seeded random weights.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh"

out="$root/out/main-job"
bin="$root/build/bin"
batch=64
mkdir -p "$out"
python3 "$root/scripts/fashion_mnist_to_npy.py" "$batch" "$out/images.npy" "$out/labels.npy"

echo "== kiln-compile: zoo:lenet imported and shape-inferred (graph dialect) =="
"$bin/kiln-compile" zoo:lenet --input-shape "data=$batch,1,28,28" --emit graph -o "$out/lenet.mlir"
grep -c "graph\." "$out/lenet.mlir" | xargs echo "graph ops:"
head -n 12 "$out/lenet.mlir"
"$bin/kiln-compile" zoo:lenet --input-shape "data=$batch,1,28,28" --memory-report

echo "== kiln-run: LeNet forward on $batch Fashion-MNIST test images (random weights, compiled) =="
"$bin/kiln-run" zoo:lenet --random-params 1 --input "data=$out/images.npy" \
  --output-dir "$out" --bench 3
python3 "$root/scripts/top1.py" "$out/out0.npy" "$out/labels.npy"
echo "(untrained weights: about 10% is expected until kiln-train exists)"
