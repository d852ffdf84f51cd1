"""Claim: empirical context vectors concentrate: squared error ~ v m / P, at the exact noise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from proofs_checks._framework import CheckResult, GridName
from rhm_theory.empirical import ContextCounts
from rhm_theory.exact import context_laws
from rhm_theory.model import RHMParams, random_grammar, tuple_codes
from rhm_theory.model.sampling import iter_samples
from rhm_theory.sweeps.runner import SweepCell

__all__ = ["ConcentrationCheck", "context_vector_errors"]


def context_vector_errors(
    params: RHMParams, grammar_seed: int, Ps: Sequence[int], data_seeds: Sequence[int],
    level: int = 1, kind: str = "latent",
) -> list[dict[str, float]]:
    """Mean over grammatical tuples of ``||phi_hat_t - psi_parent||^2``, measured and predicted.

    The prediction is exact: ``sum_j noise[j, a] / (P weights[j, a] / m)`` averaged over
    tuples, with ``noise`` the per-occurrence block variance from the context laws.
    """
    g = random_grammar(params, seed=grammar_seed)
    p = params
    laws = context_laws(g, level, kind)
    codes = tuple_codes(g.rules_of(level).reshape(-1, p.s), p.v)
    parents = np.repeat(np.arange(p.vocab(level)), p.m)
    noise = laws.noise_per_occurrence()  # (s, V)
    per_string = laws.weights / p.m  # expected occurrences of each tuple per string
    out = []
    for P in Ps:
        errs = []
        for ds in data_seeds:
            acc = ContextCounts(p.s, level, kind, p.v, p.n_c if kind == "label" else p.v)
            for chunk in iter_samples(g, P, ds, chunk_size=65536, latents=kind == "label"):
                lower = chunk.tokens if level == 1 else chunk.level(level - 1)
                acc.update(lower, tokens=chunk.tokens,
                           labels=chunk.labels if kind == "label" else None)
            # Centre with the exact marginals: the estimation error of the laws themselves.
            laws_hat = acc.conditional_laws(codes)
            exact = np.transpose(laws.blocks[:, :, parents], (2, 0, 1, 3))
            errs.append(((laws_hat - exact) ** 2).sum(axis=(1, 2, 3)).mean())
        predicted = float(np.mean(
            (noise[:, parents] / (P * per_string[:, parents])).sum(axis=0)))
        out.append({"P": float(P), "measured": float(np.mean(errs)), "predicted": predicted})
    return out


class ConcentrationCheck:
    """Slope of log error vs log P is -1 and the level matches the exact noise."""

    name = "context_vector_concentration"
    claim = ("Estimating a tuple's context vector from P strings has squared error about "
             "v m / P (n_t = P/(v m) occurrences), the noise side of P* ~ v m / Delta^2.")
    source = "THEORY.md section 4"
    slope_band = (-1.1, -0.9)
    ratio_band = (0.8, 1.25)

    def cells(self, grid: GridName) -> list[SweepCell]:
        return []

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        params = RHMParams(16, 4, 2, 4)
        Ps = [2000, 8000, 32000, 128000] if grid == "quick" else [2000, 8000, 32000, 128000,
                                                                   512000]
        seeds = [1, 2, 3] if grid == "quick" else [1, 2, 3, 4, 5, 6]
        res = context_vector_errors(params, 0, Ps, seeds)
        x = np.log([r["P"] for r in res])
        y = np.log([r["measured"] for r in res])
        slope = float(np.polyfit(x, y, 1)[0])
        ratios = [r["measured"] / r["predicted"] for r in res]
        # v m / P scaling constant: measured error * P / (v m), to report.
        const = [r["measured"] * r["P"] / (params.v * params.m) for r in res]
        lo, hi = self.slope_band
        rlo, rhi = self.ratio_band
        return CheckResult(
            self.name, self.claim, self.source,
            prediction="error ~ P^-1 with the exact per-occurrence noise as prefactor",
            measured={"slope": slope, "measured_over_exact_noise": ratios,
                      "error_times_P_over_vm": const},
            predicted={"slope": -1.0, "measured_over_exact_noise": 1.0},
            tolerance=f"slope in [{lo}, {hi}], ratio in [{rlo}, {rhi}] "
                      f"(mean over {len(seeds)} data seeds)",
            passed=lo <= slope <= hi and all(rlo <= r <= rhi for r in ratios),
            details={"params": params.to_dict(), "level": 1, "context": "latent",
                     "rows": res},
        )
