"""Claim: empirical context vectors concentrate: squared error ~ v m / P, at the exact noise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from proofs_checks._framework import CheckResult, GridName, NegativeControl, Verdict
from rhm_theory.empirical import context_vector_error_curves
from rhm_theory.model import RHMParams
from rhm_theory.sweeps.runner import SweepCell

__all__ = ["ConcentrationCheck"]


class ConcentrationCheck:
    """Slope of log error vs log P is -1 and the level matches the exact noise."""

    name = "context_vector_concentration"
    claim = ("Estimating a tuple's context vector from P strings has squared error about "
             "v m / P (n_t = P/(v m) occurrences), the noise side of P* ~ v m / Delta^2.")
    source = "docs/theory.md section 4"
    slope_band = (-1.1, -0.9)
    ratio_band = (0.8, 1.25)

    def cells(self, grid: GridName) -> list[SweepCell]:
        return []

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        params = RHMParams(16, 4, 2, 4)
        Ps = [2000, 8000, 32000, 128000] if grid == "quick" else [2000, 8000, 32000, 128000,
                                                                   512000]
        seeds = [1, 2, 3] if grid == "quick" else [1, 2, 3, 4, 5, 6]
        (curve,) = context_vector_error_curves(
            (params.v, params.m, params.s, params.L), 0, Ps, seeds, kinds=("latent",),
            levels=(1,))
        slope = float(np.polyfit(np.log(curve.P), np.log(curve.measured), 1)[0])
        ratios = [float(x) for x in curve.measured / curve.predicted]
        # v m / P scaling constant: measured error * P / (v m), to report.
        const = [float(x) for x in curve.measured * curve.P / (params.v * params.m)]
        res = [{"P": float(P), "measured": float(a), "predicted": float(b)}
               for P, a, b in zip(curve.P, curve.measured, curve.predicted, strict=True)]
        lo, hi = self.slope_band
        rlo, rhi = self.ratio_band
        # Negative control: a wrong noise model that ignores the pooling over the
        # s^(L-l-1) level-l nodes of one position (noise x that count) must be rejected.
        n_pool = params.s ** (params.L - 1 - 1)
        wrong = [r / n_pool for r in ratios]
        control = NegativeControl(
            f"the same ratio test against an unpooled noise model (exact noise x {n_pool})",
            Verdict.of(all(rlo <= r <= rhi for r in wrong)), {"measured_over_wrong": wrong})
        return CheckResult(
            self.name, self.claim, self.source,
            prediction="error ~ P^-1 with the exact per-occurrence noise as prefactor",
            measured={"slope": slope, "measured_over_exact_noise": ratios,
                      "error_times_P_over_vm": const},
            predicted={"slope": -1.0, "measured_over_exact_noise": 1.0},
            tolerance=f"slope in [{lo}, {hi}], ratio in [{rlo}, {rhi}] "
                      f"(mean over {len(seeds)} data seeds)",
            verdict=Verdict.of(lo <= slope <= hi and all(rlo <= r <= rhi for r in ratios)),
            negative_control=control,
            details={"params": params.to_dict(), "level": 1, "context": "latent",
                     "rows": res},
        )
