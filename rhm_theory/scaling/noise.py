"""The noise of ``log P*`` around a law: fitted to a check's own rows, then simulated.

:func:`fit_noise_model` measures three scatters of ``log P*`` on real rows: between grammar
seeds of one configuration (``sigma_seed``), of configuration means around the best
log-linear law beyond what the seeds explain (``tau_config``), and the shares of them that
rows hold in common (the levels of one run, ``rho_seed`` / ``rho_config``; the depths of one
grammar seed, ``rho_grammar``). :func:`simulate_points` draws rows that follow any law
with that noise, censored by the real rows' ``P`` grids exactly as a curve is.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rhm_theory.scaling.fit import config_intervals, loglinear_fit
from rhm_theory.scaling.threshold import ThresholdPoint

__all__ = ["LogScale", "NoiseModel", "fit_noise_model", "law_level", "simulate_points"]


@dataclass(frozen=True)
class NoiseModel:
    """Two-level scatter of ``log P*``: between grammar seeds and between configurations.

    ``sigma_seed`` is the pooled within-configuration standard deviation (over the
    configurations with at least two thresholds inside the grid); ``tau_config`` the
    standard deviation of configuration means around the log-linear fit beyond what the
    seeds explain, ``sqrt(max(s^2 - sigma_seed^2 mean(1/n), 0))`` with ``s`` the fit's
    residual scatter.

    ``rho_seed`` and ``rho_config`` are the shares of each that the levels of one run hold
    in common (per-level rows: the levels of a run come from one grammar and one data set,
    so they are not independent); both are 0 for rows without levels. The simulation draws
    a run's levels with these correlations.

    ``rho_grammar`` is the share of the seed scatter that the rows of one grammar seed
    hold in common across depths (designs that reuse a grammar seed at every depth, whose
    depth-``L`` grammar is the first ``L`` levels of the deeper one); 0 for designs that
    draw every depth independently.
    """

    sigma_seed: float
    tau_config: float
    n_configs: int
    n_runs: int
    rho_seed: float = 0.0
    rho_config: float = 0.0
    rho_grammar: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON reports."""
        return dict(self.__dict__)


def fit_noise_model(points: Sequence[ThresholdPoint],
                    with_level: bool | None = None) -> NoiseModel:
    """Fit :class:`NoiseModel` to a check's own threshold points.

    Parameters
    ----------
    points : sequence of ThresholdPoint
    with_level : bool, optional
        Include the level in the log-linear fit (default: whether any point has a level).

    Returns
    -------
    NoiseModel
    """
    if not points:
        raise ValueError("points must be non-empty to fit a noise model")
    by: dict[tuple[int, ...], list[float]] = defaultdict(list)
    for p in points:
        lo, hi = p.log_interval
        if lo == hi:
            by[p.config].append(lo)
    ss, dof = 0.0, 0
    for ys in by.values():
        if len(ys) >= 2:
            a = np.asarray(ys)
            ss += float(((a - a.mean()) ** 2).sum())
            dof += a.size - 1
    sigma = math.sqrt(ss / dof) if dof else 0.0
    lvl = any(p.level for p in points) if with_level is None else with_level
    fit = loglinear_fit(points, with_level=lvl, unit="config")
    keys, _, _, _ = config_intervals(points)
    n_by: dict[tuple[int, ...], int] = defaultdict(int)
    for p in points:
        n_by[p.config] += 1
    inv_n = float(np.mean([1.0 / n_by[k] for k in keys]))
    s = fit.residual_sd if math.isfinite(fit.residual_sd) else 0.0
    tau = math.sqrt(max(s * s - sigma * sigma * inv_n, 0.0))
    # Correlation between the levels of one run: of the seed deviations (same run and
    # grammar seed) and of the configuration residuals (same run).
    dev: dict[tuple[int, ...], float] = {}
    for k, ys in by.items():
        if len(ys) >= 2:
            mean = float(np.mean(ys))
            for p in points:
                lo, hi = p.log_interval
                if p.config == k and lo == hi:
                    dev[(*k, p.grammar_seed)] = lo - mean
    rho_seed = _level_correlation(dev)
    coef = {n: (c if math.isfinite(c) else 0.0) for n, c in fit.coef.items()}
    resid: dict[tuple[int, ...], float] = {}
    for k, ys in by.items():
        if len(ys) == n_by[k]:  # every seed inside the grid: the mean is known
            pred = (coef["c"] + coef["a"] * math.log(k[0]) + coef["b"] * math.log(k[1])
                    + coef["d"] * k[3] + coef.get("e", 0.0) * k[4])
            resid[k] = float(np.mean(ys)) - pred
    rho_config = _level_correlation(resid)
    rho_grammar = _shared_correlation(dev, lambda k: (*k[:3], k[5]), lambda k: k[3])
    return NoiseModel(sigma, tau, len(keys), len(points), rho_seed, rho_config, rho_grammar)


def _level_correlation(values: Mapping[tuple[int, ...], float]) -> float:
    """Correlation, clipped to ``[0, 1]``, of ``values`` between pairs of keys that differ
    only in the level (index 4 of a key ``(v, m, s, L, level, ...)``)."""
    return _shared_correlation(values, lambda k: k[:4] + k[5:], lambda k: k[4])


def _shared_correlation(values: Mapping[tuple[int, ...], float],
                        group: Callable[[tuple[int, ...]], tuple[int, ...]],
                        member: Callable[[tuple[int, ...]], int]) -> float:
    """Correlation, clipped to ``[0, 1]``, of ``values`` between keys of one ``group``
    (one value per member: values of one member are averaged first)."""
    by: dict[tuple[int, ...], dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for k, x in values.items():
        by[group(k)][member(k)].append(x)
    groups = {g: [float(np.mean(xs)) for xs in members.values()] for g, members in by.items()}
    num = den = 0.0
    for xs in groups.values():
        a = np.asarray(xs)
        if a.size >= 2:
            num += float(a.sum() ** 2 - (a * a).sum())  # sum over ordered pairs i != j
            den += float((a.size - 1) * (a * a).sum())
    return float(min(max(num / den, 0.0), 1.0)) if den > 0 else 0.0


#: The log of a law's scale at a threshold point (``point -> log scale``), what
#: :func:`law_level` and :func:`simulate_points` take for a law.
LogScale = Callable[[ThresholdPoint], float]


def law_level(points: Sequence[ThresholdPoint], log_scale: LogScale) -> float:
    """The constant ``c`` that puts the law at the real rows' level (mean over rows whose
    threshold is inside the grid; the middle of the known bounds if none is)."""
    exact = [p.log_interval[0] - log_scale(p) for p in points
             if p.log_interval[0] == p.log_interval[1]]
    if exact:
        return float(np.mean(exact))
    ends = [b - log_scale(p) for p in points for b in p.log_interval if math.isfinite(b)]
    return float(np.mean(ends)) if ends else 0.0


def simulate_points(
    points: Sequence[ThresholdPoint],
    log_scale: LogScale,
    noise: NoiseModel,
    rng: np.random.Generator,
    *,
    level: float | None = None,
) -> list[ThresholdPoint]:
    """One simulated grid: the real rows' configurations, seeds and ``P`` grids, thresholds
    following ``log_scale`` with the fitted scatter, censored as the real curves would be.

    Parameters
    ----------
    points : sequence of ThresholdPoint
        The real rows (their configurations, seeds and ``P_min`` / ``P_max``).
    log_scale : callable
        ``point -> log scale`` of the law (e.g. :meth:`Law.log_scale`).
    noise : NoiseModel
    rng : numpy.random.Generator
    level : float, optional
        The constant ``c``; default: matched to the real rows (mean of ``log P* - log law``).

    Returns
    -------
    list of ThresholdPoint
    """
    c = law_level(points, log_scale) if level is None else level
    configs = sorted({p.config for p in points})
    u = dict(zip(configs, rng.normal(0.0, noise.tau_config, len(configs)), strict=True))
    e = rng.normal(0.0, noise.sigma_seed, len(points))
    if noise.rho_config > 0 or noise.rho_seed > 0:
        # The levels of one run share part of their noise (drawn after the independent
        # parts, so rows without levels keep the stream they had).
        runs = sorted({p.config[:4] for p in points})
        ur = dict(zip(runs, rng.normal(0.0, noise.tau_config, len(runs)), strict=True))
        seeds = sorted({(*p.config[:4], p.grammar_seed) for p in points})
        er = dict(zip(seeds, rng.normal(0.0, noise.sigma_seed, len(seeds)), strict=True))
        a, b = math.sqrt(noise.rho_config), math.sqrt(1.0 - noise.rho_config)
        u = {k: a * ur[k[:4]] + b * x for k, x in u.items()}
        a, b = math.sqrt(noise.rho_seed), math.sqrt(1.0 - noise.rho_seed)
        e = np.asarray([a * er[(*p.config[:4], p.grammar_seed)] + b * x
                        for p, x in zip(points, e, strict=True)])
    if noise.rho_grammar > 0:
        # The depths of one grammar seed share part of the seed scatter.
        grammars = sorted({(p.v, p.m, p.s, p.grammar_seed) for p in points})
        gr = dict(zip(grammars, rng.normal(0.0, noise.sigma_seed, len(grammars)),
                      strict=True))
        a, b = math.sqrt(noise.rho_grammar), math.sqrt(1.0 - noise.rho_grammar)
        e = np.asarray([a * gr[(p.v, p.m, p.s, p.grammar_seed)] + b * x
                        for p, x in zip(points, e, strict=True)])
    out = []
    for p, eps in zip(points, e, strict=True):
        y = c + log_scale(p) + u[p.config] + eps
        if math.isfinite(p.P_max) and y > math.log(p.P_max):
            P = math.nan  # never crossed inside the grid
        elif math.isfinite(p.P_min) and y <= math.log(p.P_min):
            P = p.P_min  # already past the target at the first grid point
        else:
            P = math.exp(y)
        out.append(ThresholdPoint(p.v, p.m, p.s, p.L, p.level, p.grammar_seed, P,
                                  p.P_min, p.P_max))
    return out


