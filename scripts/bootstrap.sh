#!/usr/bin/env bash
# Installs every system package Kiln needs on Debian 12. Idempotent: packages
# already present are skipped, and apt is only touched when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache git python3
  llvm-22-dev libmlir-22-dev mlir-22-tools llvm-22-tools lld-22 lld
  libgtest-dev libopenblas-dev zlib1g-dev
  libopenmpi-dev openmpi-bin
  dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "bootstrap: all ${#packages[@]} packages present"
  exit 0
fi

echo "bootstrap: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
