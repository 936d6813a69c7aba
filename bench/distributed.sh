#!/usr/bin/env bash
# Distributed KVStore figures for docs/distributed.md (issue 6):
#   1. allreduce bandwidth vs message size over Open MPI (2 ranks, this machine)
#   2. one kiln-train epoch: 1 process with batch 2B vs 2 processes with batch B
#   3. resnet18 steps with the reduction overlapping the backward vs after it
#      (--overlap / --overlap=false), and the reduction alone: the fraction hidden
# Usage: bench/distributed.sh [--max-batches N] [--model zoo:mlp] [--batch B]
# Builds nothing: uses build/bin (or $KILN_BIN). Writes bench/results/distributed-<time>.txt.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${KILN_BIN:-$here/../build/bin}"
model=zoo:mlp; batch=32; maxb=0
while [ $# -gt 0 ]; do
  case "$1" in
    --max-batches) maxb="$2"; shift 2;;
    --model) model="$2"; shift 2;;
    --batch) batch="$2"; shift 2;;
    *) echo "distributed.sh: unknown option $1" >&2; exit 2;;
  esac
done
mpirun=(mpirun --allow-run-as-root --oversubscribe --mca btl self,vader)
out="$here/results/distributed-$(date -u +%Y%m%dT%H%M%SZ).txt"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
mkdir -p "$here/results"
{
  echo "# machine: $(nproc) cores, $(uname -r), $(mpirun --version | head -1)"
  echo "## allreduce (kvstore-mpi-check bench, 2 ranks, shared memory)"
  "${mpirun[@]}" -np 2 "$bin/kvstore-mpi-check" bench
  echo "## allreduce, 1 rank (the KVStore's own overhead: copies, engine ops)"
  "${mpirun[@]}" -np 1 "$bin/kvstore-mpi-check" bench
  two=$((batch * 2))
  echo "## kiln-train $model, one epoch (max-batches $maxb)"
  "$bin/kiln-train" --model "$model" --epochs 1 --batch-size "$two" --max-batches "$maxb" \
    --seed 1 --save "$tmp/one/m" --log-json "$tmp/one.json" >/dev/null 2>&1
  echo "1 process,  batch $two: $(cat "$tmp/one.json")"
  half=$(( maxb ))
  "${mpirun[@]}" -np 2 "$bin/kiln-train" --model "$model" --epochs 1 --batch-size "$batch" \
    --max-batches "$half" --kvstore dist_sync --seed 1 --save "$tmp/two/m" \
    --log-json "$tmp/two.json" >/dev/null 2>&1
  echo "2 processes, batch $batch each: $(cat "$tmp/two.json")"
  python3 "$here/../scripts/compare_params.py" "$tmp/two/m-0001.params" "$tmp/one/m-0001.params" || true
  echo "## resnet18 3x32x32, batch 16 per rank, 2 ranks: overlap vs not (3 rounds, alternating)"
  for round in 1 2 3; do
    for ov in true false; do
      [ $((round % 2)) -eq 0 ] && ov=$([ "$ov" = true ] && echo false || echo true)
      echo "round $round, --overlap=$ov: $("${mpirun[@]}" -np 2 "$bin/kiln-train" --model zoo:resnet18 \
        --bench-steps 8 --bench-shape 3,32,32 --batch-size 16 --kvstore dist_sync \
        --save "$tmp/rn/m" --overlap=$ov 2>/dev/null | grep -E '^bench(-dist)?:' | sort -u | tr '\n' ' ')"
    done
  done
} | tee "$out"
echo "wrote $out"
