"""Claim: ILC succeeds once P >= C [v m log(L v m/delta) + v m^3/(1-f) log(L v m/delta)].

Depth enters the bound only through ``log L``: the exact-recovery threshold over the bound
has no trend in depth (:func:`depth_rule`, calibrated on simulated rows); ``C`` fitted on
shallow trees and its held-out prediction are reported beside it. The ``1/(1-f)`` factor
is tested on its own grid (m = 4, v from 5 to 64).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np

from proofs_checks._framework import (
    Alternative,
    CheckResult,
    GridName,
    NegativeControl,
    Power,
    Verdict,
)
from proofs_checks.depth_scaling import CALIBRATION_SEED, DEPTH_MARGIN, N_SIM, TARGET
from proofs_checks.grids import (
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
from rhm_theory.sweeps.bootstrap import seed_bootstrap_slope
from rhm_theory.sweeps.calibration import (
    calibrate,
    fit_noise_model,
    power_with_suggestion,
    simulate_points,
)
from rhm_theory.sweeps.collapse import (
    ThresholdPoint,
    config_intervals,
    interval_regression,
    loglinear_fit,
    threshold_points,
)
from rhm_theory.sweeps.runner import SweepCell, row_context
from rhm_theory.sweeps.thresholds import cell_thresholds, method_scale
from rhm_theory.validation import ContextKind, check_random_state

__all__ = [
    "ALPHA",
    "BOUND_ALTERNATIVES",
    "DELTAS",
    "EQUIVALENCE_CONFIDENCE",
    "FIT_DELTA",
    "TRAIN_MAX_L",
    "OneMinusFCheck",
    "TheoremBoundCheck",
    "bound_log_scale",
    "depth_rule",
    "exact_recovery_points",
    "exact_recovery_thresholds",
    "f_factor_fit",
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


def _latent_scale(v: int, m: int, L: int) -> float:
    """Scale of ILC's ``P`` grids (``v m^3``), for the grid extensions of a suggestion."""
    return method_scale("latent", v, m, 2, L)


def exact_recovery_thresholds(
    rows: Sequence[Mapping[str, Any]], method: ContextKind, grid: GridName
) -> list[dict[str, Any]]:
    """Per run, the P at which every level is recovered exactly (``all_exact`` crosses 1/2,
    last crossing), on the (v, m) of the method's depth grid, separated grammars only."""
    vms = set(VMS[grid][method])
    sel = [r for r in rows if row_context(r) == method and (r["v"], r["m"]) in vms
           and is_default_variant(r) and has_positive_margins(int(r["v"]), int(r["m"]), int(r["L"]),
                                    int(r["grammar_seed"]))]
    return cell_thresholds(sel, metric="all_exact", target=0.5)


#: Confidence of the interval of the depth coefficient that must lie inside
#: +-:data:`~proofs_checks.depth_scaling.DEPTH_MARGIN` for a PASS: 90%, i.e. two one-sided
#: tests at 5% each (TOST, Schuirmann 1987). Derivation: a law at the nearest depth
#: alternative, ``d = log 1.2``, PASSes only if ``d_hat + t_0.95 se < 0.75 log 1.2``, i.e.
#: if its estimate falls ``0.25 log 1.2 + t_0.95 se`` below the truth: probability < 5% for
#: any ``se`` (the calibration's false-PASS ceiling). The 95% interval still decides FAIL.
EQUIVALENCE_CONFIDENCE = 0.90


@cache
def _log_bound(v: int, m: int, s: int, L: int, delta: float) -> float:
    """``log theorem_bound(v, m, s, L, delta, C=1)`` (cached: the calibration calls it for
    every simulated row)."""
    return math.log(float(theorem_bound(v, m, s, L, delta=delta, C=1.0)))


def bound_log_scale(p: ThresholdPoint) -> float:
    """``log`` of the theorem's bound at ``delta = FIT_DELTA``, ``C = 1``: the claimed law
    of the exact-recovery threshold (depth only through ``log L``)."""
    return _log_bound(p.v, p.m, p.s, p.L, FIT_DELTA)


def _times_c_to_the_L(c: float) -> Callable[[ThresholdPoint], float]:
    def log_scale(p: ThresholdPoint) -> float:
        return bound_log_scale(p) + p.L * math.log(c)
    return log_scale


def _times_L(p: ThresholdPoint) -> float:
    return bound_log_scale(p) + math.log(p.L)


def _token_law(p: ThresholdPoint) -> float:
    return math.log(p.v) + (p.L + 1) * math.log(p.m)


#: Registered alternatives of the calibration (name -> ``point -> log scale``): depth
#: entering exponentially (``bound x 1.2^L``, the nearest, and ``x 1.5^L``), shrinking with
#: depth (``/ 1.2^L``), polynomially (``x L``), and the far competitor, the token baseline's
#: ``v m^(L+1)``. The exponents of ``v`` and ``m`` are not this check's claim (its fit
#: leaves them free, so laws differing from the bound only in ``v`` or ``m`` PASS as often
#: as the claim); ``ilc_threshold_scaling`` and ``theorem_one_minus_f`` test them.
BOUND_ALTERNATIVES: dict[str, Callable[[ThresholdPoint], float]] = {
    "bound x 1.2^L": _times_c_to_the_L(1.2),
    "bound x 1.5^L": _times_c_to_the_L(1.5),
    "bound / 1.2^L": _times_c_to_the_L(1 / 1.2),
    "bound x L": _times_L,
    "v m^(L+1)": _token_law,
}


def exact_recovery_points(
    rows: Sequence[Mapping[str, Any]], method: ContextKind, grid: GridName,
) -> list[ThresholdPoint]:
    """:func:`exact_recovery_thresholds` as threshold points (level 0) with the ends of each
    run's ``P`` grid, so censoring is interval data (and is simulated as the real grid
    imposes it)."""
    return [ThresholdPoint(int(t["v"]), int(t["m"]), int(t["s"]), int(t["L"]), 0,
                           int(t["grammar_seed"]), float(t["P_star"]), float(t["P_min"]),
                           float(t["P_max"]))
            for t in exact_recovery_thresholds(rows, method, grid)]


def depth_rule(points: Sequence[ThresholdPoint]) -> tuple[Verdict, dict[str, Any]]:
    """The rule of :class:`TheoremBoundCheck`: no trend in depth of ``P*_exact / bound``.

    Fits ``log P*_exact - log bound(FIT_DELTA) = c + a log v + b log m + d L`` on
    configuration means (seeds averaged, censored runs as interval data; Student-t
    intervals from the scatter of the means:
    :func:`~rhm_theory.sweeps.collapse.loglinear_fit`). ``a`` and ``b`` are free.

    - FAIL: 0 outside the 95% interval of ``d`` (depth enters beyond ``log L``);
    - PASS: not FAIL and the :data:`EQUIVALENCE_CONFIDENCE` interval of ``d`` inside
      ``+-DEPTH_MARGIN`` (``0.75 log 1.2``; equivalent to no trend, against the nearest
      alternative ``bound x 1.2^L``);
    - INCONCLUSIVE otherwise (also when ``d`` cannot be fitted).
    """
    from scipy.special import stdtrit

    fit = loglinear_fit(points, offset=bound_log_scale)
    d = fit.coef["d"]
    info: dict[str, Any] = {"fit": fit}
    if not math.isfinite(d) or fit.df < 1:
        return Verdict.INCONCLUSIVE, {**info, "reason": "too few configurations to fit d"}
    q = float(stdtrit(fit.df_by_coef.get("d", fit.df), 0.5 + EQUIVALENCE_CONFIDENCE / 2))
    lo, hi = d - q * fit.se["d"], d + q * fit.se["d"]
    info.update({"d": d, "interval_95": [fit.low["d"], fit.high["d"]],
                 "interval_equivalence": [lo, hi]})
    if not fit.contains("d", 0.0):
        return Verdict.FAIL, info
    inside = -DEPTH_MARGIN < lo and hi < DEPTH_MARGIN
    return (Verdict.PASS if inside else Verdict.INCONCLUSIVE), info


def _depth_rule_verdict(points: Sequence[ThresholdPoint]) -> str:
    return depth_rule(points)[0].value


def _depth_alternative(points: Sequence[ThresholdPoint], name: str,
                       law: Callable[[ThresholdPoint], float]) -> Alternative:
    """An alternative law, rejected when the depth coefficient of ``log P*_exact - log law``
    excludes 0 from its 95% interval; score: that coefficient."""
    fit = loglinear_fit(points, offset=law)
    d = fit.coef["d"]
    return Alternative(name, bool(math.isfinite(d) and not fit.contains("d", 0.0)), d,
                       {"interval_95": [fit.low["d"], fit.high["d"]]})


def _as_thresholds(points: Sequence[ThresholdPoint]) -> list[dict[str, Any]]:
    return [{"v": p.v, "m": p.m, "s": p.s, "L": p.L, "P_star": p.P_star} for p in points]


def held_out_prediction(
    thresholds: Sequence[Mapping[str, Any]], train_max_L: int
) -> tuple[Verdict, dict[str, Any]]:
    """Fit ``C`` on ``L <= train_max_L``, predict the exact-recovery rate of deeper runs.

    The rule of the first version of :class:`TheoremBoundCheck`, now reported beside
    :func:`depth_rule` (its calibration: it PASSes rows following ``bound x 1.2^L`` in about
    half of simulated quick grids, and its control, the token baseline, PASSes).
    """
    train = [t for t in thresholds if t["L"] <= train_max_L]
    test = [t for t in thresholds if t["L"] > train_max_L]

    def unit(t: Mapping[str, Any], delta: float) -> float:
        return math.exp(_log_bound(int(t["v"]), int(t["m"]), int(t.get("s", 2)),
                                   int(t["L"]), delta))

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


def _held_out_rule(train_max_L: int) -> Callable[[Sequence[ThresholdPoint]], str]:
    def rule(points: Sequence[ThresholdPoint]) -> str:
        return held_out_prediction(_as_thresholds(points), train_max_L)[0].value
    return rule


_RULE = (f"FAIL if 0 is outside the 95% t-interval of the depth coefficient d of "
         f"log(P*_exact / bound(delta={FIT_DELTA}, C=1)) = c + a log v + b log m + d L "
         f"(configuration means, censored runs as intervals, a and b free); PASS if not and "
         f"its {EQUIVALENCE_CONFIDENCE:.0%} interval lies inside +-{DEPTH_MARGIN:.3f} "
         f"(0.75 log 1.2; two one-sided 5% tests); else INCONCLUSIVE; then calibrated "
         f"(power >= 0.8, false-PASS <= 0.05)")


class TheoremBoundCheck:
    """Depth enters the theorem's bound only through ``log L``: the exact-recovery
    threshold over the bound has no trend in depth.

    Rule (:func:`depth_rule`): the depth coefficient ``d`` of
    ``log(P*_exact / bound(FIT_DELTA))`` on configuration means FAILs if its 95% interval
    excludes 0 and PASSes if its 90% interval lies inside ``+-DEPTH_MARGIN``
    (``0.75 log 1.2``), else INCONCLUSIVE. ``P*_exact`` is where ``all_exact`` (every
    level recovered exactly) crosses 1/2; runs that never cross are intervals above the
    grid's end.

    Calibration: the rule runs unchanged on grids simulated from the check's own rows
    (:func:`~rhm_theory.sweeps.calibration.fit_noise_model`: scatter between grammar seeds
    and between configurations; every simulated run keeps its real ``P`` grid, so censoring
    is as in the real grid) under the claim, ``P*_exact = c bound(v, m, 2, L, FIT_DELTA)``
    (power), and under :data:`BOUND_ALTERNATIVES` (false-PASS rates). The held-out
    prediction of the first version (``C`` fitted on ``L <= 5``, exact-recovery rate at
    ``C bound(delta)`` on deeper runs, with a Hoeffding margin) is still computed and
    reported with its own PASS rates, but no longer decides: it PASSed rows following
    ``bound x 1.2^L`` in about half of simulated grids, and on the token baseline's rows
    (its control) its margin was too wide to fail (docs/results.md, "Tolerance and design
    changes").

    Negative control: the same rule on the token baseline's exact-recovery thresholds
    (which grow as ``m^L``, not ``log L``) must FAIL.
    """

    # Simulated grids per law (None: N_SIM of the grid).
    n_sim: int | None = None
    name = "theorem_bound"
    claim = ("Under balanced, separated grammars and a stable clustering module, ILC "
             "recovers all non-root levels w.p. >= 1 - delta once P >= C [v m log(L v m/"
             "delta) + v m^3/(1-f) log(L v m/delta)]: depth enters only through log L.")
    source = "docs/theory.md section 4 (theorem, reported form; constants unknown)"

    def cells(self, grid: GridName) -> list[SweepCell]:
        return depth_cells("latent", grid) + depth_cells("token", grid)

    def simulation(self, rows: Sequence[Mapping[str, Any]], grid: GridName,
                   ) -> tuple[list[ThresholdPoint], Callable[[Sequence[ThresholdPoint]], str]]:
        """The check's exact-recovery threshold points and its rule (``--simulate``)."""
        return exact_recovery_points(rows, "latent", grid), _depth_rule_verdict

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        pts, rule = self.simulation(rows, grid)
        verdict, info = depth_rule(pts)
        held_verdict, held = held_out_prediction(_as_thresholds(pts), TRAIN_MAX_L["latent"])
        ctrl_pts = exact_recovery_points(rows, "token", grid)
        cv, cinfo = depth_rule(ctrl_pts)
        ch, cheld = held_out_prediction(_as_thresholds(ctrl_pts), TRAIN_MAX_L["token"])
        n_sim = self.n_sim or N_SIM[grid]
        power: Power | None = None
        reason: str | None = "no exact-recovery thresholds to fit a noise model to"
        calib: dict[str, Any] = {}
        if pts:
            noise = fit_noise_model(pts)
            cal = calibrate(rule, pts, bound_log_scale, BOUND_ALTERNATIVES, noise=noise,
                            n_sim=n_sim, seed=CALIBRATION_SEED)
            power = power_with_suggestion(cal, rule, pts, bound_log_scale,
                                          BOUND_ALTERNATIVES, scale=_latent_scale,
                                          seed=CALIBRATION_SEED)
            reason = None
            # The replaced held-out rule on the same simulated grids, for the record.
            old = calibrate(_held_out_rule(TRAIN_MAX_L["latent"]), pts, bound_log_scale,
                            BOUND_ALTERNATIVES, noise=noise, n_sim=n_sim,
                            seed=CALIBRATION_SEED)
            calib = {**cal.to_dict(), "held_out_rule": {"power": old.power,
                                                        "false_pass": dict(old.false_pass)}}
        fit = info.get("fit")
        cfit = cinfo.get("fit")
        measured: dict[str, Any] = {
            "depth_coefficient": info.get("d", math.nan),
            "interval_95": info.get("interval_95"),
            "interval_equivalence": info.get("interval_equivalence"),
            "n_configs": fit.n_configs if fit is not None else 0,
            "n_runs": len(pts), "not_reached": sum(p.censored for p in pts),
            "held_out_prediction": {**held, "verdict": held_verdict.value},
        }
        return CheckResult.judged(
            self.name, self.claim, self.source,
            prediction="log(P*_exact / bound) has no trend in depth L (bound at delta = "
                       f"{FIT_DELTA}, C = 1: depth only through log L)",
            measured=measured, predicted={"depth_coefficient": 0.0},
            tolerance=_RULE,
            verdict=verdict,
            alternatives=tuple(_depth_alternative(pts, n, law)
                               for n, law in BOUND_ALTERNATIVES.items()),
            power=power, power_reason=reason,
            negative_control=NegativeControl(
                "the same rule on the token baseline's exact-recovery thresholds (they grow "
                "as m^L, not log L)", cv,
                {"depth_coefficient": cinfo.get("d", math.nan),
                 "interval_95": cinfo.get("interval_95"),
                 "interval_equivalence": cinfo.get("interval_equivalence"),
                 "n_configs": cfit.n_configs if cfit is not None else 0,
                 "held_out_prediction": {**cheld, "verdict": ch.value}}),
            details={"excluded": "grammars with a zero margin (not separated)",
                     "rule_verdict": verdict.value,
                     "fit": fit.to_dict() if fit is not None else None,
                     "control_fit": cfit.to_dict() if cfit is not None else None,
                     "calibration": calib},
        )


def f_factor_fit(points: Sequence[ThresholdPoint]) -> tuple[float, float, float]:
    """Slope of ``log(P*/(v m^3))`` on ``log(1/(1-f))`` with its 95% t-interval.

    Fitted on the mean over grammar seeds of each ``v`` (censored runs as interval data,
    :func:`~rhm_theory.sweeps.collapse.interval_regression`), so the interval's variance is
    the scatter of those means around the line (seeds and configurations both), not a
    bootstrap of 3 seeds per ``v``. Returns ``(slope, low, high)``; ``nan`` with fewer than
    3 values of ``v``.
    """
    from scipy.special import stdtrit

    def log_vm3(p: ThresholdPoint) -> float:
        return math.log(p.v * p.m**3)

    keys, lo, hi, _ = config_intervals(points, log_vm3)
    keep = np.isfinite(lo) | np.isfinite(hi)
    keys = [k for k, ok in zip(keys, keep, strict=True) if ok]
    if len({k[0] for k in keys}) < 3:
        return math.nan, math.nan, math.nan
    X = np.asarray([[1.0, -math.log(1 - k[1] / k[0])] for k in keys])
    beta, se, _, df = interval_regression(X, lo[keep], hi[keep])
    q = float(stdtrit(df, 0.975))
    return float(beta[1]), float(beta[1] - q * se[1]), float(beta[1] + q * se[1])


def f_factor_slope(points: Mapping[int, list[float]], seed: int) -> tuple[float, float, float]:
    """Slope of y on log(1/(1-f)) with a seed-bootstrap 95% interval; points[v] = ys.

    Kept for backwards compatibility; the check uses :func:`f_factor_fit` (the seed
    bootstrap with 3 seeds per ``v`` was anti-conservative, issue 17). The bootstrap is
    :func:`rhm_theory.sweeps.bootstrap.seed_bootstrap_slope`, at ``m = F_FACTOR_M``.
    """
    return seed_bootstrap_slope([(-math.log(1 - F_FACTOR_M / v), points[v])
                                 for v in sorted(points)], seed)


#: Predicted exponent of 1/(1-f) in P* / (v m^3), and the competitors: no f factor (0)
#: and a squared factor (2), each excluded by the 95% interval for a PASS.
F_EXPONENT, F_COMPETITOR, F_COMPETITOR_SQUARED = 1.0, 0.0, 2.0
#: Registered alternatives of the calibration: exponent of 1/(1-f) -> name.
F_ALTERNATIVES = {0.0: "no 1/(1-f) factor", 0.5: "1/(1-f)^0.5", 1.5: "1/(1-f)^1.5",
                  2.0: "1/(1-f)^2"}
#: Law of the negative control's rows: another f dependence, (1-f)^+1 (exponent -1).
F_CONTROL_EXPONENT = -1.0


def f_factor_verdict(slope: float, lo: float, hi: float) -> Verdict:
    """PASS / FAIL / INCONCLUSIVE from a slope and its 95% interval (rule of the check):
    FAIL if 1 is outside; PASS if 1 is inside and 0 and 2 are outside; else INCONCLUSIVE."""
    if not math.isfinite(slope):
        return Verdict.INCONCLUSIVE
    if not lo <= F_EXPONENT <= hi:
        return Verdict.FAIL
    if lo <= F_COMPETITOR <= hi or lo <= F_COMPETITOR_SQUARED <= hi:
        return Verdict.INCONCLUSIVE
    return Verdict.PASS


def _f_law(exponent: float) -> Callable[[ThresholdPoint], float]:
    def log_scale(p: ThresholdPoint) -> float:
        return math.log(p.v * p.m**3) - exponent * math.log(1 - p.m / p.v)
    return log_scale


def _f_rule(points: Sequence[ThresholdPoint]) -> str:
    return f_factor_verdict(*f_factor_fit(points)).value


class OneMinusFCheck:
    """The ``1/(1-f)`` factor: slope of ``log(P*/(v m^3))`` on ``log 1/(1-f)`` is 1.

    Grid: m = 4, L = 3, v in :data:`~proofs_checks.grids.F_FACTOR_VS` (f = 0.8 .. 1/16).
    PASS if 1 is inside the 95% t-interval (:func:`f_factor_fit`) and 0 (no factor) and 2
    (squared factor) outside; FAIL if 1 is outside; INCONCLUSIVE otherwise. Calibrated on
    rows simulated from the check's own noise under exponents 1 (power) and 0, 0.5, 1.5, 2
    (false PASS). Negative control: rows simulated under ``P* ~ v m^3 (1-f)`` (another f
    dependence; issue 17 replaced the transform of the claim's own statistic) must FAIL.
    """

    # Simulated grids per law (None: N_SIM of the grid).
    n_sim: int | None = None
    name = "theorem_one_minus_f"
    claim = ("The concentration term of the theorem carries a factor 1/(1-f), f = m/v: at "
             "fixed m, P*/(v m^3) grows as 1/(1-f).")
    source = "docs/theory.md section 4 (theorem, reported form)"

    def cells(self, grid: GridName) -> list[SweepCell]:
        return f_factor_cells(grid)

    def simulation(self, rows: Sequence[Mapping[str, Any]], grid: GridName,
                   ) -> tuple[list[ThresholdPoint], Callable[[Sequence[ThresholdPoint]], str]]:
        """The check's threshold points (separated grammars) and its rule."""
        sel = [r for r in rows if row_context(r) == "latent" and r["m"] == F_FACTOR_M
               and r["L"] == F_FACTOR_L and r["v"] in F_FACTOR_VS and is_default_variant(r)]
        pts = [p for p in threshold_points(sel, "latent", target=TARGET)
               if has_positive_margins(p.v, p.m, p.L, p.grammar_seed)]
        return pts, _f_rule

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        pts, rule = self.simulation(rows, grid)
        sel = [r for r in rows if row_context(r) == "latent" and r["m"] == F_FACTOR_M
               and r["L"] == F_FACTOR_L and r["v"] in F_FACTOR_VS and is_default_variant(r)]
        excluded = sum(not has_positive_margins(int(t["v"]), F_FACTOR_M, F_FACTOR_L,
                                                int(t["grammar_seed"]))
                       for t in cell_thresholds(sel, target=TARGET))
        slope, lo, hi = f_factor_fit(pts)
        verdict = f_factor_verdict(slope, lo, hi)
        by_v: dict[int, list[float]] = {}
        for p in pts:
            if not p.censored:
                by_v.setdefault(p.v, []).append(math.log(p.P_star / (p.v * p.m**3)))
        power: Power | None = None
        reason: str | None = "no threshold rows"
        calib: dict[str, Any] = {}
        control = NegativeControl("no rows to simulate", Verdict.INCONCLUSIVE)
        if pts:
            noise = fit_noise_model(pts)
            cal = calibrate(rule, pts, _f_law(F_EXPONENT),
                            {name: _f_law(e) for e, name in F_ALTERNATIVES.items()},
                            noise=noise, n_sim=self.n_sim or N_SIM[grid],
                            seed=CALIBRATION_SEED)
            power = power_with_suggestion(
                cal, rule, pts, _f_law(F_EXPONENT),
                {name: _f_law(e) for e, name in F_ALTERNATIVES.items()},
                scale=_latent_scale, seed=CALIBRATION_SEED)
            reason, calib = None, cal.to_dict()
            # Control: rows whose thresholds follow another f dependence, (1-f)^+1, with
            # this check's own noise, configurations and P grids, through the same rule.
            ctrl_pts = simulate_points(pts, _f_law(F_CONTROL_EXPONENT), noise,
                                       check_random_state(CALIBRATION_SEED, 1))
            cs, clo, chi = f_factor_fit(ctrl_pts)
            control = NegativeControl(
                "the same rule on rows simulated (this check's noise model, configurations "
                "and P grids) from P* ~ v m^3 (1-f), another f dependence",
                f_factor_verdict(cs, clo, chi), {"slope": cs, "interval_95": [clo, chi]})
        return CheckResult.judged(
            self.name, self.claim, self.source,
            prediction="slope of log(P*/(v m^3)) on log(1/(1-f)) = 1 (m = 4, L = 3)",
            measured={"slope": slope, "interval_95": [lo, hi],
                      "P_star_over_vm3_by_v": {str(v): float(np.exp(np.mean(y)))
                                               for v, y in sorted(by_v.items())},
                      "excluded_zero_margin": excluded,
                      "not_reached": sum(p.censored for p in pts)},
            predicted={"slope": F_EXPONENT},
            tolerance="1 inside the 95% t-interval (means over seeds per v, censored runs "
                      "as intervals), 0 and 2 outside (fixed before the run)",
            verdict=verdict,
            alternatives=(Alternative("no 1/(1-f) factor (slope 0)",
                                      not lo <= F_COMPETITOR <= hi, F_COMPETITOR),
                          Alternative("1/(1-f)^2 (slope 2)",
                                      not lo <= F_COMPETITOR_SQUARED <= hi,
                                      F_COMPETITOR_SQUARED)),
            negative_control=control,
            power=power, power_reason=reason,
            details={"calibration": calib},
        )
