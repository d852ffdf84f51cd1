"""Claims on the exact separation margin: its typical scaling, and whether grammars are separated.

docs/theory.md section 3 splits the reported ``Delta ~ sqrt(1-f) / m`` in two questions:

- :class:`MarginTypicalScalingCheck` (``margin_typical_scaling``): the *typical* margin
  (mean and median of ``||psi_a - psi_b||`` over symbol pairs) scales as ``sqrt(1-f) / m``;
- :class:`SeparationCheck` (``separation_of_random_grammars``): the *minimum* margin over
  ``sqrt(1-f) / m`` stays bounded away from 0 as ``v`` and ``m`` grow (``v >= m^2``).

Both read exact margins of random grammars (:func:`rhm_theory.exact.pair_margins`, no
sampling), fit a log-linear law on configuration means over grammar seeds with a
``t`` interval from the residual scatter (scatter between configurations included), and are
calibrated (docs/theory.md section 10): a noise model fitted to the check's own rows (scatter
between seeds, scatter between configurations) simulates grids under the claim and under
near alternatives, and the unchanged rule is run on them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from proofs_checks._framework import (
    Alternative,
    CheckResult,
    CheckTask,
    ClaimCheck,
    GridName,
    NegativeControl,
    Power,
    Verdict,
    task_results,
)
from rhm_theory.exact import pair_margins
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.sweeps.runner import SweepCell
from rhm_theory.validation import ContextKind, check_int, check_random_state

__all__ = [
    "EXPONENT_M",
    "EXPONENT_ONE_MINUS_F",
    "N_SIM",
    "RIVAL_EXPONENTS_M",
    "SEPARATION_GRID",
    "SEPARATION_MARGIN",
    "TYPICAL_GRID",
    "LogLinearFit",
    "MarginTypicalScalingCheck",
    "SeparationCheck",
    "fit_log_linear",
    "fit_margin_exponents",
    "margin_checks",
    "margin_records",
    "margin_tasks",
    "margin_verdict",
    "separation_fit",
    "separation_verdict",
    "simulate_records",
]

FloatArray = npt.NDArray[np.float64]
Record = Mapping[str, Any]

#: Predicted exponent of m in the typical margin (``sqrt(1-f) / m``).
EXPONENT_M = -1.0
#: Predicted exponent of ``1 - f``.
EXPONENT_ONE_MINUS_F = 0.5
#: Near rival exponents of m that the typical-margin interval must exclude for a PASS
#: (the issue's bracket: a quarter on either side of the claim).
RIVAL_EXPONENTS_M = (-0.75, -1.25)
#: Non-inferiority margin of the separation check: the one-sided 95% lower bounds of the
#: trends of ``log(min margin m / sqrt(1-f))`` (in ``log v`` at fixed ``m``, and along
#: ``v = m^2``) must lie above ``-SEPARATION_MARGIN``. Rows decaying exactly this fast (the
#: registered alternatives ``v^-0.25`` and ``m^-0.25``) then PASS at most 5% of the time by
#: construction of a one-sided 95% bound.
SEPARATION_MARGIN = 0.25
#: Simulated grids per hypothesis in the calibration: the binomial standard error of a
#: rate near 0.05 is then sqrt(0.05 * 0.95 / 200) = 0.015.
N_SIM = 200
#: Interval level (two-sided for the typical exponents, one-sided bounds at the same
#: 95% for the separation trends).
LEVEL = 0.95
_L = 3  # s = 2, L = 3: levels 1 (parent at level 2) and 2 (parent = root) both fitted
_LEVELS = (1, 2)
#: Floor of a zero margin before taking logs (a zero margin: not separated at all).
_ZERO_FLOOR = 1e-12

#: Typical-margin grid: v, m (m < v), grammar seeds.
TYPICAL_GRID: dict[GridName, dict[str, list[int]]] = {
    "quick": {"v": [16, 32, 64, 128], "m": [2, 3, 4, 6, 8, 12], "seeds": [0, 1, 2]},
    "full": {"v": [16, 32, 64, 128, 256], "m": [2, 3, 4, 6, 8, 12, 16],
             "seeds": [0, 1, 2, 3, 4]},
}
#: Separation grid: m, multiples k of m^2 (v = k m^2 >= m^2), grammar seeds. m starts at 4:
#: at m = 2 a random grammar has exactly zero margins with a probability that grows with v
#: (tests/test_assumptions.py), the known small-m regime the question is not about.
SEPARATION_GRID: dict[GridName, dict[str, list[int]]] = {
    "quick": {"m": [4, 6, 8, 12, 16], "k": [1, 2], "seeds": [0, 1, 2]},
    "full": {"m": [4, 6, 8, 12, 16, 20], "k": [1, 2, 4], "seeds": [0, 1, 2, 3, 4]},
}


def margin_records(configs: Sequence[tuple[int, int]], seeds: Sequence[int],
                   context: ContextKind = "latent",
                   levels: Sequence[int] = _LEVELS) -> list[dict[str, Any]]:
    """Exact margins of random grammars ``(v, m, s=2, L=3)``: min, mean, median over pairs.

    One record per configuration ``(v, m)``, seed and level, with ``margin`` (the minimum,
    ``Delta_l``), ``margin_mean``, ``margin_median`` and ``f = m / v``.
    """
    out = []
    for v, m in configs:
        v = check_int("v", v, minimum=2)
        m = check_int("m", m, minimum=1, maximum=v)
        for seed in seeds:
            grammar = random_grammar(RHMParams(v, m, 2, _L), seed=seed)
            for level in levels:
                pairs = pair_margins(grammar, level, context)
                out.append({"v": v, "m": m, "seed": seed, "level": level, "f": m / v,
                            "margin": float(pairs.min()),
                            "margin_mean": float(pairs.mean()),
                            "margin_median": float(np.median(pairs))})
    return out


def margin_tasks(check: str, configs: Sequence[tuple[int, int]], seeds: Sequence[int],
                 context: ContextKind = "latent",
                 levels: Sequence[int] = _LEVELS) -> list[CheckTask]:
    """:func:`margin_records` split into one task per configuration (their values, joined in
    order, are the records of one call on all ``configs``)."""
    return [CheckTask(check, margin_records,
                      (("configs", [[int(v), int(m)]]), ("seeds", [int(x) for x in seeds]),
                       ("context", context), ("levels", [int(x) for x in levels])),
                      # pair margins: v^2 pairs of context vectors of v * m entries
                      cost=float(v) ** 3 * m * len(seeds))
            for v, m in configs]


def _records(tasks: Sequence[CheckTask], rows: Sequence[Record]) -> list[dict[str, Any]]:
    return [rec for part in task_results(tasks, rows) for rec in part]


# -- the log-linear fit shared by both checks -------------------------------------------------
Design = Callable[[Record], list[float]]


def _latent_and_token_tasks(name: str, configs: Sequence[tuple[int, int]],
                            seeds: Sequence[int]) -> tuple[list[CheckTask], list[CheckTask]]:
    """A margin check's tasks: the latent margins (the claim) and the token ones (the
    control, level 2)."""
    return (margin_tasks(name, configs, seeds),
            margin_tasks(name, configs, seeds, "token", levels=(2,)))


@dataclass(frozen=True)
class LogLinearFit:
    """OLS of seed-averaged ``log y`` on a design, per configuration and level.

    ``coef`` and ``cov`` (``s^2 (X^T X)^-1``, ``s^2`` the residual variance of the
    configuration means: scatter between configurations and lack of fit included), ``df``
    residual degrees of freedom; ``sigma_seed`` (pooled within-configuration standard
    deviation of ``log y`` over seeds) and ``sigma_config`` (the configuration-level scatter
    left after removing the seed part) are the noise model of the calibration.
    """

    coef: FloatArray
    cov: FloatArray
    df: int
    sigma_seed: float
    sigma_config: float
    design: FloatArray
    n_seeds: FloatArray

    def interval(self, weights: Sequence[float], one_sided: bool = False) -> list[float]:
        """``[estimate, low, high]`` of ``weights . coef`` at ``LEVEL``."""
        w = np.asarray(weights, dtype=np.float64)
        est = float(w @ self.coef)
        if self.df < 1 or not np.all(np.isfinite(self.cov)):
            return [est, math.nan, math.nan]
        se = math.sqrt(max(float(w @ self.cov @ w), 0.0))
        q = float(stats.t.ppf(LEVEL if one_sided else (1 + LEVEL) / 2, self.df))
        return [est, est - q * se, est + q * se]


def fit_log_linear(recs: Sequence[Record], key: str, design: Design) -> LogLinearFit:
    """Fit ``mean over seeds of log(rec[key])`` per ``(v, m, level)`` on ``design(rec)``.

    Zero values are floored at ``1e-12`` (a zero margin is data, not a row to drop).
    """
    groups: dict[tuple[int, int, int], list[float]] = {}
    first: dict[tuple[int, int, int], Record] = {}
    for r in recs:
        k = (int(r["v"]), int(r["m"]), int(r["level"]))
        groups.setdefault(k, []).append(math.log(max(float(r[key]), _ZERO_FLOOR)))
        first.setdefault(k, r)
    keys = sorted(groups)
    X = np.array([design(first[k]) for k in keys], dtype=np.float64).reshape(len(keys), -1)
    y = np.array([np.mean(groups[k]) for k in keys])
    n = np.array([len(groups[k]) for k in keys], dtype=np.float64)
    p = X.shape[1]
    within = [float(np.var(groups[k], ddof=1)) * (len(groups[k]) - 1) for k in keys
              if len(groups[k]) > 1]
    dof_within = sum(len(groups[k]) - 1 for k in keys)
    sigma_seed = math.sqrt(sum(within) / dof_within) if dof_within > 0 else 0.0
    if len(keys) == 0 or np.linalg.matrix_rank(X) < p:
        nan = np.full(p, math.nan)
        return LogLinearFit(nan, np.full((p, p), math.nan), 0, sigma_seed, math.nan, X, n)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    df = len(keys) - p
    resid = y - X @ coef
    s2 = float(resid @ resid) / df if df > 0 else math.nan
    cov = np.asarray(s2 * np.linalg.inv(X.T @ X) if df > 0 else np.full((p, p), math.nan),
                     dtype=np.float64)
    # Scatter of a configuration mean = sigma_config^2 + sigma_seed^2 / n (method of moments).
    sigma_config = math.sqrt(max(s2 - sigma_seed**2 * float(np.mean(1.0 / n)), 0.0)) \
        if df > 0 else math.nan
    return LogLinearFit(np.asarray(coef, dtype=np.float64), cov, df, sigma_seed,
                        sigma_config, X, n)


def simulate_records(fit: LogLinearFit, coef: npt.ArrayLike, recs: Sequence[Record],
                     key: str, rng: np.random.Generator) -> list[dict[str, Any]]:
    """``recs`` with ``rec[key]`` redrawn from the fitted noise model around ``coef``.

    ``log y = design . coef + u_config + e_seed``, ``u ~ N(0, sigma_config^2)`` shared by
    a configuration's seeds, ``e ~ N(0, sigma_seed^2)`` per record.
    """
    groups: dict[tuple[int, int, int], list[int]] = {}
    for i, r in enumerate(recs):
        groups.setdefault((int(r["v"]), int(r["m"]), int(r["level"])), []).append(i)
    keys = sorted(groups)
    mean = fit.design @ np.asarray(coef, dtype=np.float64)
    sc = fit.sigma_config if math.isfinite(fit.sigma_config) else 0.0
    out: list[dict[str, Any]] = [dict(r) for r in recs]
    for g, k in enumerate(keys):
        u = sc * rng.standard_normal()
        for i in groups[k]:
            out[i][key] = math.exp(mean[g] + u + fit.sigma_seed * rng.standard_normal())
    return out


def _power(rule: Callable[[Sequence[Record]], Verdict],
           simulate: Callable[[str, np.random.Generator], list[dict[str, Any]]],
           hypotheses: Sequence[str], n_sim: int, seed: int) -> dict[str, float]:
    """PASS rate of ``rule`` on ``n_sim`` grids simulated under each hypothesis."""
    out = {}
    for h_index, name in enumerate(hypotheses):
        rng = check_random_state(seed, h_index)
        passes = sum(rule(simulate(name, rng)) is Verdict.PASS for _ in range(n_sim))
        out[name] = passes / n_sim
    return out


# -- (a) the typical margin -------------------------------------------------------------------
def _typical_design(levels: Sequence[int]) -> Design:
    def design(r: Record) -> list[float]:
        return [1.0, math.log(r["m"]), math.log(1 - r["f"]), math.log(r["v"])] + \
            [float(r["level"] == x) for x in levels[1:]]
    return design


def _typical_fit(recs: Sequence[Record], key: str) -> LogLinearFit:
    levels = sorted({int(r["level"]) for r in recs})
    return fit_log_linear(recs, key, _typical_design(levels))


def fit_margin_exponents(recs: Sequence[Record], key: str = "margin",
                         seed: int = 0) -> dict[str, list[float]]:
    """``log y = c + b log m + e log(1-f) + g log v (+ level offsets)`` on ``rec[key]``.

    Returns ``[coef, low, high]`` (95%, ``t`` interval of the fit of configuration means)
    of ``b`` (``"m"``), ``e`` (``"one_minus_f"``) and ``g`` (``"v"``). ``seed`` is unused
    (kept for callers of the bootstrap version; the interval is analytic).
    """
    del seed
    if len(recs) == 0:
        nan = [math.nan] * 3
        return {"m": nan, "one_minus_f": nan, "v": nan}
    fit = _typical_fit(recs, key)
    p = len(fit.coef)
    return {name: fit.interval([float(i == j) for j in range(p)])
            for i, name in ((1, "m"), (2, "one_minus_f"), (3, "v"))}


def margin_verdict(fit: Mapping[str, list[float]]) -> Verdict:
    """The typical-margin rule on one :func:`fit_margin_exponents` result.

    PASS: ``-1`` inside the interval of the exponent of m, ``0.5`` inside that of ``1-f``,
    and both :data:`RIVAL_EXPONENTS_M` outside; FAIL: a predicted exponent outside its
    interval; INCONCLUSIVE: otherwise (or no interval: too few configurations).
    """
    _, blo, bhi = fit["m"]
    _, elo, ehi = fit["one_minus_f"]
    if not all(math.isfinite(x) for x in (blo, bhi, elo, ehi)):
        return Verdict.INCONCLUSIVE
    if not (blo <= EXPONENT_M <= bhi and elo <= EXPONENT_ONE_MINUS_F <= ehi):
        return Verdict.FAIL
    if any(blo <= r <= bhi for r in RIVAL_EXPONENTS_M):
        return Verdict.INCONCLUSIVE
    return Verdict.PASS


def typical_verdict(recs: Sequence[Record]) -> Verdict:
    """Rule of ``margin_typical_scaling``: the mean and the median over pairs both PASS
    :func:`margin_verdict` (FAIL if either FAILs, else INCONCLUSIVE)."""
    verdicts = [margin_verdict(fit_margin_exponents(recs, key))
                for key in ("margin_mean", "margin_median")]
    if Verdict.FAIL in verdicts:
        return Verdict.FAIL
    return Verdict.PASS if all(v is Verdict.PASS for v in verdicts) else Verdict.INCONCLUSIVE


def _typical_hypotheses() -> dict[str, tuple[float | None, float | None]]:
    """Name -> (exponent of m, exponent of 1-f) to impose; ``None`` keeps the fitted one."""
    return {"claim: sqrt(1-f) / m": (EXPONENT_M, EXPONENT_ONE_MINUS_F),
            **{f"sqrt(1-f) m^{r}": (r, EXPONENT_ONE_MINUS_F) for r in RIVAL_EXPONENTS_M},
            "1 / m (no f dependence)": (EXPONENT_M, 0.0),
            "(1-f) / m": (EXPONENT_M, 1.0)}


def typical_power(recs: Sequence[Record], n_sim: int = N_SIM, seed: int = 0) -> Power:
    """Calibration of ``typical_verdict`` on rows simulated from its own noise model.

    For each hypothesis the fitted coefficients (intercept, ``log v``, level offsets, the
    noise scales) of the mean and of the median are kept and the exponents of m and
    ``1-f`` are set to the hypothesis; both statistics are redrawn independently.
    """
    fits = {key: _typical_fit(recs, key) for key in ("margin_mean", "margin_median")}
    hyp = _typical_hypotheses()

    def simulate(name: str, rng: np.random.Generator) -> list[dict[str, Any]]:
        b, e = hyp[name]
        out: list[dict[str, Any]] = [dict(r) for r in recs]
        for key, fit in fits.items():
            coef = fit.coef.copy()
            coef[1], coef[2] = b, e
            out = simulate_records(fit, coef, out, key, rng)
        return out

    rates = _power(typical_verdict, simulate, list(hyp), n_sim, seed)
    names = list(hyp)
    return Power(rates[names[0]], tuple((n, rates[n]) for n in names[1:]), n_sim)


class MarginTypicalScalingCheck:
    """The typical (mean and median over pairs) latent margin scales as ``sqrt(1-f) / m``.

    Rule (``typical_verdict``): for the mean and for the median over symbol pairs, the
    95% interval of the exponent of m contains ``-1`` and excludes ``-0.75`` and ``-1.25``,
    and that of ``1-f`` contains ``0.5``. Negative control: the same rule on the token
    context of level 2 (the four tokens under each cousin, a noisier view whose typical
    margin decays faster in m), real data where the claim is false. Calibrated on rows
    simulated from the fitted noise model (``typical_power``).
    """

    name = "margin_typical_scaling"
    claim = "The typical (mean, median over pairs) latent margin scales as sqrt(1 - f) / m."
    source = "docs/theory.md section 3 (typical margin)"

    def cells(self, grid: GridName) -> list[SweepCell]:
        return []

    def _tasks(self, grid: GridName) -> tuple[list[CheckTask], list[CheckTask]]:
        g = TYPICAL_GRID[grid]
        return _latent_and_token_tasks(self.name, [(v, m) for v in g["v"] for m in g["m"]
                                                   if m < v], g["seeds"])

    def tasks(self, grid: GridName) -> list[CheckTask]:
        """The exact margins (latent, and token for the control), one task per (v, m)."""
        return [task for part in self._tasks(grid) for task in part]

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        g = TYPICAL_GRID[grid]
        latent_tasks, token_tasks = self._tasks(grid)
        recs = _records(latent_tasks, rows)
        fits = {key: fit_margin_exponents(recs, key) for key in ("margin_mean",
                                                                 "margin_median")}
        verdict = typical_verdict(recs)
        token = _records(token_tasks, rows)
        control = typical_verdict(token)
        power = typical_power(recs)
        return CheckResult(
            self.name, self.claim, self.source,
            prediction=f"exponent of m = {EXPONENT_M}, of (1-f) = {EXPONENT_ONE_MINUS_F} "
                       "(mean and median over pairs)",
            measured={"mean_exponent_m": fits["margin_mean"]["m"],
                      "mean_exponent_one_minus_f": fits["margin_mean"]["one_minus_f"],
                      "mean_exponent_v": fits["margin_mean"]["v"],
                      "median_exponent_m": fits["margin_median"]["m"],
                      "median_exponent_one_minus_f": fits["margin_median"]["one_minus_f"],
                      "median_exponent_v": fits["margin_median"]["v"],
                      "n_records": len(recs)},
            predicted={"exponent_m": EXPONENT_M, "exponent_one_minus_f": EXPONENT_ONE_MINUS_F},
            tolerance="predicted exponents inside the 95% t intervals of the fit of "
                      "configuration means (seed-averaged logs); rival exponents of m "
                      f"{RIVAL_EXPONENTS_M} outside ([coef, low, high]), for the mean and "
                      "the median",
            verdict=verdict,
            alternatives=tuple(
                Alternative(f"typical margin ~ m^{r}",
                            all(not fits[k]["m"][1] <= r <= fits[k]["m"][2] for k in fits), r)
                for r in RIVAL_EXPONENTS_M),
            negative_control=NegativeControl(
                "the same rule on token-context margins of level 2 (tokens under the "
                "cousins)", control,
                {"mean_exponent_m": fit_margin_exponents(token, "margin_mean")["m"]}),
            power=power,
            details={"grid": f"v in {g['v']}, m in {g['m']}, m < v, s=2, L=3, levels 1-2, "
                             f"seeds {g['seeds']}"},
        )


# -- (b) are random grammars separated? -------------------------------------------------------
def _ratio_records(recs: Sequence[Record]) -> list[dict[str, Any]]:
    """``ratio = Delta_l m / sqrt(1-f)`` added to each record."""
    return [{**r, "ratio": r["margin"] * r["m"] / math.sqrt(1 - r["f"])} for r in recs]


def _separation_design(levels: Sequence[int]) -> Design:
    def design(r: Record) -> list[float]:
        return [1.0, math.log(r["m"]), math.log(r["v"])] + \
            [float(r["level"] == x) for x in levels[1:]]
    return design


def _separation_lsq(recs: Sequence[Record]) -> LogLinearFit:
    levels = sorted({int(r["level"]) for r in recs})
    return fit_log_linear(_ratio_records(recs), "ratio", _separation_design(levels))


def separation_fit(recs: Sequence[Record]) -> dict[str, list[float]]:
    """Trends of ``log(Delta m / sqrt(1-f)) = c + a log m + g log v (+ level offsets)``.

    ``"v"``: ``g``, the trend in ``v`` at fixed ``m``; ``"diagonal"``: ``a + 2 g``, the
    trend in ``log m`` along ``v = m^2``. Each ``[estimate, one-sided 95% lower bound,
    one-sided 95% upper bound]``. Both ``>= 0`` means ``log ratio >= c + (a + 2g) log m``
    on all of ``v >= m^2``: bounded away from 0.
    """
    fit = _separation_lsq(recs)
    p = len(fit.coef)
    e_v = [0.0, 0.0, 1.0] + [0.0] * (p - 3)
    e_d = [0.0, 1.0, 2.0] + [0.0] * (p - 3)
    return {"v": fit.interval(e_v, one_sided=True),
            "diagonal": fit.interval(e_d, one_sided=True)}


def separation_verdict(fit: Mapping[str, list[float]]) -> Verdict:
    """Rule of ``separation_of_random_grammars`` on a :func:`separation_fit` result.

    FAIL: an upper bound below 0 (the ratio decays: not bounded away from 0); PASS: both
    lower bounds above ``-SEPARATION_MARGIN`` (no decay as fast as ``v^-0.25`` or
    ``m^-0.25`` along ``v = m^2``); INCONCLUSIVE otherwise or without intervals.
    """
    bounds = [x for k in ("v", "diagonal") for x in fit[k][1:]]
    if not all(math.isfinite(x) for x in bounds):
        return Verdict.INCONCLUSIVE
    if fit["v"][2] < 0 or fit["diagonal"][2] < 0:
        return Verdict.FAIL
    if fit["v"][1] > -SEPARATION_MARGIN and fit["diagonal"][1] > -SEPARATION_MARGIN:
        return Verdict.PASS
    return Verdict.INCONCLUSIVE


def _separation_rule(recs: Sequence[Record]) -> Verdict:
    return separation_verdict(separation_fit(recs))


def separation_power(recs: Sequence[Record], n_sim: int = N_SIM, seed: int = 0) -> Power:
    """Calibration of the separation rule on ratios simulated from its own noise model.

    Claim: a flat ratio (``a = g = 0``, the boundary of "bounded away from 0"); near
    alternatives: ``v^-0.25`` at fixed m (``g = -0.25, a = 0.5``: flat along
    ``v = m^2``), ``m^-0.25`` along ``v = m^2`` (``a = -0.25, g = 0``); far: ``m^-0.5``.
    """
    fit = _separation_lsq(recs)
    hyp: dict[str, tuple[float, float]] = {
        "claim: bounded (flat ratio)": (0.0, 0.0),
        f"ratio ~ v^-{SEPARATION_MARGIN} at fixed m": (2 * SEPARATION_MARGIN,
                                                        -SEPARATION_MARGIN),
        f"ratio ~ m^-{SEPARATION_MARGIN} along v = m^2": (-SEPARATION_MARGIN, 0.0),
        "ratio ~ m^-0.5 along v = m^2": (-0.5, 0.0),
    }
    ratios = _ratio_records(recs)

    def simulate(name: str, rng: np.random.Generator) -> list[dict[str, Any]]:
        coef = fit.coef.copy()
        coef[1], coef[2] = hyp[name]
        sim = simulate_records(fit, coef, ratios, "ratio", rng)
        # The rule reads margins: undo the ratio.
        return [{**r, "margin": r["ratio"] * math.sqrt(1 - r["f"]) / r["m"]} for r in sim]

    rates = _power(_separation_rule, simulate, list(hyp), n_sim, seed)
    names = list(hyp)
    return Power(rates[names[0]], tuple((n, rates[n]) for n in names[1:]), n_sim)


class SeparationCheck:
    """Random grammars are separated: ``min margin / (sqrt(1-f)/m)`` stays away from 0.

    Exact latent minima of random grammars with ``v = k m^2`` (``k >= 1``) and ``m >= 4``;
    rule :func:`separation_verdict` on the trends of the log ratio in ``v`` and along
    ``v = m^2``. Negative control: the same rule on the token context of level 2, whose
    minimum decays faster than ``1/m`` (real data where the ratio goes to 0). Calibrated by
    ``separation_power``.
    """

    name = "separation_of_random_grammars"
    claim = ("Random grammars are separated: the minimum latent margin over sqrt(1 - f) / m "
             "is bounded away from 0 as v and m grow (v >= m^2).")
    source = "docs/theory.md section 3 (separated grammars)"

    def cells(self, grid: GridName) -> list[SweepCell]:
        return []

    def _tasks(self, grid: GridName) -> tuple[list[CheckTask], list[CheckTask]]:
        g = SEPARATION_GRID[grid]
        return _latent_and_token_tasks(
            self.name, [(k * m * m, m) for m in g["m"] for k in g["k"]], g["seeds"])

    def tasks(self, grid: GridName) -> list[CheckTask]:
        """The exact minima (latent, and token for the control), one task per (v, m)."""
        return [task for part in self._tasks(grid) for task in part]

    def evaluate(self, rows: Sequence[Mapping[str, Any]], grid: GridName) -> CheckResult:
        g = SEPARATION_GRID[grid]
        latent_tasks, token_tasks = self._tasks(grid)
        recs = _records(latent_tasks, rows)
        fit = separation_fit(recs)
        verdict = separation_verdict(fit)
        token = _records(token_tasks, rows)
        cfit = separation_fit(token)
        ratios = [r["ratio"] for r in _ratio_records(recs)]
        return CheckResult(
            self.name, self.claim, self.source,
            prediction="trends of log(Delta m / sqrt(1-f)) in log v and along v = m^2 "
                       f">= 0 (lower bounds > -{SEPARATION_MARGIN})",
            measured={"trend_v": fit["v"], "trend_diagonal": fit["diagonal"],
                      "ratio_min": float(min(ratios)),
                      "ratio_median": float(np.median(ratios)),
                      "n_records": len(recs)},
            predicted={"trend_v": 0.0, "trend_diagonal": 0.0},
            tolerance=f"one-sided 95% t bounds ([estimate, lower, upper]): PASS if both "
                      f"lower bounds > -{SEPARATION_MARGIN}, FAIL if an upper bound < 0",
            verdict=verdict,
            alternatives=(
                Alternative(f"ratio ~ v^-{SEPARATION_MARGIN}",
                            fit["v"][1] > -SEPARATION_MARGIN, fit["v"][0]),
                Alternative(f"ratio ~ m^-{SEPARATION_MARGIN} along v = m^2",
                            fit["diagonal"][1] > -SEPARATION_MARGIN, fit["diagonal"][0])),
            negative_control=NegativeControl(
                "the same rule on token-context minima of level 2", separation_verdict(cfit),
                {"trend_v": cfit["v"], "trend_diagonal": cfit["diagonal"]}),
            power=separation_power(recs),
            details={"grid": f"m in {g['m']}, v = k m^2 for k in {g['k']}, s=2, L=3, "
                             f"levels 1-2, seeds {g['seeds']}"},
        )


def margin_checks() -> list[ClaimCheck]:
    """The two margin checks, in report order (registered in ``proofs_checks``)."""
    return [MarginTypicalScalingCheck(), SeparationCheck()]
