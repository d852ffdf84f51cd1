#!/usr/bin/env bash
# GPU smoke check of the neural validators (issue 13): under 8 minutes on one CUDA GPU
# (every stage has a timeout; their sum is 7.7 minutes).
#
#   bash benchmarks/gpu_smoke.sh [OUT_DIR]      (run from the repository root)
#
# 1. pytest -m gpu: CUDA tests (CPU/CUDA share one implementation, determinism, probes).
# 2. Per-step times of the planner's default (decisive-grid, L = 6) data2vec, MLM and SLC
#    models at batch sizes 128/256/512 with 1 run on the GPU, then at batch 256 with 1, 2
#    and 4 runs sharing the GPU (processes): OUT_DIR/step_times.json, which
#    `rhm-theory neural plan --device cuda --step-times OUT_DIR/step_times.json` uses
#    instead of its never-measured CUDA placeholders.
# 3. One small discriminating configuration (v=8, m=3, L=5, data2vec and MLM, online,
#    probed as strings accumulate) trained far enough to see the probes move:
#    OUT_DIR/d2v.json, OUT_DIR/mlm.json.
# Record the printed numbers in docs/results.md and docs/neural.md.
set -euo pipefail
OUT="${1:-gpu-smoke}"
mkdir -p "$OUT"
PY="${PYTHON:-python}"
export PYTHONPATH="${PYTHONPATH:-$PWD}"
start=$(date +%s)
stamp() { echo "== $1 ($(( $(date +%s) - start )) s)"; }

"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device')"
"$PY" -c "import torch; print(torch.__version__, torch.cuda.get_device_name(0))" | tee "$OUT/device.txt"

stamp "1/3 pytest -m gpu"
timeout 90 "$PY" -m pytest -q -p no:cacheprovider -m gpu tests/ | tee "$OUT/pytest_gpu.txt"

stamp "2/3 per-step times (batch sizes, one run)"
timeout 90 "$PY" -m rhm_theory neural bench --device cuda --methods data2vec mlm slc \
    --batch-sizes 128 256 512 --concurrency 1 --repeats 5 --out "$OUT/step_times_batch.json"
stamp "2/3 per-step times (1, 2, 4 runs sharing the GPU, batch 256)"
timeout 120 "$PY" -m rhm_theory neural bench --device cuda --methods data2vec mlm slc \
    --batch-sizes 256 --concurrency 1 2 4 --repeats 5 --out "$OUT/step_times.json"
"$PY" -m rhm_theory neural plan --device cuda --budget-hours 1000 \
    --step-times "$OUT/step_times.json" | tee "$OUT/plan_estimate.txt"

stamp "3/3 discriminating configuration: v=8 m=3 L=5, data2vec vs MLM"
for method in data2vec mlm; do
  timeout 80 "$PY" -m rhm_theory "$method" --device cuda --v 8 --m 3 --L 5 \
      --depth 4 --width 128 --heads 4 --top-k 3 --batch-size 256 --steps 3000 \
      --lr 1e-3 --eval-at 5 20 50 200 1000 --probe-steps 500 --pool mean \
      --json > "$OUT/$method.json"
  "$PY" - "$OUT/$method.json" <<'PYEOF'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = doc["rows"]
L = max(r["L"] for r in rows)
for r in rows:
    if (r["metric"] == "root_probe" or (r["metric"] == "synonymic_sensitivity"
            and r["level"] in (1, L - 1) and r["layer"] == max(x["layer"] or 0 for x in rows))):
        print(f'{r["method"]:>8} strings={r["P"]:>8} {r["metric"]}[{r["level"]}] = {r["value"]:.3f}')
print(f'{doc["command"]}: {doc["seconds"]:.0f} s on {doc["device"]}')
PYEOF
done
stamp "done"
