"""Which rescaling collapses the thresholds: bootstrap over grammar seeds, log-linear fit."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from rhm_theory.constants import DEFAULT_TARGET
from rhm_theory.sweeps.decisions import ComparisonDecision
from rhm_theory.sweeps.laws import CANDIDATES, Rescaling
from rhm_theory.sweeps.runner import row_context
from rhm_theory.sweeps.thresholds import CrossingRule, cell_thresholds
from rhm_theory.validation import check_choice, check_int, check_random_state, check_seed

__all__ = [
    "CANDIDATES",
    "CENSORING_MODES",
    "MAX_MISSING_FRACTION",
    "MIN_CONFIGS",
    "N_BOOTSTRAP",
    "REJECT_FRACTION",
    "WIN_FRACTION",
    "CollapseComparison",
    "LogLinearFit",
    "Offset",
    "Rescaling",
    "ThresholdPoint",
    "censored_scatter",
    "compare_rescalings",
    "config_intervals",
    "interval_regression",
    "loglinear_fit",
    "threshold_points",
]

#: The claim "wins" a comparison when its rescaling has the smallest collapse score in at
#: least this fraction of bootstrap resamples (docs/theory.md section 10; fixed before any run).
WIN_FRACTION = 0.95
#: A rescaling is rejected against another when it collapses worse in at least this
#: fraction of resamples (a one-sided 95% bootstrap test of the score difference).
REJECT_FRACTION = 0.95
#: Bootstrap resamples (the win fractions are then known to about +-0.007 at 0.95).
N_BOOTSTRAP = 1000
#: More runs than this fraction without a threshold in the grid (curve never crossed the
#: target) and the grid cannot decide: the comparison is undecided whatever the scores.
MAX_MISSING_FRACTION = 0.1
#: How :func:`compare_rescalings` reads a threshold the grid did not bracket: ``"missing"``
#: (left out and counted; more than ``MAX_MISSING_FRACTION`` and nothing is decided) or
#: ``"interval"`` (interval data: ``log P*`` above the largest ``P`` or below the smallest,
#: scored by :func:`censored_scatter`).
CENSORING_MODES = ("missing", "interval")
Censoring = Literal["missing", "interval"]
#: Smallest scatter :func:`censored_scatter` returns: data that one law fits exactly (every
#: bound consistent with the exact values) push the maximum-likelihood scatter to 0.
_SCATTER_FLOOR = 1e-6
#: Scores closer than this are a tie in the interval mode (a law that fits exactly and one
#: that fits exactly both sit at the floor; neither beats the other).
_TIE = 1e-4
#: Fewest configurations (cells) a comparison needs: with fewer, a collapse score compares
#: nothing across configurations, so no competitor is rejected and nothing is decided.
MIN_CONFIGS = 3


@dataclass(frozen=True)
class ThresholdPoint:
    """One run's threshold: grammar ``(v, m, s, L, grammar_seed)``, level (0 = every
    non-root level at once) and ``P_star`` (``nan``: the curve never crossed in the grid).

    ``P_min`` and ``P_max`` are the ends of the run's ``P`` grid (``nan`` when unknown): a
    censored threshold is interval data, ``log P*`` in :attr:`log_interval`.
    """

    v: int
    m: int
    s: int
    L: int
    level: int
    grammar_seed: int
    P_star: float
    P_min: float = math.nan
    P_max: float = math.nan

    @property
    def config(self) -> tuple[int, int, int, int, int]:
        """``(v, m, s, L, level)``: the configuration the seeds resample within."""
        return (self.v, self.m, self.s, self.L, self.level)

    @property
    def censored(self) -> bool:
        """Whether the threshold is only bounded: never reached, or past at ``P_min``."""
        lo, hi = self.log_interval
        return lo != hi

    @property
    def log_interval(self) -> tuple[float, float]:
        """``(lo, hi)`` bracketing ``log P*``.

        A crossing inside the grid is a point (``lo == hi``); a curve that never reached
        the target is ``(log P_max, inf)``; a curve already past it at the smallest ``P``
        (``P_star == P_min``) is ``(-inf, log P_min)``. Unknown grid ends give infinite
        bounds (no information), never a value imputed at some scale.
        """
        if not (math.isfinite(self.P_star) and self.P_star > 0):
            lo = math.log(self.P_max) if math.isfinite(self.P_max) and self.P_max > 0 \
                else -math.inf
            return (lo, math.inf)
        if math.isfinite(self.P_min) and self.P_star <= self.P_min:
            return (-math.inf, math.log(self.P_min))
        y = math.log(self.P_star)
        return (y, y)


def threshold_points(
    rows: Iterable[Mapping[str, Any]],
    method: str,
    *,
    per_level: bool = False,
    target: float = DEFAULT_TARGET,
    rule: CrossingRule = "last",
    where: Callable[[Mapping[str, Any]], bool] | None = None,
) -> list[ThresholdPoint]:
    """Thresholds of every run of one method, whole-tree or per level.

    Parameters
    ----------
    rows : iterable of sweep rows
    method : str
        Rows of this ``method`` only.
    per_level : bool
        ``False``: threshold of ``min_accuracy`` (every non-root level, ``level = 0``);
        ``True``: one threshold per level of ``accuracy``.
    target : float
        Accuracy to reach.
    rule : {"last", "first"}
        Crossing rule of :func:`~rhm_theory.sweeps.thresholds.crossing_point`.
    where : callable, optional
        Extra row filter.

    Returns
    -------
    list of ThresholdPoint
    """
    sel = [r for r in rows if row_context(r) == method and (where is None or where(r))]
    out = []
    if per_level:
        levels = sorted({int(r["level"]) for r in sel})
        for lv in levels:
            for t in cell_thresholds(sel, metric="accuracy", target=target, level=lv,
                                     rule=rule):
                out.append(ThresholdPoint(int(t["v"]), int(t["m"]), int(t["s"]), int(t["L"]),
                                          lv, int(t["grammar_seed"]), float(t["P_star"]),
                                          float(t["P_min"]), float(t["P_max"])))
    else:
        for t in cell_thresholds(sel, target=target, rule=rule):
            out.append(ThresholdPoint(int(t["v"]), int(t["m"]), int(t["s"]), int(t["L"]), 0,
                                      int(t["grammar_seed"]), float(t["P_star"]),
                                      float(t["P_min"]), float(t["P_max"])))
    return out


def _groups(points: Sequence[ThresholdPoint]) -> tuple[list[tuple[int, ...]], list[
        npt.NDArray[np.float64]], int]:
    """Finite ``log P*`` per configuration (sorted), and the number of missing runs."""
    by: dict[tuple[int, ...], list[float]] = defaultdict(list)
    missing = 0
    for p in points:
        if math.isfinite(p.P_star) and p.P_star > 0:
            by[p.config].append(math.log(p.P_star))
        else:
            missing += 1
    keys = sorted(by)
    return keys, [np.asarray(by[k]) for k in keys], missing


def _bootstrap_means(
    groups: Sequence[npt.NDArray[np.float64]], n: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """``(n, n_configs)`` means of seeds resampled with replacement within each config."""
    out = np.empty((n, len(groups)))
    for j, g in enumerate(groups):
        idx = rng.integers(0, g.size, size=(n, g.size))
        out[:, j] = g[idx].mean(axis=1)
    return out


@dataclass(frozen=True)
class CollapseComparison:
    """Collapse of ``log P*`` under a claimed rescaling and its competitors, on the same runs.

    The collapse score of a rescaling is the standard deviation over configurations of
    the seed-mean of ``log(P* / scale)`` (0 = perfect collapse). ``win_fraction[name]``
    is the fraction of bootstrap resamples (seeds resampled within each configuration)
    in which ``name`` has the smallest score; ``beats_claim[name]`` the fraction in which
    competitor ``name`` scores below the claim. Competitors whose log scale differs from
    the claim's by a constant on these configurations are ``aliased`` (the grid cannot
    tell them apart: same score in every resample).

    With ``censoring = "interval"`` (see :func:`compare_rescalings`) the score is the
    maximum-likelihood scatter of :func:`censored_scatter`, a resample whose scores lie
    within ``1e-4`` of the claim's is a tie (``ties[name]``: neither law beats the other,
    and a tie does not count towards rejecting either), and ``n_censored`` counts the runs
    used as bounds.
    """

    claim: str
    competitors: tuple[str, ...]
    scores: Mapping[str, float]
    win_fraction: Mapping[str, float]
    beats_claim: Mapping[str, float]
    aliased: tuple[str, ...]
    n_configs: int
    n_runs: int
    n_missing: int
    n_bootstrap: int
    seed: int
    spread_by_k: Mapping[int, float] = field(default_factory=dict)
    censoring: Censoring = "missing"
    ties: Mapping[str, float] = field(default_factory=dict)
    n_censored: int = 0

    def rejected(self, name: str) -> bool:
        """Whether competitor ``name`` collapses worse than the claim in >= REJECT_FRACTION.

        Never with fewer than ``MIN_CONFIGS`` configurations: nothing was compared then.
        """
        if self.n_configs < MIN_CONFIGS or name in self.aliased or name not in self.beats_claim:
            return False
        worse = 1.0 - self.beats_claim[name] - self.ties.get(name, 0.0)
        return worse >= REJECT_FRACTION

    @property
    def best(self) -> str | None:
        """The rescaling with the smallest collapse score (``None`` when nothing was scored)."""
        return min(self.scores, key=lambda k: self.scores[k]) if self.scores else None

    @property
    def claim_rejected_by(self) -> tuple[str, ...]:
        """Competitors that beat the claim in at least ``REJECT_FRACTION`` of resamples."""
        if self.n_configs < MIN_CONFIGS:
            return ()
        return tuple(c for c in self.competitors if self.beats_claim.get(c, 0.0) >= REJECT_FRACTION)

    @property
    def missing_fraction(self) -> float:
        """Fraction of runs whose curve never crossed the target in the grid."""
        total = self.n_runs + self.n_missing
        return self.n_missing / total if total else 1.0

    def decision(self, named: str) -> ComparisonDecision:
        """The rule fixed before any run.

        ``"rejected"`` if a competitor beats the claim in at least ``REJECT_FRACTION`` of
        resamples; ``"claim"`` if the claim wins in at least ``WIN_FRACTION`` of resamples
        and the ``named`` competitor is rejected; else ``"undecided"`` (also when more than
        ``MAX_MISSING_FRACTION`` of the runs have no threshold, or fewer than 3
        configurations exist).
        """
        if self.n_configs < MIN_CONFIGS or self.missing_fraction > MAX_MISSING_FRACTION:
            return "undecided"
        if self.claim_rejected_by:
            return "rejected"
        if self.win_fraction.get(self.claim, 0.0) >= WIN_FRACTION and self.rejected(named):
            return "claim"
        return "undecided"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON reports."""
        return {"claim": self.claim, "competitors": list(self.competitors),
                "scores": dict(self.scores), "win_fraction": dict(self.win_fraction),
                "beats_claim": dict(self.beats_claim), "aliased": list(self.aliased),
                "claim_rejected_by": list(self.claim_rejected_by),
                "n_configs": self.n_configs, "n_runs": self.n_runs,
                "n_missing": self.n_missing, "n_bootstrap": self.n_bootstrap,
                "seed": self.seed,
                "spread_by_k": {str(k): v for k, v in self.spread_by_k.items()},
                "censoring": self.censoring, "ties": dict(self.ties),
                "n_censored": self.n_censored}


def compare_rescalings(
    points: Sequence[ThresholdPoint],
    claim: str,
    competitors: Sequence[str],
    *,
    seed: int = 0,
    n_bootstrap: int = N_BOOTSTRAP,
    censoring: Censoring = "missing",
) -> CollapseComparison:
    """Score the claim and its competitors on the same runs, bootstrapping grammar seeds.

    Parameters
    ----------
    points : sequence of ThresholdPoint
        Per-run thresholds (missing ones are counted, not used).
    claim : str
        Key of :data:`CANDIDATES`.
    competitors : sequence of str
        Keys of :data:`CANDIDATES` (per-level ones need per-level points).
    seed : int
        Seed of the bootstrap's ``np.random.Generator`` (same seed, same fractions).
    n_bootstrap : int
        Resamples.
    censoring : {"missing", "interval"}
        ``"missing"``: a threshold the grid did not bracket is left out and counted (more
        than ``MAX_MISSING_FRACTION`` of them and :meth:`CollapseComparison.decision` is
        undecided). ``"interval"``: it is interval data (``log P*`` above ``log P_max``,
        or below ``log P_min``; :attr:`ThresholdPoint.log_interval`), each configuration's
        seed mean an interval (:func:`config_intervals`), and a rescaling's score the
        maximum-likelihood scatter of those intervals around one constant
        (:func:`censored_scatter`; on uncensored data exactly the ``"missing"`` score).
        Only thresholds without a known grid end are then missing.

    Returns
    -------
    CollapseComparison

    Examples
    --------
    Thresholds exactly ``10 v m^3`` (two seeds each): ``v m^3`` collapses them perfectly.

    >>> pts = [ThresholdPoint(v, m, 2, L, 0, sd, 10.0 * v * m**3 * (1 + 0.01 * sd))
    ...        for v, m in ((8, 2), (16, 4), (12, 3)) for L in (3, 4) for sd in (0, 1)]
    >>> c = compare_rescalings(pts, "v m^3", ["v m^2", "v m^(L+1)"], n_bootstrap=200)
    >>> c.win_fraction["v m^3"], c.rejected("v m^(L+1)"), c.decision("v m^(L+1)")
    (1.0, True, 'claim')

    A learner whose threshold leaves the grid (``P_max = 1e4``) after the first depth:
    counted as missing, nothing is decided; as interval data, the flat law is rejected.

    >>> pts = [ThresholdPoint(8, 3, 2, L, 0, sd, 400.0 * (1 + 0.1 * sd) if L == 3 else
    ...                       math.nan, 100.0, 1e4) for L in (3, 4, 5) for sd in (0, 1)]
    >>> compare_rescalings(pts, "v m^3", ["v m^(L+1)"], n_bootstrap=200).decision("v m^(L+1)")
    'undecided'
    >>> compare_rescalings(pts, "v m^3", ["v m^(L+1)"], n_bootstrap=200,
    ...                    censoring="interval").decision("v m^(L+1)")
    'rejected'
    """
    n_boot = check_int("n_bootstrap", n_bootstrap, minimum=1)
    seed = check_seed("seed", seed)
    mode = check_choice("censoring", censoring, CENSORING_MODES)
    names = [check_choice("claim", claim, tuple(CANDIDATES))]
    for c in competitors:
        names.append(check_choice("competitors", c, tuple(CANDIDATES)))
    if len(set(names)) != len(names):
        raise ValueError("competitors must be distinct and differ from the claim")
    if mode == "interval":
        return _compare_intervals(points, claim, tuple(competitors), names, seed, n_boot)
    keys, groups, missing = _groups(points)
    if any(CANDIDATES[n].per_level for n in names) and any(k[4] == 0 for k in keys):
        raise ValueError("per-level rescalings need per-level thresholds (level >= 1)")
    log_scale = np.array([[CANDIDATES[n].log_scale(*k) for k in keys] for n in names])
    rng = check_random_state(seed)
    n_runs = int(sum(g.size for g in groups))
    if len(keys) < 2:
        nan = {n: math.nan for n in names}
        return CollapseComparison(claim, tuple(competitors), nan, dict.fromkeys(names, 0.0),
                                  dict.fromkeys(competitors, 0.0), (), len(keys), n_runs,
                                  missing, n_boot, seed)
    point = np.array([g.mean() for g in groups])
    scores = (point[None, :] - log_scale).std(axis=1)
    boot = _bootstrap_means(groups, n_boot, rng)  # (n_boot, n_configs)
    # score[b, c] = std over configs of (mean log P* - log scale_c)
    resid = boot[:, None, :] - log_scale[None, :, :]
    bscores = resid.std(axis=2)
    diff = log_scale - log_scale[0]
    aliased = tuple(n for i, n in enumerate(names[1:], start=1) if np.ptp(diff[i]) < 1e-9)
    live = [i for i, n in enumerate(names) if n not in aliased]
    winners = np.asarray(live)[np.argmin(bscores[:, live], axis=1)]
    win = {n: float(np.mean(winners == i)) for i, n in enumerate(names)}
    beats = {n: float(np.mean(bscores[:, i] < bscores[:, 0] - 1e-12))
             for i, n in enumerate(names) if i > 0}
    # Collapse spread against the exponent k of v m^k (for the figure).
    logv = np.array([math.log(k[0]) for k in keys])
    logm = np.array([math.log(k[1]) for k in keys])
    spread = {k: float((point - logv - k * logm).std()) for k in (1, 2, 3, 4, 5, 6)}
    return CollapseComparison(
        claim, tuple(competitors), {n: float(scores[i]) for i, n in enumerate(names)},
        win, beats, aliased, len(keys), n_runs, missing, n_boot, seed, spread)


def censored_scatter(lo: npt.ArrayLike, hi: npt.ArrayLike) -> float:
    """Maximum-likelihood scatter of interval data around one constant.

    The model is ``y_k ~ N(c, sd^2)`` with ``y_k`` known to lie in ``[lo_k, hi_k]``: a
    point when ``lo_k == hi_k``, a half-line when one end is infinite (rows with both ends
    infinite carry no information and are ignored). Returns the maximum-likelihood ``sd``
    (``c`` profiled out): without censoring, the standard deviation of the values
    (``ddof = 0``, the collapse score of :func:`compare_rescalings`); with censoring, the
    Tobit estimate, at least ``1e-6`` (when one constant fits every value and every bound,
    the likelihood grows without limit as ``sd -> 0``; when every row is a bound on the
    same side, nothing measures the scatter and the floor is returned, so that rescalings
    compared on such rows tie).

    >>> censored_scatter([0.0, 2.0], [0.0, 2.0])
    1.0
    >>> censored_scatter([0.0, -1.0], [0.0, math.inf])  # the bound agrees with c = 0
    1e-06
    """
    lo_a = np.asarray(lo, dtype=np.float64)
    hi_a = np.asarray(hi, dtype=np.float64)
    if lo_a.shape != hi_a.shape or lo_a.ndim != 1:
        raise ValueError("censored_scatter: lo and hi must be 1-d arrays of one length")
    keep = np.isfinite(lo_a) | np.isfinite(hi_a)
    lo_a, hi_a = lo_a[keep], hi_a[keep]
    exact = np.isfinite(lo_a) & np.isfinite(hi_a) & (np.abs(hi_a - lo_a) < 1e-12)
    if np.any(np.isfinite(lo_a) & np.isfinite(hi_a) & ~exact):
        raise ValueError("censored_scatter: lo and hi must be equal or a half-line")
    if lo_a.size == 0:
        return math.nan
    if exact.all():
        return max(float(lo_a.std()), 0.0)
    if not exact.any() and (np.isfinite(lo_a).all() or np.isfinite(hi_a).all()):
        # Bounds on one side only: a constant far enough out meets them all with any sd,
        # so nothing measures the scatter; the floor makes every rescaling tie.
        return _SCATTER_FLOOR
    return _tobit_scatter(lo_a, hi_a, exact)


def _tobit_terms(delta: float, gamma: float, y: npt.NDArray[np.float64],
                 a: npt.NDArray[np.float64], b: npt.NDArray[np.float64],
                 ) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Log-likelihood, gradient and Hessian of the intercept-only Tobit model in Olsen's
    parameters ``delta = c / sd``, ``gamma = 1 / sd`` (where it is concave): exact values
    ``y``, values above ``a``, values below ``b``."""
    from scipy.special import log_ndtr

    u = gamma * y - delta
    ll = float(y.size * math.log(gamma) - 0.5 * (u @ u) - y.size * _LOG_SQRT_2PI)
    grad = np.array([u.sum(), y.size / gamma - float(u @ y)])
    H = np.array([[-float(y.size), float(y.sum())],
                  [float(y.sum()), -y.size / gamma**2 - float(y @ y)]])
    for ends, t, sign in ((a, delta - gamma * a, 1.0), (b, gamma * b - delta, -1.0)):
        if ends.size == 0:
            continue
        lcdf = log_ndtr(t)
        lam = np.exp(-0.5 * t * t - _LOG_SQRT_2PI - lcdf)  # phi(t) / Phi(t)
        curv = lam * (t + lam)  # -(d^2/dt^2) log Phi(t), in (0, 1)
        ll += float(lcdf.sum())
        # dt/d(delta) = sign, dt/d(gamma) = -sign * ends
        grad += np.array([sign * lam.sum(), -sign * float(lam @ ends)])
        H -= np.array([[curv.sum(), -float(curv @ ends)],
                       [-float(curv @ ends), float(curv @ (ends * ends))]])
    return ll, grad, H


def _tobit_scatter(lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64],
                   exact: npt.NDArray[np.bool_]) -> float:
    """:func:`censored_scatter` on data with at least one censored row (inputs checked).

    Newton's method in Olsen's (1978) parameters, where the Tobit log-likelihood is concave
    (strictly so with an exact row), with backtracking; ``gamma = 1 / sd`` is capped at
    ``1 / floor`` (the supremum lies at ``sd -> 0`` when one constant fits everything).
    """
    y = lo[exact]
    a = lo[~exact & np.isfinite(lo)]
    b = hi[~exact & ~np.isfinite(lo)]
    if y.size == 0:  # bounds on both sides and no value: rare, the general optimiser
        return _tobit_scatter_general(lo, hi, exact)
    sd0 = max(float(y.std()), 0.1)
    theta = np.array([float(y.mean()) / sd0, 1.0 / sd0])
    g_max = 1.0 / _SCATTER_FLOOR
    ll, grad, H = _tobit_terms(theta[0], theta[1], y, a, b)
    for _ in range(200):
        try:
            step = -np.linalg.solve(H, grad)
        except np.linalg.LinAlgError:
            step = grad
        slope = float(grad @ step)
        if slope <= 1e-14:
            break
        t = 1.0
        while True:
            new = theta + t * step
            new[1] = min(max(new[1], 1e-12), g_max)
            ll_new, grad_new, H_new = _tobit_terms(new[0], new[1], y, a, b)
            if ll_new >= ll + 1e-4 * t * slope or t < 1e-10:
                break
            t *= 0.5
        if ll_new <= ll + 1e-15 and t < 1e-10:
            break
        theta, ll, grad, H = new, ll_new, grad_new, H_new
        if theta[1] >= g_max and grad[1] > 0:
            return _SCATTER_FLOOR  # still climbing at the cap: the supremum is at sd -> 0
    return _SCATTER_FLOOR if theta[1] >= g_max * (1 - 1e-9) else 1.0 / float(theta[1])


def _tobit_scatter_general(lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64],
                           exact: npt.NDArray[np.bool_]) -> float:
    """:func:`censored_scatter` without exact rows (bounds on both sides): L-BFGS-B."""
    from scipy.optimize import minimize

    X = np.ones((lo.size, 1))
    ends = np.where(np.isfinite(lo), lo, hi)
    sd0 = max(float(ends.std()), 0.1)
    res = minimize(_interval_nll_grad, np.array([float(ends.mean()), math.log(sd0)]),
                   args=(X, lo, hi, exact), jac=True, method="L-BFGS-B",
                   bounds=[(None, None), (math.log(_SCATTER_FLOOR), math.log(1e3))])
    sd = math.exp(float(res.x[-1]))
    # At the floor exp(log(floor)) is off by an ulp: return the floor itself.
    return _SCATTER_FLOOR if sd <= _SCATTER_FLOOR * (1 + 1e-9) else sd


def _compare_intervals(
    points: Sequence[ThresholdPoint], claim: str, competitors: tuple[str, ...],
    names: Sequence[str], seed: int, n_boot: int,
) -> CollapseComparison:
    """:func:`compare_rescalings` with ``censoring = "interval"`` (arguments checked)."""
    by: dict[tuple[int, ...], list[tuple[float, float]]] = defaultdict(list)
    missing = censored = 0
    for p in points:
        lo, hi = p.log_interval
        if not (math.isfinite(lo) or math.isfinite(hi)):
            missing += 1
            continue
        censored += p.censored
        by[p.config].append((lo, hi))
    keys = sorted(by)
    n_runs = sum(len(v) for v in by.values())
    if any(CANDIDATES[n].per_level for n in names) and any(k[4] == 0 for k in keys):
        raise ValueError("per-level rescalings need per-level thresholds (level >= 1)")
    if len(keys) < 2:
        nan = {n: math.nan for n in names}
        return CollapseComparison(claim, competitors, nan, dict.fromkeys(names, 0.0),
                                  dict.fromkeys(competitors, 0.0), (), len(keys), n_runs,
                                  missing, n_boot, seed, censoring="interval",
                                  n_censored=censored)
    log_scale = np.array([[CANDIDATES[n].log_scale(*k) for k in keys] for n in names])
    los = [np.array([a for a, _ in by[k]]) for k in keys]
    his = [np.array([b for _, b in by[k]]) for k in keys]
    cache: dict[bytes, npt.NDArray[np.float64]] = {}

    def scores(lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64]
               ) -> npt.NDArray[np.float64]:
        # Few seeds give few distinct resamples: score each distinct one once.
        key = lo.tobytes() + hi.tobytes()
        if key not in cache:
            cache[key] = np.array([censored_scatter(lo - ls, hi - ls) for ls in log_scale])
        return cache[key]

    point_lo = np.array([g.mean() for g in los])
    point_hi = np.array([g.mean() for g in his])
    point = scores(point_lo, point_hi)
    rng = check_random_state(seed)
    boot = np.empty((n_boot, len(names)))
    idx = [rng.integers(0, g.size, size=(n_boot, g.size)) for g in los]
    for b in range(n_boot):
        lo_b = np.array([g[i[b]].mean() for g, i in zip(los, idx, strict=True)])
        hi_b = np.array([g[i[b]].mean() for g, i in zip(his, idx, strict=True)])
        boot[b] = scores(lo_b, hi_b)
    diff = log_scale - log_scale[0]
    aliased = tuple(n for i, n in enumerate(names[1:], start=1) if np.ptp(diff[i]) < 1e-9)
    live = [i for i, n in enumerate(names) if n not in aliased]
    win: dict[str, float] = {}
    for i, n in enumerate(names):
        others = [j for j in live if j != i]
        if i not in live or not others:
            win[n] = float(i in live)
            continue
        win[n] = float(np.mean(boot[:, i] < boot[:, others].min(axis=1) - _TIE))
    beats = {n: float(np.mean(boot[:, i] < boot[:, 0] - _TIE))
             for i, n in enumerate(names) if i > 0}
    ties = {n: float(np.mean(np.abs(boot[:, i] - boot[:, 0]) <= _TIE))
            for i, n in enumerate(names) if i > 0}
    exact = point_lo == point_hi
    logv = np.array([math.log(k[0]) for k in keys])[exact]
    logm = np.array([math.log(k[1]) for k in keys])[exact]
    spread = ({k: float((point_lo[exact] - logv - k * logm).std()) for k in (1, 2, 3, 4, 5, 6)}
              if exact.any() else {})
    return CollapseComparison(
        claim, competitors, {n: float(point[i]) for i, n in enumerate(names)}, win, beats,
        aliased, len(keys), n_runs, missing, n_boot, seed, spread, censoring="interval",
        ties=ties, n_censored=censored)


@dataclass(frozen=True)
class LogLinearFit:
    """``log P* = c + a log v + b log m + d L`` (optionally ``+ e l``) with 95% intervals.

    Fitted on configuration means (seeds averaged), censored configurations as interval
    data; the intervals are Student-t intervals whose variance is the scatter of the
    configuration means around the fit, so scatter between configurations (not only
    between seeds) widens them (see :func:`loglinear_fit`). ``offset`` names the
    rescaling subtracted from ``log P*`` before the fit (``None``: none); ``se`` the
    standard errors, ``df`` the degrees of freedom of the t quantile. ``n_clusters`` is the
    number of runs the intervals treat as independent when they are cluster-robust (the
    per-level fit: the levels of one run share its noise), else 0; the t quantile of each
    coefficient then has its own degrees of freedom, ``df_by_coef`` (``df`` is their
    minimum, rounded down).
    """

    coef: Mapping[str, float]
    low: Mapping[str, float]
    high: Mapping[str, float]
    n_runs: int
    n_bootstrap: int = 0
    se: Mapping[str, float] = field(default_factory=dict)
    df: int = 0
    n_configs: int = 0
    n_censored_configs: int = 0
    residual_sd: float = math.nan
    offset: str | None = None
    n_clusters: int = 0
    df_by_coef: Mapping[str, float] = field(default_factory=dict)

    def contains(self, name: str, value: float) -> bool:
        """Whether ``value`` lies in the 95% interval of coefficient ``name``."""
        return bool(self.low[name] <= value <= self.high[name])

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON reports."""
        return {"coef": dict(self.coef), "low": dict(self.low), "high": dict(self.high),
                "se": dict(self.se), "df": self.df, "n_runs": self.n_runs,
                "n_configs": self.n_configs, "n_censored_configs": self.n_censored_configs,
                "residual_sd": self.residual_sd, "offset": self.offset,
                "n_bootstrap": self.n_bootstrap, "n_clusters": self.n_clusters,
                "df_by_coef": dict(self.df_by_coef)}


#: What :func:`loglinear_fit` may subtract from ``log P*``: a key of :data:`CANDIDATES` or a
#: callable ``point -> log scale`` (e.g. :meth:`rhm_theory.sweeps.calibration.Law.log_scale`).
Offset = str | Callable[[ThresholdPoint], float] | None


def _offset_fn(offset: Offset) -> Callable[[ThresholdPoint], float] | None:
    if offset is None or callable(offset):
        return offset
    r = CANDIDATES[check_choice("offset", str(offset), tuple(CANDIDATES))]
    return lambda p: r.log_scale(p.v, p.m, p.s, p.L, p.level)


def config_intervals(
    points: Sequence[ThresholdPoint], offset: Offset = None,
) -> tuple[list[tuple[int, ...]], npt.NDArray[np.float64], npt.NDArray[np.float64], int]:
    """Per configuration, the interval that holds the mean over seeds of ``log P*``.

    Each seed's ``log P*`` lies in its :attr:`ThresholdPoint.log_interval`, so the seed
    mean lies between the means of the lower and of the upper ends: a point when no seed is
    censored, a half-line when one is (never a value imputed at any scale). ``offset`` (a
    key of :data:`CANDIDATES` or a callable ``point -> log scale``) is subtracted. Returns
    ``(configs, lo, hi, n_runs)``.
    """
    by: dict[tuple[int, ...], list[tuple[float, float]]] = defaultdict(list)
    fn = _offset_fn(offset)
    for p in points:
        lo, hi = p.log_interval
        if fn is not None:
            shift = fn(p)
            lo, hi = lo - shift, hi - shift
        by[p.config].append((lo, hi))
    keys = sorted(by)
    lo_arr = np.array([np.mean([a for a, _ in by[k]]) for k in keys], dtype=np.float64)
    hi_arr = np.array([np.mean([b for _, b in by[k]]) for k in keys], dtype=np.float64)
    return keys, lo_arr, hi_arr, sum(len(v) for v in by.values())


_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
#: Half-width added to every interval of :func:`loglinear_fit` (floating-point round-off).
_ROUNDOFF = 1e-9


def _interval_scores(
    theta: npt.NDArray[np.float64], X: npt.NDArray[np.float64],
    lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64], exact: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per-row log-likelihood of ``y ~ N(X beta, sd^2)`` seen as intervals, and per-row
    scores (gradients in ``(beta, log sd)``, one row each). Censored rows are half-lines
    (``lo`` or ``hi`` infinite)."""
    from scipy.special import log_ndtr

    beta, log_sd = theta[:-1], float(theta[-1])
    sd = math.exp(log_sd)
    mu = X @ beta
    ll = np.zeros(mu.shape[0])
    g_mu = np.zeros_like(mu)  # d ll_i / d mu_i
    g_ls = np.zeros_like(mu)  # d ll_i / d log sd
    z = (lo[exact] - mu[exact]) / sd
    ll[exact] = -0.5 * z * z - (log_sd + _LOG_SQRT_2PI)
    g_mu[exact] = z / sd
    g_ls[exact] = z * z - 1.0
    right = ~exact & np.isfinite(lo)  # log P* > lo
    if right.any():
        a = (lo[right] - mu[right]) / sd
        lsurv = log_ndtr(-a)
        lam = np.exp(-0.5 * a * a - _LOG_SQRT_2PI - lsurv)  # phi(a) / (1 - Phi(a))
        ll[right] = lsurv
        g_mu[right] = lam / sd
        g_ls[right] = lam * a
    left = ~exact & ~np.isfinite(lo)  # log P* < hi
    if left.any():
        b = (hi[left] - mu[left]) / sd
        lcdf = log_ndtr(b)
        lam = np.exp(-0.5 * b * b - _LOG_SQRT_2PI - lcdf)  # phi(b) / Phi(b)
        ll[left] = lcdf
        g_mu[left] = -lam / sd
        g_ls[left] = -lam * b
    return ll, np.column_stack([X * g_mu[:, None], g_ls])


def _interval_nll_grad(
    theta: npt.NDArray[np.float64], X: npt.NDArray[np.float64],
    lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64], exact: npt.NDArray[np.bool_],
) -> tuple[float, npt.NDArray[np.float64]]:
    """Negative log-likelihood of the interval data and its gradient in ``(beta, log sd)``."""
    ll, scores = _interval_scores(theta, X, lo, hi, exact)
    return -float(ll.sum()), -scores.sum(axis=0)


def _inv_sqrt_psd(A: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """``A^(-1/2)`` of a symmetric positive semi-definite matrix (pseudo-inverse on its null
    space: a cluster that alone determines a coefficient leaves it out)."""
    w, V = np.linalg.eigh(A)
    inv = np.where(w > 1e-10, 1.0 / np.sqrt(np.maximum(w, 1e-300)), 0.0)
    return np.asarray((V * inv) @ V.T, dtype=np.float64)


def _cluster_df(X: npt.NDArray[np.float64], gid: npt.NDArray[np.int64],
                ) -> tuple[npt.NDArray[np.float64], list[npt.NDArray[np.float64]]]:
    """Per coefficient, the Imbens-Kolesar (2016) degrees of freedom of a CR2 interval, and
    the CR2 adjustments ``(I - H_gg)^(-1/2)`` per group.

    With groups of unequal size (runs of different depth hold different numbers of levels)
    the cluster-robust variance has fewer effective degrees of freedom than ``G - 1``; this
    is the Satterthwaite count ``tr(G'G)^2 / tr((G'G)^2)`` under homoskedastic errors.
    """
    n, k = X.shape
    bread = np.linalg.inv(X.T @ X)
    M = np.eye(n) - X @ bread @ X.T
    n_groups = int(gid.max(initial=-1)) + 1
    rows = [gid == g for g in range(n_groups)]
    adj = [_inv_sqrt_psd(M[np.ix_(r, r)]) for r in rows]
    dfs = np.empty(k)
    for j in range(k):
        cols = np.column_stack([M[:, r] @ (a @ (X[r] @ bread[:, j]))
                                for r, a in zip(rows, adj, strict=True)])
        GG = cols.T @ cols
        tr2 = float(np.trace(GG @ GG))
        dfs[j] = float(np.trace(GG)) ** 2 / tr2 if tr2 > 0 else float(n_groups - 1)
    return np.minimum(dfs, n_groups - 1), adj


def _cluster_ids(groups: Sequence[Any] | None, n: int) -> npt.NDArray[np.int64] | None:
    if groups is None:
        return None
    if len(groups) != n:
        raise ValueError(f"groups must have one entry per row ({n}), got {len(groups)}")
    index: dict[Any, int] = {}
    return np.asarray([index.setdefault(g, len(index)) for g in groups], dtype=np.int64)


def interval_regression(
    X: npt.NDArray[np.float64], lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64],
    groups: Sequence[Any] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float, int]:
    """Normal linear regression on interval data: ``(beta, se, residual sd, df)``.

    Rows with ``lo == hi`` are exact; the others are half-lines (``hi`` infinite: the value
    is above ``lo``; ``lo`` infinite: below ``hi``). Without censoring this is ordinary
    least squares with the unbiased residual variance (exact Student-t intervals under the
    normal model). With censoring it is the maximum-likelihood fit of an interval-censored
    (Tobit) model; the standard errors come from the observed information (Hessian of the
    analytic gradient by central differences), scaled by ``n / (n - p)`` like the unbiased
    variance. ``df`` is ``n - p``.

    ``groups`` (one label per row) makes the standard errors cluster-robust: rows of one
    group may share their noise (the levels of one run share its grammar and its data), so
    the variance is the sandwich of the per-group score sums. Without censoring the
    residuals are first corrected by ``(I - H_gg)^(-1/2)`` (CR2, Bell and McCaffrey 2002);
    with censoring the score sums are scaled by ``G / (G - 1)`` (CR1). ``df`` is then the
    smallest over the coefficients of the Imbens-Kolesar degrees of freedom (rounded down,
    at most ``G - 1``); :func:`loglinear_fit` uses each coefficient's own.
    """
    beta, se, sd, dfs = _regression(X, lo, hi, groups)
    return beta, se, sd, math.floor(float(dfs.min(initial=math.inf))) if dfs.size else 0


def _regression(
    X: npt.NDArray[np.float64], lo: npt.NDArray[np.float64], hi: npt.NDArray[np.float64],
    groups: Sequence[Any] | None = None,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], float, npt.NDArray[np.float64]]:
    """:func:`interval_regression` with one ``df`` per coefficient."""
    n, k = X.shape
    exact = np.isfinite(lo) & np.isfinite(hi) & (np.abs(hi - lo) < 1e-12)
    if np.any(np.isfinite(lo) & np.isfinite(hi) & ~exact):
        raise ValueError("interval_regression: lo and hi must be equal or a half-line")
    gid = _cluster_ids(groups, n)
    n_groups = 0 if gid is None else int(gid.max(initial=-1)) + 1
    adj: list[npt.NDArray[np.float64]] = []
    if gid is None:
        dfs = np.full(k, float(n - k))
    else:
        dfs, adj = _cluster_df(X, gid)
    if exact.all():
        beta, *_ = np.linalg.lstsq(X, lo, rcond=None)
        resid = lo - X @ beta
        s2 = float(resid @ resid) / (n - k) if n > k else math.nan
        bread = np.linalg.inv(X.T @ X)
        if gid is None:
            cov = s2 * bread
        else:
            meat = np.zeros((k, k))
            for g in range(n_groups):
                rows = gid == g
                sg = X[rows].T @ (adj[g] @ resid[rows])
                meat += np.outer(sg, sg)
            cov = bread @ meat @ bread
        return (np.asarray(beta, dtype=np.float64),
                np.asarray(np.sqrt(np.maximum(np.diag(cov), 0.0)), dtype=np.float64),
                math.sqrt(s2), dfs)
    from scipy.optimize import minimize

    # Start from least squares on the known ends (the exact value, else the bound).
    y0 = np.where(np.isfinite(lo), lo, hi)
    beta0, *_ = np.linalg.lstsq(X, y0, rcond=None)
    r0 = y0 - X @ beta0
    sd0 = max(float(np.sqrt(r0 @ r0 / max(n - k, 1))), 0.05)
    theta0 = np.append(beta0, math.log(sd0))
    res = minimize(_interval_nll_grad, theta0, args=(X, lo, hi, exact), jac=True,
                   method="BFGS")
    theta = res.x
    h = 1e-5
    H = np.empty((k + 1, k + 1))
    for i in range(k + 1):
        e = np.zeros(k + 1)
        e[i] = h
        H[i] = (_interval_nll_grad(theta + e, X, lo, hi, exact)[1]
                - _interval_nll_grad(theta - e, X, lo, hi, exact)[1]) / (2 * h)
    H = 0.5 * (H + H.T)
    try:
        Hinv = np.linalg.inv(H)
        if gid is None:
            cov = Hinv[:k, :k] * (n / max(n - k, 1))
        else:
            scores = _interval_scores(theta, X, lo, hi, exact)[1]
            sums = np.zeros((n_groups, k + 1))
            np.add.at(sums, gid, scores)
            full = Hinv @ (sums.T @ sums) @ Hinv * (n_groups / max(n_groups - 1, 1))
            cov = full[:k, :k]
        se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    except np.linalg.LinAlgError:
        se = np.full(k, math.inf)
    se = np.where(np.isfinite(se) & (se > 0), se, math.inf)
    return theta[:k], se, math.exp(float(theta[-1])), dfs


def loglinear_fit(
    points: Sequence[ThresholdPoint],
    *,
    with_level: bool = False,
    seed: int = 0,
    n_bootstrap: int = N_BOOTSTRAP,
    offset: Offset = None,
    confidence: float = 0.95,
    cluster: bool | None = None,
) -> LogLinearFit:
    """Fit ``log P* = c + a log v + b log m + d L (+ e l)`` with honest 95% intervals.

    The fit is on configuration means (:func:`config_intervals`: seeds averaged, censored
    configurations as interval data, :func:`interval_regression`), and the interval of
    each coefficient is a Student-t interval with the residual scatter of the configuration
    means. That scatter holds both the noise between grammar seeds and the deviations of
    each configuration from the law, so the intervals cover the truth at their nominal
    level when the configurations scatter around the law (the seed bootstrap used before
    this change resampled only seeds and covered 80-86% of the time, issue 17).
    Coefficients the grid cannot identify (a column without variation) are ``nan``.

    Parameters
    ----------
    points : sequence of ThresholdPoint
    with_level : bool
        Add the level column ``e l`` (per-level thresholds).
    seed, n_bootstrap : int
        Kept for backwards compatibility (the intervals are no longer a bootstrap; both are
        validated and ignored; ``n_bootstrap`` is reported as 0).
    offset : str or callable, optional
        Key of :data:`CANDIDATES` (or a callable ``point -> log scale``) subtracted from
        ``log P*`` first (fit of the residual of a claimed rescaling: every coefficient
        but ``c`` is then 0 under the claim).
    confidence : float
        Level of the two-sided intervals.
    cluster : bool, optional
        Cluster-robust intervals with the run ``(v, m, s, L)`` as the cluster
        (:func:`interval_regression` with ``groups``; ``df`` is then the number of runs
        minus one). Default: ``with_level``. The levels of one run come from the same
        grammars and data, so their thresholds share noise; intervals that count each level
        as an independent configuration were too narrow (a per-level check FAILed its own
        claim on rows that followed it, issue 17).

    Examples
    --------
    >>> pts = [ThresholdPoint(v, m, 2, L, 0, sd, 7.0 * v * m**3 * 1.1**sd)
    ...        for v, m in ((8, 2), (16, 2), (12, 3)) for L in (3, 4) for sd in (0, 1)]
    >>> fit = loglinear_fit(pts)
    >>> [round(fit.coef[k], 6) + 0.0 for k in ("a", "b", "d")]  # + 0.0: no "-0.0"
    [1.0, 3.0, 0.0]
    """
    from scipy.special import stdtrit

    check_int("n_bootstrap", n_bootstrap, minimum=1)
    check_seed("seed", seed)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must satisfy 0 < confidence < 1, got {confidence}")
    offset_name = None if offset is None else (offset if isinstance(offset, str)
                                               else getattr(offset, "__qualname__", "law"))
    keys, lo, hi, n_runs = config_intervals(points, offset)
    names = ["c", "a", "b", "d"] + (["e"] if with_level else [])
    # Configurations with no information at all (both ends infinite) carry none.
    keep = np.isfinite(lo) | np.isfinite(hi)
    keys = [k for k, ok in zip(keys, keep, strict=True) if ok]
    lo, hi = lo[keep], hi[keep]
    X = np.asarray([[1.0, math.log(k[0]), math.log(k[1]), float(k[3])]
                    + ([float(k[4])] if with_level else []) for k in keys],
                   dtype=np.float64).reshape(len(keys), len(names))
    ident = [i == 0 or (X.shape[0] > 0 and np.ptp(X[:, i]) > 0) for i in range(len(names))]
    cols = [i for i, ok in enumerate(ident) if ok]
    nan = dict.fromkeys(names, math.nan)
    n_cens = int(np.sum(~(np.isclose(lo, hi) & np.isfinite(lo))))
    clustered = with_level if cluster is None else cluster
    groups = [k[:4] for k in keys] if clustered else None
    n_clusters = len(set(groups)) if groups is not None else 0
    if (len(keys) <= len(cols) or np.linalg.matrix_rank(X[:, cols]) < len(cols)
            or (groups is not None and n_clusters < 2)):
        return LogLinearFit(nan, nan, nan, n_runs, 0, nan, 0, len(keys), n_cens,
                            math.nan, offset_name, n_clusters)
    beta, se, sd, dfs = _regression(X[:, cols], lo, hi, groups)
    df = math.floor(float(dfs.min()))
    full, low, high, ses = dict(nan), dict(nan), dict(nan), dict(nan)
    for j, i in enumerate(cols):
        q = float(stdtrit(dfs[j], 0.5 + confidence / 2))
        # Round-off: a coefficient the rows fix exactly (standard error 0, e.g. the level
        # slope when a run's levels share all their noise) still contains its true value.
        half = q * se[j] + _ROUNDOFF * (1.0 + abs(float(beta[j])))
        full[names[i]] = float(beta[j])
        ses[names[i]] = float(se[j])
        low[names[i]] = float(beta[j] - half)
        high[names[i]] = float(beta[j] + half)
    return LogLinearFit(full, low, high, n_runs, 0, ses, df, len(keys), n_cens, sd,
                        offset_name, n_clusters,
                        {names[i]: float(dfs[j]) for j, i in enumerate(cols)})
