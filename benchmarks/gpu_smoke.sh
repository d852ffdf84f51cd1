#!/usr/bin/env bash
# GPU smoke check of the neural validators: under 6 minutes on one CUDA GPU, never aborts.
#
#   bash benchmarks/gpu_smoke.sh OUT_DIR        (run from the repository root)
#
# Every stage has its own timeout and writes OUT_DIR/stage_<name>.json (status ok, failed,
# timeout or skipped; exit code; seconds; log file) as soon as it finishes, so a stage that
# fails or times out never loses the later ones. The sum of the timeouts (plus a 2 s kill
# grace each) is 349 s. On a machine without CUDA the CUDA stages are marked "skipped" and
# the script exits 0; with CUDA it exits 1 when a stage failed or timed out.
#
#   import   torch, numpy, numba, scipy and rhm_theory import; CUDA present?     20 s
#   warm     one 1-step CPU run: compiles the numba kernels (sampler, Bayes
#            baselines) into NUMBA_CACHE_DIR, so the timed stages do not compile  60 s
#   bench    per-step times (decisive-grid models, L = 6, batch 256) with 1 and 4
#            runs sharing the GPU -> OUT_DIR/step_times.json, which
#            `rhm-theory neural plan --device cuda --step-times OUT_DIR/step_times.json`
#            uses instead of its placeholders                                    90 s
#   pytest   pytest -m gpu (no host sync in a step, CPU/CUDA agreement, ...)     60 s
#   slc      one offline SLC run, v=8 m=3 L=4 P=4096, 1,000 steps, one evaluation 45 s
#   mlm      one offline masked-LM run, same cell, 1,000 steps, one evaluation    45 s
#   plan     the budget planner (10 h) with the measured step times               15 s
#
# SMOKE_DEVICE=cpu SMOKE_STEPS=30 runs the "CUDA" stages on the CPU (a dry run of the
# commands themselves; the timeouts are sized for a GPU, so the bench times out there);
# SMOKE_SKIP="bench pytest" marks the named stages skipped.
#
# No install is needed when torch, numpy, numba and scipy are importable: the package is
# taken from the working tree through PYTHONPATH. torch.compile stays off (untested).
set -u
OUT="${1:-gpu-smoke}"
mkdir -p "$OUT"
PY="${PYTHON:-python3}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-$OUT/numba-cache}"
start=$(date +%s)
failed=0
DEV="${SMOKE_DEVICE:-cuda}"
STEPS="${SMOKE_STEPS:-1000}"

# write_stage NAME STATUS RC SECONDS LOG
write_stage() {
  printf '{"stage": "%s", "status": "%s", "rc": %s, "seconds": %s, "log": "%s"}\n' \
    "$1" "$2" "$3" "$4" "$5" > "$OUT/stage_$1.json"
  echo "== $1: $2 (rc $3, $4 s; total $(( $(date +%s) - start )) s)"
}

# stage NAME TIMEOUT_S NEEDS_CUDA(0/1) CMD...
stage() {
  local name=$1 limit=$2 needs_cuda=$3
  shift 3
  local log="$OUT/$name.log"
  if { [ "$needs_cuda" = 1 ] && [ "$CUDA" != 1 ]; } || [[ " ${SMOKE_SKIP:-} " == *" $name "* ]]; then
    write_stage "$name" skipped null 0 "$log"
    return 0
  fi
  local t0 rc status
  t0=$(date +%s)
  timeout -k 2 "$limit" "$@" > "$log" 2>&1
  rc=$?
  if [ $rc -eq 0 ]; then status=ok
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then status=timeout; failed=1
  else status=failed; failed=1
  fi
  tail -n 15 "$log"
  write_stage "$name" "$status" "$rc" "$(( $(date +%s) - t0 ))" "$log"
}

CUDA=0
stage import 20 0 "$PY" -c "
import json, sys
import numpy, numba, scipy, torch
import rhm_theory, rhm_theory.neural.training
cuda = torch.cuda.is_available()
info = {'python': sys.version.split()[0], 'torch': torch.__version__, 'numpy': numpy.__version__,
        'numba': numba.__version__, 'scipy': scipy.__version__, 'cuda': cuda,
        'device': torch.cuda.get_device_name(0) if cuda else None}
json.dump(info, open('$OUT/device.json', 'w'))
print(info)
"
if "$PY" -c "import json,sys; sys.exit(0 if json.load(open('$OUT/device.json'))['cuda'] else 1)" \
    2>/dev/null; then
  CUDA=1
fi
echo "CUDA available: $CUDA"
if [ "$DEV" = cpu ]; then CUDA=1; echo "SMOKE_DEVICE=cpu: running the CUDA stages on the CPU"; fi

stage warm 60 1 bash -c 'for m in slc mlm; do "$0" -m rhm_theory $m --device cpu --v 8 --m 3 \
    --L 4 --P 256 --steps 1 --batch-size 8 --probe-steps 1 --probe-train 16 --probe-test 16 \
    --json > /dev/null || exit 1; done' "$PY"

stage bench 90 1 "$PY" -m rhm_theory neural bench --device "$DEV" \
    --methods data2vec mlm slc --batch-sizes 256 --concurrency 1 4 --repeats 3 \
    --out "$OUT/step_times.json"

stage pytest 60 1 "$PY" -m pytest -q -p no:cacheprovider -m gpu tests/

# One evaluation at the end of each run (no --eval-at): the runs' JSON in OUT_DIR/<name>.json.
stage slc 45 1 bash -c "\"\$0\" -m rhm_theory slc --device "$DEV" --v 8 --m 3 --L 4 --P 4096 \
    --steps "$STEPS" --hidden 64 --batch-size 256 --lr 1e-3 --probe-steps 300 --probe-train 512 \
    --probe-test 512 --json > '$OUT/slc.json'" "$PY"

stage mlm 45 1 bash -c "\"\$0\" -m rhm_theory mlm --device "$DEV" --v 8 --m 3 --L 4 --P 4096 \
    --steps "$STEPS" --depth 2 --width 64 --heads 4 --batch-size 256 --lr 1e-3 --probe-steps 300 \
    --probe-train 512 --probe-test 512 --json > '$OUT/mlm.json'" "$PY"

if [ -s "$OUT/step_times.json" ]; then
  stage plan 15 1 "$PY" -m rhm_theory neural plan --device "$DEV" --budget-hours 10 \
      --step-times "$OUT/step_times.json" --json
else
  stage plan 15 1 "$PY" -m rhm_theory neural plan --device "$DEV" --budget-hours 10 --json
fi

"$PY" - "$OUT" <<'PYEOF' || true
import glob, json, os, sys
out = sys.argv[1]
stages = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(out, "stage_*.json")))]
for name in ("slc", "mlm"):
    path = os.path.join(out, f"{name}.json")
    if os.path.exists(path) and os.path.getsize(path) > 0:
        rows = json.load(open(path))["rows"]
        L = max(r["L"] for r in rows)
        for r in rows:
            if r["metric"] in ("recovery", "latent_probe", "root_probe", "masked_prediction") \
                    and r["level"] in (0, L - 1, L):
                print(f'{name} {r["metric"]}[{r["level"]}] = {r["value"]:.3f}')
json.dump({"stages": stages}, open(os.path.join(out, "summary.json"), "w"), indent=1)
print({s["stage"]: s["status"] for s in stages})
PYEOF
echo "== done in $(( $(date +%s) - start )) s"
if [ "$CUDA" = 1 ] && [ "$failed" = 1 ]; then exit 1; fi
exit 0
