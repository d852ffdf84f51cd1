"""Exact margins of random-grammar grids, their log-linear fits, and records simulated from them.

The measurements behind the margin claims of docs/theory.md section 3, usable on their own:

- :func:`margin_records`: exact separation margins (minimum, mean and median over symbol
  pairs, :func:`rhm_theory.exact.pair_margins`; no sampling) per configuration, grammar seed
  and level;
- :func:`fit_log_linear`: ordinary least squares of the seed-averaged ``log`` of a record
  field on a design, per configuration and level, with a ``t`` interval from the scatter of
  the configuration means (:class:`MarginFit`) and a two-level noise model (seeds,
  configurations);
- :func:`fit_margin_exponents` (exponents of ``m``, ``1-f`` and ``v`` of a margin) and
  :func:`separation_fit` (trends of ``Delta m / sqrt(1-f)`` in ``v`` and along ``v = m^2``);
- :func:`simulate_records`: records redrawn from a fitted noise model around chosen
  coefficients (the calibration of a rule on such records).

Deciding whether a fit supports a claim is left to the checks (``proofs_checks``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from rhm_theory.exact.margins import pair_margins
from rhm_theory.model import RHMParams, random_grammar
from rhm_theory.validation import ContextKind, check_int

__all__ = [
    "LEVEL",
    "ZERO_FLOOR",
    "Design",
    "MarginFit",
    "fit_log_linear",
    "fit_margin_exponents",
    "fit_separation_ratio",
    "fit_typical_margin",
    "margin_records",
    "ratio_records",
    "separation_design",
    "separation_fit",
    "simulate_records",
    "typical_design",
]

FloatArray = npt.NDArray[np.float64]
Record = Mapping[str, Any]
#: A design: the regressors (a row of the design matrix) of one record.
Design = Callable[[Record], list[float]]

#: Default interval level of :meth:`MarginFit.interval` (two-sided, or each one-sided bound).
LEVEL = 0.95
#: Floor of a zero value before taking logs (a zero margin: not separated at all, which is
#: data, not a record to drop).
ZERO_FLOOR = 1e-12


def margin_records(configs: Sequence[tuple[int, int]], seeds: Sequence[int],
                   context: ContextKind = "latent", levels: Sequence[int] = (1, 2),
                   *, s: int = 2, L: int = 3) -> list[dict[str, Any]]:
    """Exact margins of random grammars ``(v, m, s, L)``: minimum, mean and median over pairs.

    Parameters
    ----------
    configs : sequence of (int, int)
        The ``(v, m)`` configurations, ``1 <= m <= v``.
    seeds : sequence of int
        Grammar seeds (:func:`rhm_theory.model.random_grammar`).
    context : {"latent", "token"}, optional
        Context of the margins (:func:`rhm_theory.exact.pair_margins`).
    levels : sequence of int, optional
        Levels whose margins are recorded (default: 1 and 2, every non-root level of
        ``L = 3``).
    s, L : int, optional
        Branching factor and depth (default 2 and 3, the grids of the margin checks).

    Returns
    -------
    list of dict
        One record per configuration, seed and level (in that order), with ``v``, ``m``,
        ``seed``, ``level``, ``f = m / v``, ``margin`` (the minimum over pairs,
        ``Delta_l``), ``margin_mean`` and ``margin_median``.

    Examples
    --------
    >>> (rec,) = margin_records([(4, 2)], [0], levels=(2,))
    >>> sorted(rec)
    ['f', 'level', 'm', 'margin', 'margin_mean', 'margin_median', 'seed', 'v']
    >>> rec["f"], rec["margin"] <= rec["margin_median"]
    (0.5, True)
    """
    out = []
    for v, m in configs:
        v = check_int("v", v, minimum=2)
        m = check_int("m", m, minimum=1, maximum=v)
        for seed in seeds:
            grammar = random_grammar(RHMParams(v, m, s, L), seed=seed)
            for level in levels:
                pairs = pair_margins(grammar, level, context)
                out.append({"v": v, "m": m, "seed": seed, "level": level, "f": m / v,
                            "margin": float(pairs.min()),
                            "margin_mean": float(pairs.mean()),
                            "margin_median": float(np.median(pairs))})
    return out


@dataclass(frozen=True)
class MarginFit:
    """OLS of seed-averaged ``log y`` on a design, one row per configuration and level.

    Attributes
    ----------
    coef : ndarray
        The fitted coefficients (``nan`` when the design has too few configurations).
    cov : ndarray
        Their covariance ``s^2 (X^T X)^-1``, ``s^2`` the residual variance of the
        configuration means (scatter between configurations and lack of fit included).
    df : int
        Residual degrees of freedom (0: no interval).
    sigma_seed : float
        Pooled standard deviation of ``log y`` over the seeds of one configuration.
    sigma_config : float
        Scatter of the configuration means left after removing the seed part (method of
        moments; ``nan`` without residual degrees of freedom).
    design : ndarray
        The design matrix, one row per configuration (sorted by ``(v, m, level)``).
    n_seeds : ndarray
        Records per configuration.

    Notes
    -----
    ``sigma_seed`` and ``sigma_config`` are the noise model of :func:`simulate_records`.
    Not :class:`rhm_theory.scaling.LogLinearFit`, the fit of thresholds (censored
    interval data) on fixed regressors.
    """

    coef: FloatArray
    cov: FloatArray
    df: int
    sigma_seed: float
    sigma_config: float
    design: FloatArray
    n_seeds: FloatArray

    def interval(self, weights: Sequence[float], one_sided: bool = False,
                 level: float = LEVEL) -> list[float]:
        """``[estimate, low, high]`` of ``weights . coef``, a ``t`` interval.

        Parameters
        ----------
        weights : sequence of float
            The linear combination of the coefficients.
        one_sided : bool, optional
            Each bound one-sided at ``level`` (default: the two-sided interval).
        level : float, optional
            Confidence level (default :data:`LEVEL`).

        Returns
        -------
        list of float
            The estimate and the bounds (``nan`` bounds without residual degrees of
            freedom).
        """
        w = np.asarray(weights, dtype=np.float64)
        est = float(w @ self.coef)
        if self.df < 1 or not np.all(np.isfinite(self.cov)):
            return [est, math.nan, math.nan]
        se = math.sqrt(max(float(w @ self.cov @ w), 0.0))
        q = float(stats.t.ppf(level if one_sided else (1 + level) / 2, self.df))
        return [est, est - q * se, est + q * se]


def _config_key(r: Record) -> tuple[int, int, int]:
    return (int(r["v"]), int(r["m"]), int(r["level"]))


def fit_log_linear(recs: Sequence[Record], key: str, design: Design) -> MarginFit:
    """Fit the mean over seeds of ``log(rec[key])`` per ``(v, m, level)`` on ``design(rec)``.

    Parameters
    ----------
    recs : sequence of mapping
        Records with ``v``, ``m``, ``level`` and ``key`` (e.g. :func:`margin_records`).
    key : str
        The field fitted; values are floored at :data:`ZERO_FLOOR` before the log.
    design : callable
        The regressors of a configuration, read from its first record.

    Returns
    -------
    MarginFit
        The fit and its noise model.

    Examples
    --------
    Two configurations of ``y = 2 v`` (one seed each) determine ``log y = log 2 + log v``:

    >>> recs = [{"v": v, "m": 1, "level": 1, "y": 2.0 * v} for v in (2, 4)]
    >>> fit = fit_log_linear(recs, "y", lambda r: [1.0, math.log(r["v"])])
    >>> [round(float(c), 6) for c in fit.coef], round(math.log(2), 6), fit.df
    ([0.693147, 1.0], 0.693147, 0)
    """
    groups: dict[tuple[int, int, int], list[float]] = {}
    first: dict[tuple[int, int, int], Record] = {}
    for r in recs:
        k = _config_key(r)
        groups.setdefault(k, []).append(math.log(max(float(r[key]), ZERO_FLOOR)))
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
        return MarginFit(nan, np.full((p, p), math.nan), 0, sigma_seed, math.nan, X, n)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    df = len(keys) - p
    resid = y - X @ coef
    s2 = float(resid @ resid) / df if df > 0 else math.nan
    cov = np.asarray(s2 * np.linalg.inv(X.T @ X) if df > 0 else np.full((p, p), math.nan),
                     dtype=np.float64)
    # Scatter of a configuration mean = sigma_config^2 + sigma_seed^2 / n (method of moments).
    sigma_config = math.sqrt(max(s2 - sigma_seed**2 * float(np.mean(1.0 / n)), 0.0)) \
        if df > 0 else math.nan
    return MarginFit(np.asarray(coef, dtype=np.float64), cov, df, sigma_seed,
                     sigma_config, X, n)


def simulate_records(fit: MarginFit, coef: npt.ArrayLike, recs: Sequence[Record],
                     key: str, rng: np.random.Generator) -> list[dict[str, Any]]:
    """``recs`` with ``rec[key]`` redrawn from the fitted noise model around ``coef``.

    ``log y = design . coef + u_config + e_seed``, ``u ~ N(0, sigma_config^2)`` shared by a
    configuration's seeds, ``e ~ N(0, sigma_seed^2)`` per record.

    Parameters
    ----------
    fit : MarginFit
        A fit of ``recs`` (its design and noise scales are used).
    coef : array_like
        Coefficients of the simulated law (e.g. ``fit.coef`` with an exponent replaced).
    recs : sequence of mapping
        The records ``fit`` was fitted on.
    key : str
        The field redrawn.
    rng : numpy.random.Generator
        Source of the draws.

    Returns
    -------
    list of dict
        Copies of ``recs`` with ``key`` replaced.

    Examples
    --------
    Without noise the draws are the law itself:

    >>> recs = [{"v": v, "m": 1, "level": 1, "y": 2.0 * v} for v in (2, 4)]
    >>> fit = fit_log_linear(recs, "y", lambda r: [1.0, math.log(r["v"])])
    >>> sim = simulate_records(fit, [0.0, 2.0], recs, "y", np.random.default_rng(0))
    >>> [round(r["y"], 9) for r in sim]
    [4.0, 16.0]
    """
    groups: dict[tuple[int, int, int], list[int]] = {}
    for i, r in enumerate(recs):
        groups.setdefault(_config_key(r), []).append(i)
    keys = sorted(groups)
    mean = fit.design @ np.asarray(coef, dtype=np.float64)
    sc = fit.sigma_config if math.isfinite(fit.sigma_config) else 0.0
    out: list[dict[str, Any]] = [dict(r) for r in recs]
    for g, k in enumerate(keys):
        u = sc * rng.standard_normal()
        for i in groups[k]:
            out[i][key] = math.exp(mean[g] + u + fit.sigma_seed * rng.standard_normal())
    return out


# -- the typical margin -----------------------------------------------------------------------
def typical_design(levels: Sequence[int]) -> Design:
    """Design ``[1, log m, log(1-f), log v]`` plus an offset per level after the first.

    Parameters
    ----------
    levels : sequence of int
        The levels of the records, sorted (the first is the reference).

    Returns
    -------
    callable
        The design of :func:`fit_typical_margin`.
    """
    def design(r: Record) -> list[float]:
        return [1.0, math.log(r["m"]), math.log(1 - r["f"]), math.log(r["v"])] + \
            [float(r["level"] == x) for x in levels[1:]]
    return design


def fit_typical_margin(recs: Sequence[Record], key: str) -> MarginFit:
    """:func:`fit_log_linear` of ``rec[key]`` on :func:`typical_design` of the records' levels.

    Parameters
    ----------
    recs : sequence of mapping
        Margin records (:func:`margin_records`).
    key : str
        ``"margin"``, ``"margin_mean"`` or ``"margin_median"``.

    Returns
    -------
    MarginFit
        Coefficients ``[c, b (m), e (1-f), g (v), level offsets...]``.
    """
    levels = sorted({int(r["level"]) for r in recs})
    return fit_log_linear(recs, key, typical_design(levels))


def fit_margin_exponents(recs: Sequence[Record], key: str = "margin",
                         seed: int = 0) -> dict[str, list[float]]:
    """Exponents of ``log y = c + b log m + e log(1-f) + g log v (+ level offsets)``.

    Parameters
    ----------
    recs : sequence of mapping
        Margin records (:func:`margin_records`).
    key : str, optional
        The margin fitted (default the minimum, ``"margin"``).
    seed : int, optional
        Unused (kept for callers of the earlier bootstrap version; the interval is
        analytic).

    Returns
    -------
    dict of str to list of float
        ``[coef, low, high]`` (95% ``t`` interval of the fit of configuration means) of
        ``b`` (``"m"``), ``e`` (``"one_minus_f"``) and ``g`` (``"v"``); ``nan`` without
        records.
    """
    del seed
    if len(recs) == 0:
        nan = [math.nan] * 3
        return {"m": nan, "one_minus_f": nan, "v": nan}
    fit = fit_typical_margin(recs, key)
    p = len(fit.coef)
    return {name: fit.interval([float(i == j) for j in range(p)])
            for i, name in ((1, "m"), (2, "one_minus_f"), (3, "v"))}


# -- separation: the minimum margin over sqrt(1-f) / m ----------------------------------------
def ratio_records(recs: Sequence[Record]) -> list[dict[str, Any]]:
    """The records with ``ratio = margin * m / sqrt(1-f)`` added.

    Parameters
    ----------
    recs : sequence of mapping
        Margin records (:func:`margin_records`).

    Returns
    -------
    list of dict
        Copies of ``recs`` with ``ratio``.

    Examples
    --------
    >>> ratio_records([{"margin": 0.25, "m": 2, "f": 0.75}])[0]["ratio"]
    1.0
    """
    return [{**r, "ratio": r["margin"] * r["m"] / math.sqrt(1 - r["f"])} for r in recs]


def separation_design(levels: Sequence[int]) -> Design:
    """Design ``[1, log m, log v]`` plus an offset per level after the first.

    Parameters
    ----------
    levels : sequence of int
        The levels of the records, sorted (the first is the reference).

    Returns
    -------
    callable
        The design of :func:`fit_separation_ratio`.
    """
    def design(r: Record) -> list[float]:
        return [1.0, math.log(r["m"]), math.log(r["v"])] + \
            [float(r["level"] == x) for x in levels[1:]]
    return design


def fit_separation_ratio(recs: Sequence[Record]) -> MarginFit:
    """:func:`fit_log_linear` of the :func:`ratio_records` ratio on :func:`separation_design`.

    Parameters
    ----------
    recs : sequence of mapping
        Margin records (:func:`margin_records`).

    Returns
    -------
    MarginFit
        Coefficients ``[c, a (m), g (v), level offsets...]``.
    """
    levels = sorted({int(r["level"]) for r in recs})
    return fit_log_linear(ratio_records(recs), "ratio", separation_design(levels))


def separation_fit(recs: Sequence[Record]) -> dict[str, list[float]]:
    """Trends of ``log(Delta m / sqrt(1-f)) = c + a log m + g log v (+ level offsets)``.

    Parameters
    ----------
    recs : sequence of mapping
        Margin records (:func:`margin_records`).

    Returns
    -------
    dict of str to list of float
        ``"v"``: ``g``, the trend in ``log v`` at fixed ``m``; ``"diagonal"``: ``a + 2 g``,
        the trend in ``log m`` along ``v = m^2``. Each ``[estimate, one-sided 95% lower
        bound, one-sided 95% upper bound]``. Both ``>= 0`` means
        ``log ratio >= c + (a + 2g) log m`` on all of ``v >= m^2``: bounded away from 0.
    """
    fit = fit_separation_ratio(recs)
    p = len(fit.coef)
    e_v = [0.0, 0.0, 1.0] + [0.0] * (p - 3)
    e_d = [0.0, 1.0, 2.0] + [0.0] * (p - 3)
    return {"v": fit.interval(e_v, one_sided=True),
            "diagonal": fit.interval(e_d, one_sided=True)}
