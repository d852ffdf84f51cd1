"""Claim: empirical context vectors concentrate: squared error ~ v m / P, at the exact noise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from proofs_checks._framework import (
    UNCALIBRATED,
    CheckResult,
    GridName,
    NegativeControl,
    Verdict,
)
from rhm_theory.empirical import context_vector_error_curves
from rhm_theory.model import RHMParams
from rhm_theory.sweeps.runner import SweepCell

__all__ = ["ConcentrationCheck", "repeated_string_errors"]

#: ``power_reason`` of a check whose rule is not simulated yet.
def repeated_string_errors(params: RHMParams, grammar_seed: int, Ps: Sequence[int],
                           data_seeds: Sequence[int], repeat: int) -> np.ndarray:
    """Measured squared error of level-1 latent context vectors from corpora of ``P``
    strings in which every string appears ``repeat`` times (``P / repeat`` distinct): data
    whose effective sample size is ``P / repeat``, where the claim ``error ~ v m / P`` at
    the exact noise is false by a factor ``repeat``. Same estimator and error as
    :func:`rhm_theory.empirical.context_vector_error_curves` (mean over data seeds)."""
    from rhm_theory.empirical import ContextCounts
    from rhm_theory.exact import context_laws
    from rhm_theory.model import random_grammar, tuple_codes
    from rhm_theory.model.sampling import sample

    v, m, s = params.v, params.m, params.s
    g = random_grammar(params, grammar_seed)
    laws = context_laws(g, 1, "latent")
    parents = np.repeat(np.arange(params.vocab(1)), m)
    codes = tuple_codes(g.rules_of(1).reshape(-1, s), v)
    occurs = laws.weights[:, parents] > 0
    exact = np.transpose(laws.blocks[:, :, parents], (2, 0, 1, 3))
    out = np.zeros(len(Ps))
    for ds in data_seeds:
        for i, P in enumerate(Ps):
            acc = ContextCounts(s, 1, "latent", v, v)
            chunk = sample(g, P // repeat, ds, latents=True)
            for _ in range(repeat):  # each distinct string counted `repeat` times
                acc.update(chunk.tokens, tokens=chunk.tokens)
            sq = ((acc.conditional_laws(codes) - exact) ** 2).sum(axis=(2, 3))
            out[i] += float(np.where(occurs.T, sq, 0.0).sum(axis=1).mean())
    return out / len(data_seeds)


class ConcentrationCheck:
    """Slope of log error vs log P is -1 and the level matches the exact noise."""

    name = "context_vector_concentration"
    claim = ("Estimating a tuple's context vector from P strings has squared error about "
             "v m / P (n_t = P/(v m) occurrences), the noise side of P* ~ v m / Delta^2.")
    source = "docs/theory.md section 4"
    slope_band = (-1.1, -0.9)
    ratio_band = (0.8, 1.25)
    #: Times each string is repeated in the control's corpora.
    control_repeat = 2

    def cells(self, grid: GridName) -> list[SweepCell]:
        return []

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        params = RHMParams(16, 4, 2, 4)
        Ps = [2000, 8000, 32000, 128000] if grid == "quick" else [2000, 8000, 32000, 128000,
                                                                   512000]
        seeds = [1, 2, 3] if grid == "quick" else [1, 2, 3, 4, 5, 6]
        (curve,) = context_vector_error_curves(
            (params.v, params.m, params.s, params.L), 0, Ps, seeds, contexts=("latent",),
            levels=(1,))
        slope = float(np.polyfit(np.log(curve.P), np.log(curve.measured), 1)[0])
        ratios = [float(x) for x in curve.measured / curve.predicted]
        # v m / P scaling constant: measured error * P / (v m), to report.
        const = [float(x) for x in curve.measured * curve.P / (params.v * params.m)]
        res = [{"P": float(P), "measured": float(a), "predicted": float(b)}
               for P, a, b in zip(curve.P, curve.measured, curve.predicted, strict=True)]
        lo, hi = self.slope_band
        rlo, rhi = self.ratio_band
        # Negative control (issue 17: data where the claim is false, not the claim's own
        # ratios divided by a constant): corpora of P strings in which every string
        # appears twice, whose effective sample size is P/2, through the same rule.
        rep = repeated_string_errors(params, 0, list(curve.P.astype(int)), seeds,
                                     self.control_repeat)
        c_slope = float(np.polyfit(np.log(curve.P), np.log(rep), 1)[0])
        c_ratios = [float(x) for x in rep / curve.predicted]
        control = NegativeControl(
            f"the same rule on corpora where every string appears {self.control_repeat} "
            f"times (effective P = P/{self.control_repeat})",
            Verdict.of(lo <= c_slope <= hi and all(rlo <= r <= rhi for r in c_ratios)),
            {"slope": c_slope, "measured_over_exact_noise": c_ratios})
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
            power=None, power_reason=UNCALIBRATED,
            details={"rule_verdict": Verdict.of(lo <= slope <= hi and all(
                         rlo <= r <= rhi for r in ratios)).value,
                     "params": params.to_dict(), "level": 1, "context": "latent",
                     "rows": res},
        )
