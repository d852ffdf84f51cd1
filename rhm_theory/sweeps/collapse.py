"""Which rescaling collapses the thresholds: bootstrap over grammar seeds, log-linear fit."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from rhm_theory.sweeps.thresholds import CrossingRule, cell_thresholds
from rhm_theory.validation import check_choice, check_int, check_random_state, check_seed

__all__ = [
    "CANDIDATES",
    "MAX_MISSING_FRACTION",
    "MIN_CONFIGS",
    "N_BOOTSTRAP",
    "REJECT_FRACTION",
    "WIN_FRACTION",
    "CollapseComparison",
    "LogLinearFit",
    "Rescaling",
    "ThresholdPoint",
    "compare_rescalings",
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
#: Fewest configurations (cells) a comparison needs: with fewer, a collapse score compares
#: nothing across configurations, so no competitor is rejected and nothing is decided.
MIN_CONFIGS = 3


@dataclass(frozen=True)
class Rescaling:
    """A candidate sample-complexity scale ``P* ~ scale(v, m, s, L, level)``.

    ``per_level`` rescalings need the level of the threshold (a per-level threshold);
    the others apply to whole-tree thresholds as well.
    """

    name: str
    log_scale: Callable[[int, int, int, int, int], float]
    per_level: bool = False


def _power(k: int) -> Rescaling:
    return Rescaling(f"v m^{k}", lambda v, m, s, L, lv: math.log(v) + k * math.log(m))


#: Named candidate rescalings of a threshold (docs/theory.md section 4 table and issue 9):
#: ``v m^k`` for k = 2..5, the label scale ``v m^L``, the token top-level scale
#: ``v m^(L+1)``, the token level-``l`` scale ``v m^(l+2)``, and "occurrences per tuple":
#: ``P s^(L-l) / (v m)`` constant, i.e. scale ``v m / s^(L-l)`` (pooling over the
#: ``s^(L-l)`` level-``l`` nodes of a string).
CANDIDATES: dict[str, Rescaling] = {
    **{r.name: r for r in (_power(k) for k in (2, 3, 4, 5))},
    "v m^L": Rescaling("v m^L", lambda v, m, s, L, lv: math.log(v) + L * math.log(m)),
    "v m^(L+1)": Rescaling("v m^(L+1)",
                           lambda v, m, s, L, lv: math.log(v) + (L + 1) * math.log(m)),
    "v m^(l+2)": Rescaling("v m^(l+2)",
                           lambda v, m, s, L, lv: math.log(v) + (lv + 2) * math.log(m),
                           per_level=True),
    "occurrences P s^(L-l)/(v m)": Rescaling(
        "occurrences P s^(L-l)/(v m)",
        lambda v, m, s, L, lv: math.log(v) + math.log(m) - (L - lv) * math.log(s),
        per_level=True),
}


@dataclass(frozen=True)
class ThresholdPoint:
    """One run's threshold: grammar ``(v, m, s, L, grammar_seed)``, level (0 = every
    non-root level at once) and ``P_star`` (``nan``: the curve never crossed in the grid)."""

    v: int
    m: int
    s: int
    L: int
    level: int
    grammar_seed: int
    P_star: float

    @property
    def config(self) -> tuple[int, int, int, int, int]:
        """``(v, m, s, L, level)``: the configuration the seeds resample within."""
        return (self.v, self.m, self.s, self.L, self.level)


def threshold_points(
    rows: Iterable[Mapping[str, Any]],
    method: str,
    *,
    per_level: bool = False,
    target: float = 0.95,
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
    sel = [r for r in rows if r["method"] == method and (where is None or where(r))]
    out = []
    if per_level:
        levels = sorted({int(r["level"]) for r in sel})
        for lv in levels:
            for t in cell_thresholds(sel, metric="accuracy", target=target, level=lv,
                                     rule=rule):
                out.append(ThresholdPoint(int(t["v"]), int(t["m"]), int(t["s"]), int(t["L"]),
                                          lv, int(t["grammar_seed"]), float(t["P_star"])))
    else:
        for t in cell_thresholds(sel, target=target, rule=rule):
            out.append(ThresholdPoint(int(t["v"]), int(t["m"]), int(t["s"]), int(t["L"]), 0,
                                      int(t["grammar_seed"]), float(t["P_star"])))
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

    def rejected(self, name: str) -> bool:
        """Whether competitor ``name`` collapses worse than the claim in >= REJECT_FRACTION.

        Never with fewer than ``MIN_CONFIGS`` configurations: nothing was compared then.
        """
        if self.n_configs < MIN_CONFIGS or name in self.aliased or name not in self.beats_claim:
            return False
        return 1.0 - self.beats_claim[name] >= REJECT_FRACTION

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

    def decision(self, named: str) -> Literal["claim", "rejected", "undecided"]:
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
                "spread_by_k": {str(k): v for k, v in self.spread_by_k.items()}}


def compare_rescalings(
    points: Sequence[ThresholdPoint],
    claim: str,
    competitors: Sequence[str],
    *,
    seed: int = 0,
    n_bootstrap: int = N_BOOTSTRAP,
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
    """
    n_boot = check_int("n_bootstrap", n_bootstrap, minimum=1)
    seed = check_seed("seed", seed)
    names = [check_choice("claim", claim, tuple(CANDIDATES))]
    for c in competitors:
        names.append(check_choice("competitors", c, tuple(CANDIDATES)))
    if len(set(names)) != len(names):
        raise ValueError("competitors must be distinct and differ from the claim")
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


@dataclass(frozen=True)
class LogLinearFit:
    """``log P* = c + a log v + b log m + d L`` (optionally ``+ e l``) with bootstrap
    95% percentile intervals over grammar seeds."""

    coef: Mapping[str, float]
    low: Mapping[str, float]
    high: Mapping[str, float]
    n_runs: int
    n_bootstrap: int

    def contains(self, name: str, value: float) -> bool:
        """Whether ``value`` lies in the 95% interval of coefficient ``name``."""
        return bool(self.low[name] <= value <= self.high[name])

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON reports."""
        return {"coef": dict(self.coef), "low": dict(self.low), "high": dict(self.high),
                "n_runs": self.n_runs, "n_bootstrap": self.n_bootstrap}


def loglinear_fit(
    points: Sequence[ThresholdPoint],
    *,
    with_level: bool = False,
    seed: int = 0,
    n_bootstrap: int = N_BOOTSTRAP,
) -> LogLinearFit:
    """Least-squares ``log P* = c + a log v + b log m + d L (+ e l)``, bootstrap intervals.

    Each resample draws the seeds of every configuration with replacement and refits;
    the interval is the 2.5 and 97.5 percentiles. Coefficients the grid cannot identify
    (a column without variation) are ``nan``.

    Examples
    --------
    >>> pts = [ThresholdPoint(v, m, 2, L, 0, sd, 7.0 * v * m**3 * 1.1**sd)
    ...        for v, m in ((8, 2), (16, 2), (12, 3)) for L in (3, 4) for sd in (0, 1)]
    >>> fit = loglinear_fit(pts, n_bootstrap=50)
    >>> [round(fit.coef[k], 6) + 0.0 for k in ("a", "b", "d")]  # + 0.0: no "-0.0"
    [1.0, 3.0, 0.0]
    """
    n_boot = check_int("n_bootstrap", n_bootstrap, minimum=1)
    seed = check_seed("seed", seed)
    keys, groups, _ = _groups(points)
    names = ["c", "a", "b", "d"] + (["e"] if with_level else [])

    def design(ks: Sequence[tuple[int, ...]]) -> npt.NDArray[np.float64]:
        cols = [[1.0, math.log(k[0]), math.log(k[1]), float(k[3])] + ([float(k[4])]
                if with_level else []) for k in ks]
        return np.asarray(cols, dtype=np.float64).reshape(len(ks), len(names))

    rows = [k for k, g in zip(keys, groups, strict=True) for _ in range(g.size)]
    y = np.concatenate(groups) if groups else np.empty(0)
    X = design(rows)
    ident = [i == 0 or (X.shape[0] > 0 and np.ptp(X[:, i]) > 0) for i in range(len(names))]
    cols = [i for i, ok in enumerate(ident) if ok]
    nan = dict.fromkeys(names, math.nan)
    if len(rows) <= len(cols):
        return LogLinearFit(nan, nan, nan, len(rows), n_boot)
    Xc = X[:, cols]
    rank_ok = np.linalg.matrix_rank(Xc) == len(cols)
    if not rank_ok:
        return LogLinearFit(nan, nan, nan, len(rows), n_boot)
    coef = np.linalg.lstsq(Xc, y, rcond=None)[0]
    rng = check_random_state(seed)
    draws = np.empty((n_boot, len(cols)))
    starts = np.cumsum([0] + [g.size for g in groups])
    for b in range(n_boot):
        idx = np.concatenate([starts[j] + rng.integers(0, g.size, size=g.size)
                              for j, g in enumerate(groups)])
        draws[b] = np.linalg.lstsq(Xc[idx], y[idx], rcond=None)[0]
    lo, hi = np.percentile(draws, [2.5, 97.5], axis=0)
    full = {n: math.nan for n in names}
    low, high = dict(full), dict(full)
    for j, i in enumerate(cols):
        full[names[i]] = float(coef[j])
        low[names[i]] = float(lo[j])
        high[names[i]] = float(hi[j])
    return LogLinearFit(full, low, high, len(rows), n_boot)
