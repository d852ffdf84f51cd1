"""Claims: ILC's threshold is flat in depth; the token and label baselines' grow by m a level."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from proofs_checks._framework import CheckResult, GridName, Verdict, finite
from proofs_checks.grids import depth_cells
from rhm_theory.sweeps.runner import SweepCell
from rhm_theory.sweeps.thresholds import (
    cell_thresholds,
    fit_growth_per_level,
    method_scale,
    summarize_thresholds,
)

__all__ = ["BaselineDepthCheck", "IlcDepthCheck", "thresholds_by_depth"]

TARGET = 0.95  # accuracy every non-root level must reach


def thresholds_by_depth(
    rows: Sequence[Mapping[str, Any]], method: str, v: int, m: int
) -> dict[int, float]:
    """Geometric-mean threshold over seeds, per depth, for one method and (v, m)."""
    sel = [r for r in rows if r["method"] == method and r["v"] == v and r["m"] == m]
    out = {}
    for summary in summarize_thresholds(cell_thresholds(sel, target=TARGET)):
        out[summary.L] = summary.P_star
    return dict(sorted(out.items()))


class IlcDepthCheck:
    """ILC's P* / (v m^3) varies by at most a factor 2 over depths (v=16, m=4, s=2)."""

    name = "ilc_threshold_constant_in_depth"
    claim = ("Own-latent prediction (ILC) recovers every non-root level at a sample size "
             "constant in depth: P* ~ v m^3.")
    source = "THEORY.md section 4 (table) and section 5; Korchinski-Favero-Wyart 2026, Thm."
    max_ratio = 2.0

    def cells(self, grid: GridName) -> list[SweepCell]:
        return depth_cells("latent", grid)

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        by_L = thresholds_by_depth(rows, "latent", 16, 4)
        rescaled = {L: P / method_scale("latent", 16, 4, 2, L) for L, P in by_L.items()}
        vals = list(rescaled.values())
        ok = bool(vals) and all(finite(x) for x in vals)
        ratio = max(vals) / min(vals) if ok else math.nan
        return CheckResult(
            self.name, self.claim, self.source,
            prediction=f"max/min over L of P*/(v m^3) <= {self.max_ratio}",
            measured={"P_star_over_vm3_by_L": rescaled, "max_over_min": ratio},
            predicted={"max_over_min": self.max_ratio},
            tolerance=f"factor {self.max_ratio} (accuracy target {TARGET} on every level, "
                      "geometric mean over grammar seeds)",
            verdict=Verdict.of(ok and ratio <= self.max_ratio),
            details={"P_star_by_L": by_L},
        )


class BaselineDepthCheck:
    """A baseline's threshold grows by a fitted factor m^(1 +- 0.3) per added level."""

    exponent_band = (0.7, 1.3)

    def __init__(self, method: str) -> None:
        self.method = method
        what = {"token": "token-level SSL (context: tokens under the cousins)",
                "label": "supervised (context: the root label)"}[method]
        self.name = f"{method}_baseline_exponential_in_depth"
        self.claim = (f"The {what} baseline needs a number of samples exponential in depth: "
                      f"P* grows by a factor m per added level "
                      f"({'v m^(L+1)' if method == 'token' else 'v m^L'}).")
        self.source = "THEORY.md section 4 (table) and section 5"

    def cells(self, grid: GridName) -> list[SweepCell]:
        return depth_cells(self.method, grid)

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        v, m = 16, 4
        by_L = thresholds_by_depth(rows, self.method, v, m)
        Ls = sorted(by_L)
        factor = fit_growth_per_level(Ls, [by_L[L] for L in Ls])
        exponent = math.log(factor) / math.log(m) if finite(factor) else math.nan
        lo, hi = self.exponent_band
        return CheckResult(
            self.name, self.claim, self.source,
            prediction=f"growth factor per level = m^e with e in [{lo}, {hi}] (m={m})",
            measured={"growth_factor_per_level": factor, "exponent_of_m": exponent,
                      "P_star_by_L": by_L},
            predicted={"growth_factor_per_level": m, "exponent_of_m": 1.0},
            tolerance=f"exponent within [{lo}, {hi}]; least-squares fit of log P* on L",
            verdict=Verdict.of(finite(exponent) and lo <= exponent <= hi),
        )
