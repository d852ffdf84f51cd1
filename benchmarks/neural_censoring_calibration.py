"""Censored thresholds counted as missing or read as intervals: both rules on the CPU grid.

Reads the finished runs of ``rhm-theory neural verify-cpu --out DIR`` and prints, for both
readings of a censored threshold (``compare_rescalings(censoring="missing" | "interval")``):

- the decision of each arm's comparison (``slc``, ``slc-sg``, the masked-LM control) on the
  grid's rows;
- the rates of each decision on grids simulated under ``v m^3`` and under ``v m^(L+1)``
  (:func:`proofs_checks.neural_compare.simulate_rule_rates`) at the SLC arm's measured
  centre and within-cell scatter, with the grid's censoring at its smallest and largest P;
  also under the near alternatives ``v m^3 1.2^L`` and ``v m^3 1.5^L`` (the rule unchanged:
  their PASS rate is a false-PASS rate).

Usage::

    python benchmarks/neural_censoring_calibration.py benchmarks/neural_cpu_grid [--n-sim 200]
"""

from __future__ import annotations

import argparse
import math

from proofs_checks.neural_compare import (
    DEFAULT_LOG_SCATTER,
    pooled_log_scatter,
    simulate_rule_rates,
    threshold_points_by_cell,
)
from proofs_checks.neural_scaling import (
    ACCURACY_FRACTION,
    CLAIM,
    COMPETITOR,
    NEAR_ALTERNATIVES,
)
from rhm_theory.neural.cpu_grid import CPU_GRID_ARMS, load_cpu_grid_rows, read_cpu_grid
from rhm_theory.neural.experiments import add_thresholds
from rhm_theory.sweeps.collapse import compare_rescalings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder")
    ap.add_argument("--n-sim", type=int, default=200)
    args = ap.parse_args()
    grid = read_cpu_grid(args.folder)
    rows, _ = load_cpu_grid_rows(args.folder, grid, CPU_GRID_ARMS)
    rows = [dict(r) for r in rows]
    add_thresholds(rows, (ACCURACY_FRACTION,))
    top = lambda L: L - 1  # noqa: E731
    arms = (("slc", "recovery"), ("slc-sg", "recovery"), ("mlm", "latent_probe"))
    print("| reading | " + " | ".join(a for a, _ in arms) + " |")
    print("|---|" + "---|" * len(arms))
    slc_points = []
    for mode in ("missing", "interval"):
        cells = []
        for arm, metric in arms:
            pts, _ = threshold_points_by_cell(rows, arm, metric, top, ACCURACY_FRACTION,
                                              censoring=mode)  # type: ignore[arg-type]
            if arm == "slc" and mode == "interval":
                slc_points = pts
            c = compare_rescalings(pts, CLAIM, [COMPETITOR], censoring=mode)  # type: ignore[arg-type]
            s = c.scores
            cells.append(f"{c.decision(COMPETITOR)} (scores {s[CLAIM]:.3g} / "
                         f"{s[COMPETITOR]:.3g}, {c.n_configs} cells)")
        print(f"| {mode} | " + " | ".join(cells) + " |")
    scatter = pooled_log_scatter(slc_points) or DEFAULT_LOG_SCATTER
    logs = [math.log(p.P_star) for p in slc_points if not p.censored]
    center = sum(logs) / len(logs)
    print(f"\nsimulated grids: centre P* = {math.exp(center):.0f}, scatter {scatter:.3f}, "
          f"{args.n_sim} grids per law, P in [{min(grid.Ps)}, {max(grid.Ps)}]\n")
    print("| reading | law simulated | claim (PASS) | rejected (FAIL) | undecided |")
    print("|---|---|---|---|---|")
    cells3 = [(grid.v, grid.m, grid.s, L, L - 1) for L in grid.Ls]
    for mode in ("missing", "interval"):
        rates = simulate_rule_rates(cells3, grid.seeds, (min(grid.Ps), max(grid.Ps)), center,
                                    scatter, CLAIM, [COMPETITOR], n_sim=args.n_sim,
                                    censoring=mode,  # type: ignore[arg-type]
                                    also_simulate=NEAR_ALTERNATIVES)
        for law, r in rates.items():
            print(f"| {mode} | {law} | {r['claim']:.3f} | {r['rejected']:.3f} | "
                  f"{r['undecided']:.3f} |")


if __name__ == "__main__":
    main()
