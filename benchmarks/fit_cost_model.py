"""Fit ILC's cost model (``rhm_theory.cost``) to the measured seconds of sweep rows.

Reads the ``rows.jsonl`` of one or more ``rhm-theory verify`` runs (each cell's
``seconds``), fits by non-negative least squares, on the pooled cells, the seconds of a fit
as a fixed cost, a cost per recovered level, a cost per training token (label baseline
apart) and a clustering cost per level and ``(v m)^2 v``; prints the coefficients, the
predicted / measured totals per run and per cell size, and the unpooled factor.

    python benchmarks/fit_cost_model.py rhm-report-full/sweep/rows.jsonl rhm-report/sweep/rows.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import nnls

from rhm_theory.cost import (
    ILC_CLUSTER_SECONDS,
    ILC_FIXED_SECONDS,
    ILC_SECONDS_PER_LEVEL,
    ILC_SECONDS_PER_TOKEN,
    UNPOOLED_FACTOR,
)

NAMES = ("fixed", "per level", "per token", "per token (label)", "clustering per (v m)^2 v")


def cells(path: Path) -> list[dict[str, Any]]:
    """One row per cell (the first level's row carries the cell's seconds)."""
    out: dict[str, dict[str, Any]] = {}
    with path.open() as fh:
        for line in fh:
            r = json.loads(line)
            out.setdefault(r["key"], r)
    return list(out.values())


def features(r: dict[str, Any]) -> list[float]:
    tokens = r["P"] * r["s"] ** r["L"]
    label = r["context"] == "label"
    return [1.0, r["L"] - 1.0, 0.0 if label else tokens, tokens if label else 0.0,
            float((r["v"] * r["m"]) ** 2 * r["v"] * (r["L"] - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("rows", nargs="+", type=Path, help="rows.jsonl of verify runs")
    args = ap.parse_args()
    runs = {str(p): cells(p) for p in args.rows}
    pooled = [r for rs in runs.values() for r in rs if r["pool_positions"]]
    X = np.array([features(r) for r in pooled])
    y = np.array([r["seconds"] for r in pooled])
    scale = X.max(axis=0)
    scale[scale == 0] = 1.0
    coef, _ = nnls(X / scale, y)
    coef /= scale
    current = [ILC_FIXED_SECONDS, ILC_SECONDS_PER_LEVEL, ILC_SECONDS_PER_TOKEN["latent"],
               ILC_SECONDS_PER_TOKEN["label"], ILC_CLUSTER_SECONDS]
    print(f"{len(pooled)} pooled cells from {len(runs)} runs")
    for name, c, now in zip(NAMES, coef, current, strict=True):
        print(f"  {name:28s} fitted {c:.3g}   (rhm_theory.cost: {now:.3g})")
    unpooled_measured = unpooled_model = 0.0
    for name, rs in runs.items():
        p = [r for r in rs if r["pool_positions"]]
        meas = np.array([r["seconds"] for r in p])
        pred = np.array([features(r) for r in p]) @ coef
        print(f"{name}: pooled measured {meas.sum():.0f} s, predicted {pred.sum():.0f} s "
              f"(ratio {pred.sum() / meas.sum():.2f})")
        for lo, hi in [(0, 0.05), (0.05, 0.5), (0.5, 5), (5, np.inf)]:
            sel = (meas >= lo) & (meas < hi)
            if sel.any():
                print(f"  cells of {lo}-{hi} s: {sel.sum()}, measured {meas[sel].sum():.0f} s, "
                      f"predicted {pred[sel].sum():.0f} s")
        u = [r for r in rs if not r["pool_positions"]]
        unpooled_measured += sum(r["seconds"] for r in u)
        unpooled_model += float((np.array([features(r) for r in u]) @ coef).sum()) if u else 0.0
    if unpooled_model:
        print(f"unpooled factor: {unpooled_measured / unpooled_model:.2f} "
              f"(rhm_theory.cost: {UNPOOLED_FACTOR})")


if __name__ == "__main__":
    main()
