"""Claim: the latent-context separation margin scales as Delta ~ sqrt(1 - f) / m.

The exponents of ``m`` and of ``1 - f`` are fitted (with ``log v`` and the level as
nuisance terms) on exact margins of random grammars, with a bootstrap over grammar seeds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from proofs_checks._framework import (
    Alternative,
    CheckResult,
    GridName,
    NegativeControl,
    Verdict,
)
from rhm_theory.exact import context_laws, margin_summary
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.sweeps.collapse import N_BOOTSTRAP
from rhm_theory.sweeps.runner import SweepCell
from rhm_theory.validation import ContextKind, check_random_state

__all__ = [
    "EXPONENT_M",
    "EXPONENT_ONE_MINUS_F",
    "GRID",
    "RIVAL_EXPONENTS_M",
    "MarginScalingCheck",
    "fit_margin_exponents",
    "margin_records",
    "margin_verdict",
]

#: Predicted exponent of m in Delta (Delta ~ sqrt(1-f) / m).
EXPONENT_M = -1.0
#: Predicted exponent of (1 - f).
EXPONENT_ONE_MINUS_F = 0.5
#: Competing exponents of m that the fit must reject for a PASS (the grid of the first
#: version of this check passed m^-1, m^-0.68 and m^-0.5 alike).
RIVAL_EXPONENTS_M = (-0.5, -1.5)
#: The grid: v, m (m < v), grammar seeds; s = 2, L = 3 (levels 1 and 2 both fitted).
GRID: dict[GridName, dict[str, list[int]]] = {
    "quick": {"v": [8, 16, 32, 64, 128], "m": [2, 3, 4, 6, 8], "seeds": [0, 1, 2]},
    "full": {"v": [8, 16, 32, 64, 128, 256], "m": [2, 3, 4, 6, 8], "seeds": [0, 1, 2, 3, 4]},
}
_L = 3


def margin_records(vs: Sequence[int], ms: Sequence[int], seeds: Sequence[int],
                   kind: ContextKind = "latent",
                   levels: Sequence[int] = (1, 2)) -> list[dict[str, Any]]:
    """Exact ``Delta_l`` (min over symbol pairs) of random grammars over a grid."""
    out = []
    for v in vs:
        for m in ms:
            if m >= v:
                continue
            for seed in seeds:
                g = random_grammar(RHMParams(v, m, 2, _L), seed=seed)
                for level in levels:
                    summ = margin_summary(context_laws(g, level, kind))
                    out.append({"v": v, "m": m, "seed": seed, "level": level,
                                "margin": summ.margin_min, "margin_mean": summ.margin_mean,
                                "f": m / v})
    return out


def _design(recs: Sequence[Mapping[str, Any]]) -> npt.NDArray[np.float64]:
    lv = sorted({r["level"] for r in recs})
    return np.array([[1.0, math.log(r["m"]), math.log(1 - r["f"]), math.log(r["v"])]
                     + [float(r["level"] == x) for x in lv[1:]] for r in recs])


def fit_margin_exponents(recs: Sequence[Mapping[str, Any]],
                         seed: int = 0) -> dict[str, list[float]]:
    """``log Delta = c + b log m + e log(1-f) + g log v (+ level offsets)``: ``[coef, low,
    high]`` of ``b``, ``e``, ``g`` (bootstrap over seeds within each (v, m), 95%)."""
    pos = [r for r in recs if r["margin"] > 0]
    if len(pos) < 8:
        nan = [math.nan] * 3
        return {"m": nan, "one_minus_f": nan, "v": nan}
    X, y = _design(pos), np.log([r["margin"] for r in pos])
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    groups: dict[tuple[int, int], list[int]] = {}
    for i, r in enumerate(pos):
        groups.setdefault((r["v"], r["m"]), []).append(i)
    rng = check_random_state(seed)
    draws = []
    for _ in range(N_BOOTSTRAP):
        idx = np.concatenate([rng.choice(np.asarray(ix), size=len(ix))
                              for ix in groups.values()])
        draws.append(np.linalg.lstsq(X[idx], y[idx], rcond=None)[0][1:4])
    lo, hi = np.percentile(np.asarray(draws), [2.5, 97.5], axis=0)
    return {name: [float(coef[i + 1]), float(lo[i]), float(hi[i])]
            for i, name in enumerate(("m", "one_minus_f", "v"))}


def margin_verdict(fit: Mapping[str, list[float]]) -> Verdict:
    """The rule of the check on a :func:`fit_margin_exponents` result."""
    b, blo, bhi = fit["m"]
    _, elo, ehi = fit["one_minus_f"]
    if not math.isfinite(b):
        return Verdict.INCONCLUSIVE
    if not (blo <= EXPONENT_M <= bhi and elo <= EXPONENT_ONE_MINUS_F <= ehi):
        return Verdict.FAIL
    if any(blo <= r <= bhi for r in RIVAL_EXPONENTS_M):
        return Verdict.INCONCLUSIVE
    return Verdict.PASS


class MarginScalingCheck:
    """Fitted exponents of ``m`` and ``1 - f`` in the exact latent margin, with intervals.

    PASS if ``-1`` lies in the 95% interval of the exponent of m, ``0.5`` in that of
    ``1 - f``, and the rival exponents ``-0.5`` and ``-1.5`` of m lie outside; FAIL if a
    predicted value lies outside its interval; INCONCLUSIVE otherwise. Negative control:
    the same fit on token-context margins of level 2 (level 1's token context is the
    latent one) must FAIL.
    """

    name = "margin_scaling"
    claim = "The latent-context separation margin scales as Delta ~ sqrt(1 - f) / m."
    source = "docs/theory.md section 3 (reported scaling)"

    def cells(self, grid: GridName) -> list[SweepCell]:
        return []

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        g = GRID[grid]
        recs = margin_records(g["v"], g["m"], g["seeds"])
        fit = fit_margin_exponents(recs)
        verdict = margin_verdict(fit)
        # Exploratory: the reported scaling is asymptotic; away from the m^2 ~ v crossover.
        far = [r for r in recs if r["v"] >= 4 * r["m"] ** 2]
        fit_far = fit_margin_exponents(far)
        # Exploratory: the mean over symbol pairs (the min is an extreme of many pairs).
        fit_mean = fit_margin_exponents([{**r, "margin": r["margin_mean"]} for r in recs])
        token = margin_records(g["v"], g["m"], g["seeds"], "token", levels=(2,))
        cfit = fit_margin_exponents(token)
        b = fit["m"]
        return CheckResult(
            self.name, self.claim, self.source,
            prediction=f"exponent of m = {EXPONENT_M}, of (1-f) = {EXPONENT_ONE_MINUS_F}",
            measured={"exponent_m": b, "exponent_one_minus_f": fit["one_minus_f"],
                      "exponent_v": fit["v"],
                      "n_margins": len(recs),
                      "zero_margins_excluded": sum(r["margin"] <= 0 for r in recs),
                      "exploratory_v_ge_4m2": fit_far,
                      "exploratory_mean_margin": fit_mean},
            predicted={"exponent_m": EXPONENT_M, "exponent_one_minus_f": EXPONENT_ONE_MINUS_F},
            tolerance="predicted exponents inside the seed-bootstrap 95% intervals; rival "
                      f"exponents of m {RIVAL_EXPONENTS_M} outside ([coef, low, high])",
            verdict=verdict,
            alternatives=tuple(Alternative(f"Delta ~ m^{r}", not b[1] <= r <= b[2], r)
                               for r in RIVAL_EXPONENTS_M),
            negative_control=NegativeControl(
                "the same fit on token-context margins of level 2", margin_verdict(cfit),
                {"exponent_m": cfit["m"], "exponent_one_minus_f": cfit["one_minus_f"]}),
            details={"grid": f"v in {g['v']}, m in {g['m']}, m < v, s=2, L=3, levels 1-2, "
                             f"seeds {g['seeds']}"},
        )
