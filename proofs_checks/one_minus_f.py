"""Claim: the concentration term of the theorem carries a factor ``1/(1-f)``.

At ``m = 4``, ``L = 3..5`` (quick) or ``3..7`` (full) and ``v`` from 5 to 64 (``f = m / v``
from 0.8 to 1/16), the slope of ``log(P* / (v m^3))`` on ``log 1/(1-f)`` is 1 (thresholds
of the fixed-fraction event, separated grammars only; a depth column in the fit). The depth
and exact-recovery parts of the theorem are checked by ``ilc_exact_recovery_scaling``
(:mod:`proofs_checks.depth_scaling`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
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
from proofs_checks.depth_scaling import CALIBRATION_SEED, N_SIM
from proofs_checks.grids import (
    F_FACTOR_LS,
    F_FACTOR_M,
    F_FACTOR_VS,
    f_factor_cells,
    is_default_variant,
    is_separated,
)
from rhm_theory.scaling import (
    ThresholdPoint,
    calibrate,
    fit_noise_model,
    interval_regression,
    power_with_suggestion,
    run_intervals,
    simulate_points,
)
from rhm_theory.sweeps.runner import SweepCell, row_context
from rhm_theory.sweeps.thresholds import method_scale, threshold_points
from rhm_theory.validation import check_random_state

__all__ = [
    "F_ALTERNATIVES",
    "F_COMPETITOR",
    "F_COMPETITOR_SQUARED",
    "F_CONTROL_EXPONENT",
    "F_EXPONENT",
    "OneMinusFCheck",
    "f_factor_fit",
    "f_factor_verdict",
]


def _latent_scale(v: int, m: int, L: int) -> float:
    """Scale of ILC's ``P`` grids (``v m^3``), for the grid extensions of a suggestion."""
    return method_scale("latent", v, m, 2, L)


def f_factor_fit(points: Sequence[ThresholdPoint]) -> tuple[float, float, float]:
    """Slope of ``log(P*/(v m^3))`` on ``log(1/(1-f))`` with its 95% t-interval.

    One row per run (censored runs as interval data,
    :func:`~rhm_theory.scaling.interval_regression`), a depth column when the rows hold
    several depths, and cluster-robust (CR2) standard errors with the configuration
    ``(v, L)`` as the cluster, so the interval's variance holds the scatter of seeds and of
    configurations, as in :func:`~rhm_theory.scaling.loglinear_fit`. Returns
    ``(slope, low, high)``; ``nan`` with fewer than 3 values of ``v``.

    Examples
    --------
    >>> pts = [ThresholdPoint(v, 4, 2, L, 0, 100 * L + sd,
    ...                       7.0 * v * 64 / (1 - 4 / v) * (1.1 if sd else 1.0))
    ...        for v in (5, 8, 16, 64) for L in (3, 4) for sd in (0, 1)]
    >>> round(f_factor_fit(pts)[0], 6)
    1.0
    """
    from scipy.special import stdtrit

    informative = [p for p in points if any(map(math.isfinite, p.log_interval))]
    if len({p.v for p in informative}) < 3:
        return math.nan, math.nan, math.nan
    rows, lo, hi = run_intervals(informative, lambda p: math.log(p.v * p.m**3))
    depth = len({p.L for p in rows}) > 1
    X = np.asarray([[1.0, -math.log(1 - p.m / p.v)] + ([float(p.L)] if depth else [])
                    for p in rows])
    beta, se, _, df = interval_regression(X, lo, hi, [p.config for p in rows])
    if df < 1 or not math.isfinite(se[1]):
        return float(beta[1]), math.nan, math.nan
    q = float(stdtrit(df, 0.975))
    return float(beta[1]), float(beta[1] - q * se[1]), float(beta[1] + q * se[1])


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
    if not (math.isfinite(slope) and math.isfinite(lo) and math.isfinite(hi)):
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

    Grid: m = 4, L in :data:`~proofs_checks.grids.F_FACTOR_LS`, v in
    :data:`~proofs_checks.grids.F_FACTOR_VS` (f = 0.8 .. 1/16).
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
               and r["L"] in F_FACTOR_LS[grid] and r["v"] in F_FACTOR_VS and is_default_variant(r)]
        pts = [p for p in threshold_points(sel, "latent")
               if is_separated(p.v, p.m, p.L, p.grammar_seed)]
        return pts, _f_rule

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        pts, rule = self.simulation(rows, grid)
        sel = [r for r in rows if row_context(r) == "latent" and r["m"] == F_FACTOR_M
               and r["L"] in F_FACTOR_LS[grid] and r["v"] in F_FACTOR_VS and is_default_variant(r)]
        excluded = len({(int(r["v"]), int(r["L"]), int(r["grammar_seed"])) for r in sel
                        if not is_separated(int(r["v"]), F_FACTOR_M, int(r["L"]),
                                            int(r["grammar_seed"]))})
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
                            seed=CALIBRATION_SEED, pass_word="PASS", fail_word="FAIL")
            power = power_with_suggestion(
                cal, rule, pts, _f_law(F_EXPONENT),
                {name: _f_law(e) for e, name in F_ALTERNATIVES.items()},
                scale=_latent_scale, seed=CALIBRATION_SEED, pass_word="PASS")
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
            prediction="slope of log(P*/(v m^3)) on log(1/(1-f)) = 1 (m = 4, L = "
                       f"{', '.join(map(str, F_FACTOR_LS[grid]))})",
            measured={"slope": slope, "interval_95": [lo, hi],
                      "P_star_over_vm3_by_v": {str(v): float(np.exp(np.mean(y)))
                                               for v, y in sorted(by_v.items())},
                      "excluded_not_separated": excluded,
                      "not_reached": sum(p.censored for p in pts)},
            predicted={"slope": F_EXPONENT},
            tolerance="1 inside the 95% t-interval (one row per run, censored runs as "
                      "intervals, a depth column, CR2 by configuration), 0 and 2 outside "
                      "(fixed before the run)",
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
