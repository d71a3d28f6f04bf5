#!/usr/bin/env bash
# Learning curve of the fused ST-GCN (joint + bone members) on the JHMDB split-1 VALIDATION carve-out:
# each member trains on 50% / 75% of the training clips (validation unchanged), and the two
# members' last checkpoints are fused on validation. The test split is never read.
# 100% is the selection run of the benchmark (runs/benchmark/jhmdb_split1/<member>/seed<S>/last.pt).
# Result (README, JHMDB section), measured when the members used rotation +-10 deg / scale 0.1:
# 50% -> 82.2%, 75% -> 86.8%, 100% -> 86.8% fused val accuracy.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${OUT:-runs/learning_curve}
for fraction in 0.5 0.75; do
  for seed in 0 1; do
    for member in joint bone; do
      run="$OUT/f$fraction/$member/seed$seed"
      mkdir -p "$run"
      "$PY" -m helpers.train --config configs/jhmdb_stgcn_$member.yaml --train-fraction $fraction --seed $seed \
        --out "$run" > "$run/train.log" 2>&1 || { tail -n 5 "$run/train.log"; exit 1; }
    done
    echo "train fraction $fraction, seed $seed:"
    "$PY" -m helpers.evaluate --split val --ckpt "$OUT/f$fraction/joint/seed$seed/last.pt" \
      --ckpt "$OUT/f$fraction/bone/seed$seed/last.pt" --out "$OUT/f$fraction/fused/seed$seed" | tail -2
  done
done
for seed in 0 1; do
  echo "train fraction 1.0 (benchmark selection runs), seed $seed:"
  "$PY" -m helpers.evaluate --split val --ckpt runs/benchmark/jhmdb_split1/stgcn_joint/seed$seed/last.pt \
    --ckpt runs/benchmark/jhmdb_split1/stgcn_bone/seed$seed/last.pt --out "$OUT/f1.0/fused/seed$seed" | tail -2
done
