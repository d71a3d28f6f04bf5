#!/usr/bin/env bash
# The main job: set up, then train and evaluate both LSTMs on the default data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
for model in baseline improved; do
  .venv/bin/python -m helpers.train --config configs/default.yaml --model "$model" --out "runs/$model"
  .venv/bin/python -m helpers.evaluate --ckpt "runs/$model/best.pt" --split test
done
