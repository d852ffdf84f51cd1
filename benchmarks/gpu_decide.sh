#!/usr/bin/env bash
# One GPU call that decides (at most 12 minutes on one H100); see rhm_theory/neural/gpu_decide.py.
#
#   bash benchmarks/gpu_decide.sh [--out DIR] [--dry-run]     (from the repository root)
#
# Prints one JSON object per finished stage ({"stage": ..., "status": "ok"|"skipped"|"failed"})
# and writes the same under DIR (default $OUT, else gpu-decide): env, bench:<method> x 4,
# determinism, cpu_cell, decisive, plan, summary. Without CUDA every stage after env is
# "skipped" and the exit code is 0; --dry-run runs every stage in miniature on the CPU.
# Needs only `pip install ".[torch]"` (or the working tree on PYTHONPATH).
set -u
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" -m rhm_theory.neural.gpu_decide "$@"
