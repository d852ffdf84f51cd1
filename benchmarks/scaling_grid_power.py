"""Which grid decides each scaling claim: power and error rates simulated on a design.

For every row of ``proofs_checks.depth_scaling.SCALING_CLAIMS``, the noise model is fitted to
the claim's own thresholds in a report folder of ``rhm-theory verify`` (its ``sweep``
rows), then the claim's unchanged rule is calibrated (``rhm_theory.scaling.assess``) on the
design of a grid: the grid's configurations, seeds and ``P`` grids (placeholder thresholds
that the simulation replaces), without running a single learner. Prints, per claim and grid,
the power, the false-FAIL rate, the worst false-PASS rate and the estimated CPU seconds of
the grid's cells (``proofs_checks.grids.estimated_cpu_seconds``).

    python benchmarks/scaling_grid_power.py /tmp/quick-report --grids quick full --n-sim 100
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict

from proofs_checks.depth_scaling import SCALING_CLAIMS, ScalingCheck
from proofs_checks.grids import estimated_cpu_seconds, is_separated
from rhm_theory.scaling import ThresholdPoint, assess, fit_noise_model
from rhm_theory.sweeps.runner import SweepCell, load_rows


def design(check: ScalingCheck, grid: str) -> list[ThresholdPoint]:
    """Placeholder threshold points of ``check``'s own cells on ``grid`` (separated
    grammars, one per run and level), with each run's ``P`` grid."""
    s = check.spec
    cells = [c for c in check.cells(grid) if c.context == s.context  # type: ignore[arg-type]
             and (s.variant is not None) == (not c.pool_positions)]
    runs: dict[tuple[int, int, int, int], list[int]] = defaultdict(list)
    for c in cells:
        runs[(c.v, c.m, c.L, c.grammar_seed)].append(c.P)
    out = []
    for (v, m, L, g), Ps in sorted(runs.items()):
        if not is_separated(v, m, L, g):
            continue
        levels = range(1, L) if s.per_level else [0]
        for lv in levels:
            # The placeholder sits mid-grid; simulate_points replaces it.
            mid = math.sqrt(min(Ps) * max(Ps))
            out.append(ThresholdPoint(v, m, 2, L, lv, g, mid, float(min(Ps)), float(max(Ps))))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("report", help="a report folder of `rhm-theory verify` (its sweep rows)")
    ap.add_argument("--grids", nargs="+", default=["quick", "full"])
    ap.add_argument("--n-sim", type=int, default=100)
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--json", default=None, help="also write the table as JSON here")
    args = ap.parse_args()
    rows = load_rows(f"{args.report}/sweep/rows.jsonl")
    # The rows are read on the grid that made them (its configurations), from the report.
    with open(f"{args.report}/report.json") as fh:
        rows_grid = json.load(fh)["grid"]
    out = []
    for spec in SCALING_CLAIMS:
        if args.only and spec.name not in args.only:
            continue
        check = ScalingCheck(spec)
        real, _, _ = check.points(rows, spec.context, rows_grid, spec.variant)
        if len({p.config for p in real}) < 3:
            print(f"{spec.name}: too few real thresholds to fit a noise model")
            continue
        noise = fit_noise_model(real, with_level=spec.per_level)
        for grid in args.grids:
            pts = design(check, grid)
            a = assess(pts, check.law, axes=spec.axes, n_sim=args.n_sim, noise=noise)
            pw = a.power
            assert pw is not None
            worst = pw.worst
            cells: list[SweepCell] = check.cells(grid)  # type: ignore[arg-type]
            rec = {"check": spec.name, "grid": grid, "n_runs": len(pts),
                   "power": pw.claim, "false_fail": pw.false_fail,
                   "worst_false_pass": None if worst is None else list(worst),
                   "cpu_seconds": estimated_cpu_seconds(cells),
                   "noise": noise.to_dict()}
            out.append(rec)
            print(f"{spec.name:32s} {grid:5s} power {pw.claim:.2f}  false-FAIL "
                  f"{pw.false_fail:.2f}  worst false-PASS "
                  f"{'-' if worst is None else f'{worst[1]:.2f} ({worst[0]})'}  "
                  f"~{rec['cpu_seconds']:.0f} CPU s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
