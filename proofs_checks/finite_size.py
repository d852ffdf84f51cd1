"""Claim: the exact finite-size prediction noise / (Delta/2)^2 matches the ILC threshold."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from proofs_checks._framework import CheckResult, GridName, finite
from proofs_checks.depth_scaling import TARGET
from proofs_checks.grids import VMS, depth_cells
from rhm_theory.bounds.predictions import predicted_tree_threshold
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.sweeps.runner import SweepCell
from rhm_theory.sweeps.thresholds import cell_thresholds

__all__ = ["FiniteSizePredictionCheck"]


class FiniteSizePredictionCheck:
    """Ratio measured / predicted per grammar, for ILC with the latent context."""

    name = "finite_size_prediction"
    claim = ("With exact margins and noise, the signal-to-noise argument predicts the ILC "
             "threshold of a given grammar as a number, not only an exponent.")
    source = "THEORY.md section 4 (P* ~ v m / Delta^2 with exact Delta)"
    max_spread = 4.0

    def cells(self, grid: GridName) -> list[SweepCell]:
        return depth_cells("latent", grid)

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        sel = [r for r in rows if r["method"] == "latent"
               and (r["v"], r["m"]) in set(VMS[grid]["latent"])]
        ratios = []
        records = []
        for t in cell_thresholds(sel, target=TARGET):
            g = random_grammar(RHMParams(t["v"], t["m"], t["s"], t["L"]), t["grammar_seed"])
            pred = predicted_tree_threshold(g, "latent")
            ratio = t["P_star"] / pred if finite(t["P_star"]) else math.nan
            ratios.append(ratio)
            records.append({"v": t["v"], "m": t["m"], "L": t["L"], "seed": t["grammar_seed"],
                            "measured": t["P_star"], "predicted": pred, "ratio": ratio})
        arr = np.asarray(ratios)
        ok = arr.size > 0 and bool(np.all(np.isfinite(arr)))
        spread = float(arr.max() / arr.min()) if ok else math.nan
        median = float(np.median(arr)) if ok else math.nan
        return CheckResult(
            self.name, self.claim, self.source,
            prediction="measured/predicted is one constant across grammars and depths",
            measured={"median_ratio": median, "ratio_max_over_min": spread,
                      "n_grammars": int(arr.size)},
            predicted={"ratio_max_over_min": f"<= {self.max_spread}"},
            tolerance=f"spread of the ratio (max/min over all grammars) <= {self.max_spread}",
            passed=ok and spread <= self.max_spread,
            details={"per_grammar": records},
        )
