#!/usr/bin/env bash
# The README's main job: train LeNet on Fashion-MNIST with kiln-train, save an
# MXNet-format checkpoint, AOT-compile it into a stand-alone inference
# executable with kiln-compile, run that over the 10,000 test images and
# print the accuracy and images/s.
#
# Environment knobs (defaults in brackets): EPOCHS [2], BATCH [64],
# OPTIMIZER [adam], LR [0.001], SEED [1], OUT [out/main-job].
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh"

bin="$root/build/bin"
out="${OUT:-$root/out/main-job}"
epochs="${EPOCHS:-2}"
batch="${BATCH:-64}"
chunk=1000 # images per run of the inference executable
mkdir -p "$out"
rm -f "$out/train-log.json"

echo "== 1. kiln-train: LeNet on Fashion-MNIST, $epochs epochs, batch $batch =="
"$bin/kiln-train" --model zoo:lenet --dataset fashion-mnist --epochs "$epochs" \
  --batch-size "$batch" --optimizer "${OPTIMIZER:-adam}" --lr "${LR:-0.001}" \
  --seed "${SEED:-1}" --save "$out/lenet" --log-json "$out/train-log.json"
params="$out/lenet-$(printf %04d "$epochs").params"
echo "checkpoint: $out/lenet-symbol.json + $params"

echo "== 2. kiln-compile --emit exe: the checkpoint as a stand-alone inference binary =="
"$bin/kiln-compile" "$out/lenet-symbol.json" --params "$params" \
  --input-shape "data=$chunk,1,28,28" --emit exe -o "$out/lenet-infer"
echo "dependencies of $out/lenet-infer:"
ldd "$out/lenet-infer" | sed 's/^/  /'

echo "== 3. the inference binary over the 10,000 test images ($chunk per run) =="
pairs=()
for ((i = 0; i < 10000; i += chunk)); do
  python3 "$root/scripts/fashion_mnist_to_npy.py" "$chunk" "$out/test-$i.npy" \
    "$out/labels-$i.npy" "$i"
done
run_ns=0
for ((i = 0; i < 10000; i += chunk)); do
  t0=$(date +%s%N)
  "$out/lenet-infer" --input "data=$out/test-$i.npy" --input "softmax_label=$out/labels-$i.npy" \
    --output-dir "$out/pred-$i"
  run_ns=$((run_ns + $(date +%s%N) - t0))
  pairs+=("$out/pred-$i/out0.npy" "$out/labels-$i.npy")
done
python3 "$root/scripts/top1.py" "${pairs[@]}"
awk -v ns="$run_ns" 'BEGIN { printf "throughput: %.0f images/s over 10 process runs (load + run + write)\n", 10000 / (ns / 1e9) }'
"$out/lenet-infer" --input "data=$out/test-0.npy" --input "softmax_label=$out/labels-0.npy" \
  --output-dir "$out/pred-bench" --bench 10 |
  tail -n 1 | awk -v n="$chunk" '{ split($4, a, "="); printf "steady state: %.0f images/s (batch %d, median of 10: %s ms)\n", n / (a[2] / 1000), n, a[2] }'
