#!/usr/bin/env bash
# Kiln vs. reference benchmark (issue 3 item 7). Usage:
#   bench/run.sh [--quick] [run.py options: --only sgemm,lenet --threads 1,2 --engine auto|compiled|reference ...]
#   bench/run.sh --suite train [--quick] [bench/train.py options]   (training vs PyTorch)
#   bench/run.sh --suite eager [--quick] [bench/eager.py options]   (NDArray calls vs PyTorch eager)
# Builds nothing of Kiln: it uses build/bin (or $KILN_BIN). See docs/performance.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
"$here/setup.sh"
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE are unset for the benchmark commands
# only (run.py does it per command), so OpenBLAS picks its own kernels.
exec python3 "$here/run.py" "$@"
