#!/usr/bin/env bash
# The CUDA benchmark in one command (at most ~8 minutes on one GPU):
#   bash tools/benchmark_cuda.sh [CONFIG] [OUT_DIR]
# writes OUT_DIR/device_benchmark.json and .md (see tools/benchmark_device.py).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
CONFIG=${1:-configs/faster_rcnn_r50_patch1333.py}
OUT=${2:-work_dirs/device_benchmark}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
timeout 480 "$PY" tools/benchmark_device.py "$CONFIG" --device cuda --size full --out-dir "$OUT"
