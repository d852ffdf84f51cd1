"""Claim: ILC succeeds once P >= C [v m log(L v m/delta) + v m^3/(1-f) log(L v m/delta)].

Tested falsifiably: ``C`` is fitted on shallow trees only and then predicts, for held-out
depths, the probability of exact recovery of every level at several ``delta``; the
``1/(1-f)`` factor is tested on its own grid (m = 4, v from 5 to 64).
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
from proofs_checks.depth_scaling import BOOTSTRAP_SEED, TARGET
from proofs_checks.grids import (
    DEPTHS,
    F_FACTOR_L,
    F_FACTOR_M,
    F_FACTOR_VS,
    VMS,
    depth_cells,
    f_factor_cells,
    has_positive_margins,
    is_default_variant,
)
from rhm_theory.bounds import theorem_bound
from rhm_theory.sweeps.collapse import N_BOOTSTRAP
from rhm_theory.sweeps.runner import SweepCell
from rhm_theory.sweeps.thresholds import cell_thresholds
from rhm_theory.validation import ContextKind, check_random_state

__all__ = [
    "ALPHA",
    "DELTAS",
    "FIT_DELTA",
    "TRAIN_MAX_L",
    "OneMinusFCheck",
    "TheoremBoundCheck",
    "exact_recovery_thresholds",
    "f_factor_slope",
    "f_factor_verdict",
    "held_out_prediction",
]

#: Failure probabilities at which the held-out exact-recovery rate is predicted.
DELTAS = (0.5, 0.2, 0.05)
#: ``C`` is the smallest constant consistent with the training runs at every delta of
#: :data:`DELTAS`: the max over delta of the (1 - delta) quantile over training runs of
#: P*_exact / bound(delta, C = 1). FIT_DELTA is the delta of the reported held-out ratios.
FIT_DELTA = 0.05
#: Training depths: L <= TRAIN_MAX_L (the rest of the grid is held out). The token
#: baseline's value is the negative control's: first 4, changed to 3 after the first quick
#: run (its 9 held-out runs gave a Hoeffding margin of 0.41, too wide for the control to
#: fail; recorded in docs/results.md, "Tolerance and design changes").
TRAIN_MAX_L: dict[ContextKind, int] = {"latent": 5, "token": 3, "label": 3}
#: Significance of the Hoeffding margin on an observed rate from n runs:
#: rate >= 1 - delta - sqrt(log(1/ALPHA) / (2 n)) is required.
ALPHA = 0.05


def exact_recovery_thresholds(
    rows: Sequence[Mapping[str, Any]], method: ContextKind, grid: GridName
) -> list[dict[str, Any]]:
    """Per run, the P at which every level is recovered exactly (``all_exact`` crosses 1/2,
    last crossing), on the (v, m) of the method's depth grid, separated grammars only."""
    vms = set(VMS[grid][method])
    sel = [r for r in rows if r["method"] == method and (r["v"], r["m"]) in vms
           and is_default_variant(r) and has_positive_margins(int(r["v"]), int(r["m"]), int(r["L"]),
                                    int(r["grammar_seed"]))]
    return cell_thresholds(sel, metric="all_exact", target=0.5)


def held_out_prediction(
    thresholds: Sequence[Mapping[str, Any]], train_max_L: int
) -> tuple[Verdict, dict[str, Any]]:
    """Fit ``C`` on ``L <= train_max_L``, predict the exact-recovery rate of deeper runs."""
    train = [t for t in thresholds if t["L"] <= train_max_L]
    test = [t for t in thresholds if t["L"] > train_max_L]

    def unit(t: Mapping[str, Any], delta: float) -> float:
        return float(theorem_bound(t["v"], t["m"], 2, t["L"], delta=delta, C=1.0))

    if not train or not test:
        return Verdict.INCONCLUSIVE, {"n_train": len(train), "n_held_out": len(test)}
    C = max(float(np.quantile([t["P_star"] / unit(t, d) if math.isfinite(t["P_star"])
                               else math.inf for t in train], 1 - d, method="higher"))
            for d in DELTAS)
    if not math.isfinite(C):
        return Verdict.INCONCLUSIVE, {"C_fit": C, "n_train": len(train)}
    tol = math.sqrt(math.log(1 / ALPHA) / (2 * len(test)))
    rates, ok, by_L = {}, True, {}
    for delta in DELTAS:
        hits = [math.isfinite(t["P_star"]) and t["P_star"] <= C * unit(t, delta) for t in test]
        rate = float(np.mean(hits))
        rates[str(delta)] = rate
        ok = ok and rate >= 1 - delta - tol
    for L in sorted({int(t["L"]) for t in test}):
        sub = [t["P_star"] / (C * unit(t, FIT_DELTA)) for t in test if t["L"] == L]
        by_L[str(L)] = float(np.nanmax(np.where(np.isfinite(sub), sub, np.nan))) if any(
            math.isfinite(x) for x in sub) else math.nan
    stats = {"C_fit": C, "n_train": len(train), "n_held_out": len(test),
             "exact_recovery_rate": rates,
             "predicted_min_rate": {str(d): 1 - d for d in DELTAS},
             "hoeffding_margin": tol,
             "held_out_max_P_over_bound_by_L": by_L}
    return Verdict.of(ok), stats


class TheoremBoundCheck:
    """C fitted on L <= 5, exact recovery predicted on the held-out depths at several delta.

    PASS if, for every ``delta`` in :data:`DELTAS`, the held-out runs are recovered exactly
    at ``P = C bound(delta)`` at a rate of at least ``1 - delta`` minus the Hoeffding margin;
    FAIL otherwise. Negative control: the same fit and prediction on the token baseline's
    rows (its threshold grows as m^L, not log L) must FAIL.
    """

    name = "theorem_bound"
    claim = ("Under balanced, separated grammars and a stable clustering module, ILC "
             "recovers all non-root levels w.p. >= 1 - delta once P >= C [v m log(L v m/"
             "delta) + v m^3/(1-f) log(L v m/delta)]: depth enters only through log L.")
    source = "docs/theory.md section 4 (theorem, reported form; constants unknown)"

    def cells(self, grid: GridName) -> list[SweepCell]:
        return depth_cells("latent", grid) + depth_cells("token", grid)

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        verdict, stats = held_out_prediction(exact_recovery_thresholds(rows, "latent", grid),
                                             TRAIN_MAX_L["latent"])
        cv, cstats = held_out_prediction(exact_recovery_thresholds(rows, "token", grid),
                                         TRAIN_MAX_L["token"])
        held = [L for L in DEPTHS[grid]["latent"] if L > TRAIN_MAX_L["latent"]]
        return CheckResult(
            self.name, self.claim, self.source,
            prediction=f"C fitted on L <= {TRAIN_MAX_L['latent']}; held-out L = {held}: "
                       f"exact-recovery rate at C bound(delta) >= 1 - delta",
            measured=stats, predicted={"exact_recovery_rate": {str(d): f">= {1 - d:g}"
                                                               for d in DELTAS}},
            tolerance=f"rate >= 1 - delta - sqrt(log(1/{ALPHA})/(2 n)) for delta in {DELTAS};"
                      " C = max over delta of the (1-delta)-quantile of training "
                      "P*_exact / bound(delta)",
            verdict=verdict,
            negative_control=NegativeControl(
                f"the same fit (L <= {TRAIN_MAX_L['token']}) and prediction on the token "
                "baseline's rows", cv, cstats),
            details={"excluded": "grammars with a zero margin (not separated)"},
        )


def f_factor_slope(points: Mapping[int, list[float]], seed: int) -> tuple[float, float, float]:
    """Slope of y on log(1/(1-f)) with a seed-bootstrap 95% interval; points[v] = ys."""
    vs = sorted(v for v in points if points[v])
    x = {v: -math.log(1 - F_FACTOR_M / v) for v in vs}
    if len(vs) < 3:
        return math.nan, math.nan, math.nan

    def slope(groups: Mapping[int, np.ndarray]) -> float:
        xs = np.concatenate([np.full(len(groups[v]), x[v]) for v in vs])
        ys = np.concatenate([groups[v] for v in vs])
        return float(np.polyfit(xs, ys, 1)[0])

    arrays = {v: np.asarray(points[v]) for v in vs}
    rng = check_random_state(seed)
    draws = [slope({v: a[rng.integers(0, a.size, a.size)] for v, a in arrays.items()})
             for _ in range(N_BOOTSTRAP)]
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return slope(arrays), float(lo), float(hi)


#: Predicted exponent of 1/(1-f) in P* / (v m^3), and the competitor (no f factor).
F_EXPONENT, F_COMPETITOR = 1.0, 0.0


def f_factor_verdict(slope: float, lo: float, hi: float) -> Verdict:
    """PASS / FAIL / INCONCLUSIVE from a slope and its 95% interval (rule of the check)."""
    if not math.isfinite(slope):
        return Verdict.INCONCLUSIVE
    if not lo <= F_EXPONENT <= hi:
        return Verdict.FAIL
    return Verdict.INCONCLUSIVE if lo <= F_COMPETITOR <= hi else Verdict.PASS


class OneMinusFCheck:
    """The ``1/(1-f)`` factor: slope of ``log(P*/(v m^3))`` on ``log 1/(1-f)`` is 1.

    Grid: m = 4, L = 3, v in :data:`~proofs_checks.grids.F_FACTOR_VS` (f = 0.8 .. 1/16).
    PASS if 1 is inside the seed-bootstrap 95% interval and 0 (no factor) outside; FAIL if
    1 is outside; INCONCLUSIVE if both are inside. Negative control: the same test on
    ``P* (1-f) / (v m^3)`` (the factor divided out: the claim is false there) must FAIL.
    """

    name = "theorem_one_minus_f"
    claim = ("The concentration term of the theorem carries a factor 1/(1-f), f = m/v: at "
             "fixed m, P*/(v m^3) grows as 1/(1-f).")
    source = "docs/theory.md section 4 (theorem, reported form)"

    def cells(self, grid: GridName) -> list[SweepCell]:
        return f_factor_cells(grid)

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        sel = [r for r in rows if r["method"] == "latent" and r["m"] == F_FACTOR_M
               and r["L"] == F_FACTOR_L and r["v"] in F_FACTOR_VS and is_default_variant(r)]
        pts: dict[int, list[float]] = {}
        ctrl: dict[int, list[float]] = {}
        excluded = 0
        missing = 0
        for t in cell_thresholds(sel, target=TARGET):
            v = int(t["v"])
            if not has_positive_margins(v, F_FACTOR_M, F_FACTOR_L, int(t["grammar_seed"])):
                excluded += 1
                continue
            if not math.isfinite(t["P_star"]):
                missing += 1
                continue
            y = math.log(t["P_star"] / (v * F_FACTOR_M**3))
            pts.setdefault(v, []).append(y)
            ctrl.setdefault(v, []).append(y + math.log(1 - F_FACTOR_M / v))
        slope, lo, hi = f_factor_slope(pts, BOOTSTRAP_SEED)
        verdict = f_factor_verdict(slope, lo, hi) if missing == 0 else Verdict.INCONCLUSIVE
        cs, clo, chi = f_factor_slope(ctrl, BOOTSTRAP_SEED)
        return CheckResult(
            self.name, self.claim, self.source,
            prediction="slope of log(P*/(v m^3)) on log(1/(1-f)) = 1 (m = 4, L = 3)",
            measured={"slope": slope, "interval_95": [lo, hi],
                      "P_star_over_vm3_by_v": {str(v): float(np.exp(np.mean(y)))
                                               for v, y in sorted(pts.items())},
                      "excluded_zero_margin": excluded, "not_reached": missing},
            predicted={"slope": F_EXPONENT},
            tolerance="1 inside the bootstrap 95% interval, 0 outside (fixed before the run)",
            verdict=verdict,
            alternatives=(Alternative("no 1/(1-f) factor (slope 0)",
                                      not lo <= F_COMPETITOR <= hi, F_COMPETITOR),),
            negative_control=NegativeControl(
                "the same test on P* (1-f) / (v m^3), the factor divided out",
                f_factor_verdict(cs, clo, chi), {"slope": cs, "interval_95": [clo, chi]}),
        )
