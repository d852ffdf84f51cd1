"""Estimate the CPU cost of the `rhm-theory verify` grids from a sample of their cells.

Runs a seeded random sample of the sweep cells in this process, measures the CPU seconds of
each (``resource.getrusage``, so a machine shared with other jobs inflates wall time but not
this), and scales the cost model of ``proofs_checks.grids.estimated_cpu_seconds`` by the
measured / modelled ratio of the sample. Prints the extrapolated CPU seconds per grid.

    python benchmarks/verify_grid_cost.py --sample 40
"""

from __future__ import annotations

import argparse
import resource

import numpy as np

from proofs_checks import all_checks
from proofs_checks.grids import estimated_cpu_seconds
from rhm_theory.sweeps.runner import SweepCell, run_cell


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def grid_cells(grid: str) -> list[SweepCell]:
    cells: dict[str, SweepCell] = {}
    for check in all_checks("cpu"):
        if check.name.startswith("neural"):
            continue
        for c in check.cells(grid):  # type: ignore[arg-type]
            cells[c.key] = c
    return list(cells.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sample", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    quick = grid_cells("quick")
    rng = np.random.default_rng(args.seed)
    pick = [quick[i] for i in rng.choice(len(quick), size=args.sample, replace=False)]
    run_cell(SweepCell("latent", 8, 2, 2, 3, 100, 0, 1000))  # compile / load kernels
    measured = 0.0
    per_cell = []
    for c in pick:
        t0 = _cpu()
        run_cell(c)
        dt = _cpu() - t0
        measured += dt
        per_cell.append(dt)
    model = estimated_cpu_seconds(pick)
    ratio = measured / model
    print(f"sample of {len(pick)} quick cells: measured {measured:.1f} CPU s, model "
          f"{model:.1f} s, ratio {ratio:.3f}")
    # The two constants of the model refitted on the sample (least squares of the CPU of
    # each cell on [1, token weight x P s^L], times 3 for unpooled cells): what to write
    # into proofs_checks.grids when the ratio drifts from 1.
    mult = np.array([1.0 if c.pool_positions else 3.0 for c in pick])
    weight = np.array([2.0 if c.context == "label" else 1.0 for c in pick])
    tokens = np.array([c.P * c.s**c.L for c in pick], dtype=float)
    X = np.column_stack([mult, mult * weight * tokens])
    (fixed, per_token), *_ = np.linalg.lstsq(X, np.array(per_cell), rcond=None)
    print(f"refitted model: {fixed:.4f} s + {per_token * 1e6:.3f} us x P s^L per cell "
          f"(label baseline twice that per token)")
    for grid in ("quick", "full"):
        cells = grid_cells(grid)
        est = estimated_cpu_seconds(cells) * ratio
        print(f"{grid}: {len(cells)} cells, ~{est:.0f} CPU s of sweep "
              f"(~{est / 2 / 60:.1f} min on 2 idle cores)")


if __name__ == "__main__":
    main()
