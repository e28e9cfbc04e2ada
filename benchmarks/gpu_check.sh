#!/usr/bin/env bash
# Time the live streaming step on a GPU in PyTorch (eager and CUDA graphs), for a session
# that has a device. ONNX Runtime's CUDA provider is not timed here: the lent GPU machines
# carry only the CPU onnxruntime, and onnxruntime-gpu (~244 MiB) cannot travel to them.
#   benchmarks/gpu_check.sh [--steps N] [--batch 1 4]
# Needs a Python with a CUDA build of torch and this checkout importable (PYTHONPATH is set
# to a livesep package view below when the package is not installed).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] && PY=${PYTHON:-.venv/bin/python}
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
exec "$PY" benchmarks/gpu_step.py "$@"
