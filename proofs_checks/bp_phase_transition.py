"""Claim: with eps-noisy leaves and s f < 1, BP recovers the root of deep trees iff eps < eps*.

Prediction (PNAS 2025, docs/theory.md sections 7-8): the annealed map ``F(p)`` has a repulsive fixed
point ``p*`` when ``F'(1) < 1``; a leaf message whose weight on the true symbol starts above
``p*`` flows to 1 with depth, below it to the uninformative fixed point. With the leaf message
averaged over the channel (``rhm_theory.bounds.annealed_noise_threshold``, ``leaf_message=
"mean"``) this gives ``eps*``. Measured: BP's root accuracy ``A(eps, L)`` on fresh noisy
strings at two depths ``L1 < L2``. Below the transition deeper trees classify better
(``A(L2) > A(L1)``), above it worse; the crossing of the two curves estimates ``eps*``.

Decision rule (fixed before the run). A depth difference ``D = A(L2) - A(L1)`` is significant
when ``|D| > Z_SIGNIFICANCE`` standard errors (binomial, independent strings). The prediction
``eps*`` is *contradicted* by a significant rise at ``eps >= eps* + TOLERANCE`` or a significant
fall at ``eps <= eps* - TOLERANCE``. Verdict: FAIL if contradicted; PASS if not contradicted,
the crossing is bracketed (a significant rise below a significant fall) and the interpolated
crossing is within ``TOLERANCE`` of ``eps*``; INCONCLUSIVE otherwise (the grid cannot tell).

Competitor (same rows): ``eps*`` from the leaf weight of an *observed* true token,
``p_0 = 1 - eps (v-1)/v`` (``leaf_message="observed"``); rejected when its own rule says FAIL.
Negative control: the same rule with the same predicted ``eps*`` on a grammar with
``F'(1) > 1`` (``v=4, m=3``: ``F'(1) = 27/22``), where the map predicts no recoverable phase at
any ``eps > 0``: its accuracy must fall with depth at small noise, so the control must FAIL.

Tolerance derivation. ``TOLERANCE = 0.1`` is 40% of the gap between the claim's ``eps*``
(0.547 at ``v=16, m=4, s=2``) and the competitor's (0.794), so that at most one of them can
pass; it leaves room for the finite depths of the grid and the mean-field nature of the
annealed map at moderate ``v, m``. ``Z_SIGNIFICANCE = 3`` keeps the chance of a spurious
significant difference below ``3e-3`` per grid point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from proofs_checks._framework import (
    Alternative,
    CheckResult,
    GridName,
    NegativeControl,
    Verdict,
)
from rhm_theory.bounds import annealed_map_derivative_at_one, annealed_noise_threshold
from rhm_theory.inference import bayes_root_baseline
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.sweeps.runner import SweepCell

__all__ = ["BPPhaseTransitionCheck", "crossover_verdict", "root_accuracy_table"]

#: Grammar of the claim: s f = 1/2 (F'(1) = 0.476).
CLAIM_VMS = (16, 4, 2)
#: Grammar of the negative control: F'(1) = 27/22 > 1, no recoverable phase predicted.
CONTROL_VMS = (4, 3, 2)
#: Largest allowed |measured crossing - eps*|.
TOLERANCE = 0.1
#: Standard errors for a depth difference of root accuracy to count.
Z_SIGNIFICANCE = 3.0
GRAMMAR_SEED = 0
DATA_SEED = 1
#: Noise grid, depths (the two deepest are compared) and strings per (eps, L).
GRIDS: dict[str, dict[str, Any]] = {
    "quick": {"noise": tuple(np.round(np.arange(0.05, 0.851, 0.05), 3)), "depths": (6, 8),
              "n": 1000},
    "full": {"noise": tuple(np.round(np.arange(0.05, 0.851, 0.025), 4)), "depths": (6, 8, 10),
             "n": 8000},
}


def root_accuracy_table(
    vms: tuple[int, int, int], noise: Sequence[float], depths: Sequence[int], n: int
) -> dict[int, list[float]]:
    """BP root accuracy on ``n`` fresh eps-noisy strings, per depth, over the noise grid."""
    v, m, s = vms
    table = {}
    for L in depths:
        g = random_grammar(RHMParams(v=v, m=m, s=s, L=L), seed=GRAMMAR_SEED)
        table[L] = [bayes_root_baseline(g, n, DATA_SEED, noise=float(e)).accuracy
                    for e in noise]
    return table


def crossover_verdict(
    noise: Sequence[float], acc_shallow: Sequence[float], acc_deep: Sequence[float], n: int,
    eps_star: float,
) -> tuple[Verdict, dict[str, Any]]:
    """Apply the module's decision rule to two root-accuracy curves and a predicted ``eps*``.

    Returns the verdict and the measured numbers (crossing, significant rises and falls).
    """
    eps = np.asarray(noise, dtype=np.float64)
    a1 = np.asarray(acc_shallow, dtype=np.float64)
    a2 = np.asarray(acc_deep, dtype=np.float64)
    d = a2 - a1
    se = np.sqrt((a1 * (1 - a1) + a2 * (1 - a2)) / n)
    se = np.maximum(se, 1.0 / n)  # a difference of exactly 0 +- 0 is not significant
    rise = d > Z_SIGNIFICANCE * se
    fall = d < -Z_SIGNIFICANCE * se
    rises = [float(x) for x in eps[rise]]
    falls = [float(x) for x in eps[fall]]
    measured: dict[str, Any] = {"significant_rise_at": rises, "significant_fall_at": falls,
                                "crossing": math.nan}
    # Crossing: zero of the linear interpolation of D between the last rise and the first
    # fall after it.
    if rises and any(f > rises[-1] for f in falls):
        i = int(np.flatnonzero(rise)[-1])
        j = int(np.flatnonzero(fall & (eps > eps[i]))[0])
        seg_e, seg_d = eps[i : j + 1], d[i : j + 1]
        k = int(np.flatnonzero(seg_d[:-1] * seg_d[1:] <= 0)[0]) if np.any(
            seg_d[:-1] * seg_d[1:] <= 0) else 0
        e0, e1, d0, d1 = seg_e[k], seg_e[k + 1], seg_d[k], seg_d[k + 1]
        measured["crossing"] = float(e0 + (e1 - e0) * d0 / (d0 - d1)) if d0 != d1 else float(e0)
    if not math.isfinite(eps_star):
        # No transition predicted: any significant rise with depth contradicts it.
        return (Verdict.FAIL if rises else Verdict.PASS if falls else Verdict.INCONCLUSIVE,
                measured)
    contradicted = any(e >= eps_star + TOLERANCE for e in rises) or any(
        e <= eps_star - TOLERANCE for e in falls)
    if contradicted:
        return Verdict.FAIL, measured
    crossing = measured["crossing"]
    if math.isfinite(crossing) and abs(crossing - eps_star) <= TOLERANCE:
        return Verdict.PASS, measured
    if math.isfinite(crossing):
        return Verdict.FAIL, measured
    return Verdict.INCONCLUSIVE, measured


class BPPhaseTransitionCheck:
    """BP root accuracy curves at two depths cross at the annealed map's eps*."""

    name = "bp_phase_transition"
    claim = ("With eps-noisy leaves and s f < 1, exact BP recovers the root of deep trees iff "
             "eps < eps*, eps* from the repulsive fixed point of the annealed map F(p).")
    source = "docs/theory.md sections 7 and 8 (PNAS 2025, Sclocchi, Favero & Wyart)"

    def cells(self, grid: GridName) -> list[SweepCell]:
        return []  # BP runs in evaluate: no ILC sweep needed

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        cfg = GRIDS[grid]
        noise, depths, n = cfg["noise"], cfg["depths"], cfg["n"]
        L1, L2 = depths[-2], depths[-1]
        v, m, s = CLAIM_VMS
        eps_star = annealed_noise_threshold(v, m, s)
        eps_obs = annealed_noise_threshold(v, m, s, leaf_message="observed")
        table = root_accuracy_table(CLAIM_VMS, noise, depths, n)
        verdict, measured = crossover_verdict(noise, table[L1], table[L2], n, eps_star)
        comp_verdict, comp = crossover_verdict(noise, table[L1], table[L2], n, eps_obs)
        control_table = root_accuracy_table(CONTROL_VMS, noise, (L1, L2), n)
        ctrl_verdict, ctrl = crossover_verdict(noise, control_table[L1], control_table[L2], n,
                                               eps_star)
        cv, cm, cs = CONTROL_VMS
        return CheckResult(
            self.name, self.claim, self.source,
            prediction=f"root-accuracy curves of L={L1} and L={L2} cross at eps* = "
                       f"{eps_star:.4f} (v={v}, m={m}, s={s}, leaf message averaged over "
                       f"the channel)",
            measured={"crossing": measured["crossing"],
                      "significant_rise_at": measured["significant_rise_at"],
                      "significant_fall_at": measured["significant_fall_at"]},
            predicted={"eps_star": eps_star,
                       "F_prime_at_1": float(annealed_map_derivative_at_one(v, m, s))},
            tolerance=f"|crossing - eps*| <= {TOLERANCE}; no significant (> {Z_SIGNIFICANCE} "
                      f"SE) rise above eps* + {TOLERANCE} nor fall below eps* - {TOLERANCE}",
            verdict=verdict,
            alternatives=(Alternative(
                "eps* from the observed-token leaf weight p0 = 1 - eps (v-1)/v",
                rejected=comp_verdict is Verdict.FAIL, score=eps_obs,
                details={"eps_star": eps_obs, "verdict": comp_verdict.value, **comp}),),
            negative_control=NegativeControl(
                f"same rule and eps* = {eps_star:.4f} on v={cv}, m={cm}, s={cs}, where "
                f"F'(1) = {float(annealed_map_derivative_at_one(cv, cm, cs)):.3f} > 1 "
                "(no recoverable phase)",
                ctrl_verdict, {**ctrl, "accuracy": {str(L): a for L, a in
                                                     control_table.items()}}),
            details={"grid": grid, "noise": list(noise), "depths": list(depths),
                     "n_strings": n, "grammar_seed": GRAMMAR_SEED, "data_seed": DATA_SEED,
                     "root_accuracy": {str(L): a for L, a in table.items()}},
        )
