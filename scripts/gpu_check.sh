#!/usr/bin/env bash
# GPU check, for a machine with one CUDA GPU: the tests that need CUDA, then the GPU speed figures
# (every model in float32 and with AMP: training clips/s at batch 256, inference clips/s at batch 256),
# printed and written to runs/speed/speed_gpu.json.  About three to five minutes; each step has a time limit.
#   bash scripts/gpu_check.sh            # uses .venv/bin/python (set PYTHON=... for another interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
if [ ! -x "$PYTHON" ]; then
  bash scripts/setup.sh
fi
start=$(date +%s)
"$PYTHON" - <<'PY'
import sys, torch
if not torch.cuda.is_available():
    sys.exit(f"gpu_check: torch {torch.__version__} sees no CUDA device (a CPU-only build, or no GPU here)")
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}, "
      f"bf16 {'yes' if torch.cuda.is_bf16_supported() else 'no'}")
PY
echo "== tests that need CUDA (the others skip or are deselected)"
timeout 150 "$PYTHON" -m pytest -q -rs -k "cuda or gpu" tests
echo "== GPU speed figures"
timeout 240 "$PYTHON" -m helpers.tools.speed --gpu-only
echo "gpu_check: done in $(( $(date +%s) - start )) s"
