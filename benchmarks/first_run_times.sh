#!/usr/bin/env bash
# Cold and warm start of `rhm-theory verify --only synonym_invariance` and `rhm-theory bp`
# (docs/cli.md, "First run"). Usage: benchmarks/first_run_times.sh TREE LABEL
# TREE: a checkout of the project (run with its code via PYTHONPATH); LABEL: names the
# temporary files. Each cold run starts from a fresh, empty NUMBA_CACHE_DIR; the 1-minute load
# average is printed with every time (the machine may be shared).
set -u
TREE=${1:-.}; LABEL=${2:-run}
cd "$TREE" || exit 2
export PYTHONPATH=$PWD
CACHE=/tmp/numba-first-run-$LABEL; rm -rf "$CACHE"; export NUMBA_CACHE_DIR=$CACHE
G=/tmp/first-run-$LABEL-g.json
python -m rhm_theory grammar make --v 16 --m 4 --s 2 --L 5 --seed 0 --out "$G" >/dev/null
for kind in cold warm; do
  rm -rf "/tmp/first-run-$LABEL-rep"
  s=$(date +%s.%N)
  python -m rhm_theory verify --only synonym_invariance --out "/tmp/first-run-$LABEL-rep" \
    > "/tmp/first-run-$LABEL-verify-$kind.out" 2>&1; rc=$?
  e=$(date +%s.%N)
  echo "$LABEL verify-synonym $kind rc=$rc $(echo "$e - $s" | bc) s load=$(cut -d' ' -f1 /proc/loadavg)"
  s=$(date +%s.%N)
  python -m rhm_theory bp "$G" --n 10000 --seed 1 > "/tmp/first-run-$LABEL-bp-$kind.out" 2>&1; rc=$?
  e=$(date +%s.%N)
  echo "$LABEL bp $kind rc=$rc $(echo "$e - $s" | bc) s load=$(cut -d' ' -f1 /proc/loadavg)"
done
