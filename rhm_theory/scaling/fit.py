"""Log-linear fits of thresholds: interval-censored, cluster-robust regression."""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from rhm_theory.scaling.law import Law
from rhm_theory.scaling.threshold import ThresholdPoint

__all__ = [
    "AXIS_COLUMNS",
    "LogLinearFit",
    "Offset",
    "config_intervals",
    "interval_regression",
    "loglinear_fit",
    "run_intervals",
    "shares_grammar_seeds",
]

#: The coefficients of the fit ``log P* - log law = c + a log v + b log m + d L (+ e l)``
#: and the axis each one measures.
AXIS_COLUMNS: dict[str, str] = {"a": "v", "b": "m", "d": "L", "e": "l"}


@dataclass(frozen=True)
class LogLinearFit:
    """``log P* = c + a log v + b log m + d L`` (optionally ``+ e l``) with 95% intervals.

    Fitted on one row per run (each its own interval when censored) with cluster-robust
    intervals, the configuration as the cluster, so scatter between configurations (not
    only between seeds) widens them (see :func:`loglinear_fit`). ``offset`` names the
    law subtracted from ``log P*`` before the fit (``None``: none); ``se`` the
    standard errors, ``df`` the degrees of freedom of the t quantile. ``n_clusters`` is the
    number of clusters the intervals treat as independent when they are cluster-robust,
    else 0; the t quantile of each coefficient then has its own degrees of freedom,
    ``df_by_coef`` (``df`` is their minimum, rounded down). ``n_configs`` and
    ``n_censored_configs`` count configurations (and those with a censored run).
    """

    coef: Mapping[str, float]
    low: Mapping[str, float]
    high: Mapping[str, float]
    n_runs: int
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
                "n_clusters": self.n_clusters,
                "df_by_coef": dict(self.df_by_coef)}


#: What :func:`loglinear_fit` may subtract from ``log P*``: a :class:`Law` or a callable
#: ``point -> log scale``.
Offset = Law | Callable[[ThresholdPoint], float] | None


def _offset_fn(offset: Offset) -> Callable[[ThresholdPoint], float] | None:
    return offset.log_scale if isinstance(offset, Law) else offset


def config_intervals(
    points: Sequence[ThresholdPoint], offset: Offset = None,
) -> tuple[list[tuple[int, ...]], npt.NDArray[np.float64], npt.NDArray[np.float64], int]:
    """Per configuration, the interval that holds the mean over seeds of ``log P*``.

    Each seed's ``log P*`` lies in its :attr:`ThresholdPoint.log_interval`, so the seed
    mean lies between the means of the lower and of the upper ends: a point when no seed is
    censored, a half-line when one is (never a value imputed at any scale). ``offset`` (a
    :class:`Law` or a callable ``point -> log scale``) is subtracted. Returns
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


def run_intervals(
    points: Sequence[ThresholdPoint], offset: Offset = None,
) -> tuple[list[ThresholdPoint], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """One interval per run: the points ordered by configuration and seed, with each
    one's :attr:`ThresholdPoint.log_interval` less ``offset`` (a :class:`Law` or a callable
    ``point -> log scale``). Returns ``(points, lo, hi)``.

    >>> _, lo, hi = run_intervals([ThresholdPoint(8, 2, 2, 3, 0, 0, 10.0)])
    >>> bool(lo[0] == hi[0] == math.log(10.0))
    True
    """
    fn = _offset_fn(offset)
    runs = sorted(points, key=lambda p: (p.config, p.grammar_seed))
    shift = np.asarray([0.0 if fn is None else fn(p) for p in runs], dtype=np.float64)
    lo = np.asarray([p.log_interval[0] for p in runs], dtype=np.float64) - shift
    hi = np.asarray([p.log_interval[1] for p in runs], dtype=np.float64) - shift
    return runs, lo, hi


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

    # A line search may try any log sd; beyond +-50 the likelihood is flat in practice.
    beta, log_sd = theta[:-1], min(max(float(theta[-1]), -50.0), 50.0)
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
    """:func:`_cluster_df_of` of a design, remembered: the degrees of freedom and the CR2
    adjustments depend on the design alone, and a calibration fits hundreds of simulated
    grids on one design (the cached arrays are read-only)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    gid = np.ascontiguousarray(gid, dtype=np.int64)
    return _cluster_df_cached(X.tobytes(), X.shape, gid.tobytes())


@functools.lru_cache(maxsize=64)
def _cluster_df_cached(xb: bytes, shape: tuple[int, int], gb: bytes,
                       ) -> tuple[npt.NDArray[np.float64], list[npt.NDArray[np.float64]]]:
    X = np.frombuffer(xb, dtype=np.float64).reshape(shape)
    gid = np.frombuffer(gb, dtype=np.int64)
    dfs, adj = _cluster_df_of(X, gid)
    dfs.flags.writeable = False
    for a in adj:
        a.flags.writeable = False
    return dfs, adj


def _cluster_df_of(X: npt.NDArray[np.float64], gid: npt.NDArray[np.int64],
                   ) -> tuple[npt.NDArray[np.float64], list[npt.NDArray[np.float64]]]:
    """Per coefficient, the Imbens-Kolesar (2016) degrees of freedom of a CR2 interval, and
    the CR2 adjustments ``(I - H_gg)^(-1/2)`` per group.

    With groups of unequal size (runs of different depth hold different numbers of levels)
    the cluster-robust variance has fewer effective degrees of freedom than ``G - 1``; this
    is the Satterthwaite count ``tr(G'G)^2 / tr((G'G)^2)`` under homoskedastic errors.
    """
    n, k = X.shape
    bread = np.linalg.inv(X.T @ X)
    n_groups = int(gid.max(initial=-1)) + 1
    rows = [np.flatnonzero(gid == g) for g in range(n_groups)]
    # M = I - X bread X' is never formed (n x n: 70 MB at 3,000 runs): its blocks and its
    # columns times a vector come from X alone.
    adj = [_inv_sqrt_psd(np.eye(r.size) - X[r] @ bread @ X[r].T) for r in rows]
    dfs = np.empty(k)
    for j in range(k):
        cols = np.empty((n, n_groups))
        for g, (r, a) in enumerate(zip(rows, adj, strict=True)):
            w = a @ (X[r] @ bread[:, j])  # M[:, r] @ w = e_r w - X bread X[r]' w
            col = -(X @ (bread @ (X[r].T @ w)))
            col[r] += w
            cols[:, g] = col
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


def shares_grammar_seeds(points: Sequence[ThresholdPoint]) -> bool:
    """Whether a grammar seed of some ``(v, m, s)`` appears at two depths (a design whose
    depths share grammars or data, so their thresholds share noise).

    >>> shares_grammar_seeds([ThresholdPoint(8, 2, 2, L, 0, 0, 10.0) for L in (3, 4)])
    True
    >>> shares_grammar_seeds([ThresholdPoint(8, 2, 2, L, 0, L, 10.0) for L in (3, 4)])
    False
    """
    depths: dict[tuple[int, int, int, int], set[int]] = defaultdict(set)
    for p in points:
        depths[(p.v, p.m, p.s, p.grammar_seed)].add(p.L)
    return any(len(ls) > 1 for ls in depths.values())


def loglinear_fit(
    points: Sequence[ThresholdPoint],
    *,
    with_level: bool = False,
    offset: Offset = None,
    confidence: float = 0.95,
    cluster: bool | None = None,
    unit: Literal["run", "config"] = "run",
) -> LogLinearFit:
    """Fit ``log P* = c + a log v + b log m + d L (+ e l)`` with Student-t intervals.

    The fit is on one row per run (``unit="run"``, the default): each run's threshold is
    its own interval (:attr:`ThresholdPoint.log_interval`: a point, or a half-line where
    the grid censors it; :func:`interval_regression`), and the intervals are cluster-robust
    (CR2) with the configuration as the cluster, since the runs of one configuration share
    its deviation from the law. Their variance therefore holds both the noise between
    grammar seeds and the deviations of each configuration from the law. ``unit="config"``
    fits configuration means instead (:func:`config_intervals`), with classical intervals:
    a configuration with one censored seed is then a half-line, which discards its other
    seeds and biases the fit where the grid censors part of a configuration (the noise
    model measures its ``tau_config`` on them; the rules use runs). Coefficients the grid
    cannot identify (a column without variation) are ``nan``.

    Parameters
    ----------
    points : sequence of ThresholdPoint
    with_level : bool
        Add the level column ``e l`` (per-level thresholds).
    offset : Law or callable, optional
        Subtracted from ``log P*`` first (the residual of a claimed law: every coefficient
        but ``c`` is then 0 under the claim).
    confidence : float
        Level of the two-sided intervals.
    cluster : bool, optional
        Cluster-robust intervals with the configuration ``(v, m, s, L)`` as the cluster
        (:func:`interval_regression` with ``groups``). Default: for ``unit="run"`` always;
        for ``unit="config"`` when ``with_level`` (the levels of one run come from the same
        grammar and data, so their thresholds share noise).
        When not given, rows whose grammar seeds recur at several depths of one
        ``(v, m, s)`` (:func:`shares_grammar_seeds`, a property of the design, not of the
        values) are clustered by ``(v, m, s)``.
    unit : {"run", "config"}
        One row per run (default) or per configuration mean.

    Examples
    --------
    >>> pts = [ThresholdPoint(v, m, 2, L, 0, sd, 7.0 * v * m**3 * 1.1**sd)
    ...        for v, m in ((8, 2), (16, 2), (12, 3)) for L in (3, 4) for sd in (0, 1)]
    >>> fit = loglinear_fit(pts)
    >>> [round(fit.coef[k], 6) + 0.0 for k in ("a", "b", "d")]  # + 0.0: no "-0.0"
    [1.0, 3.0, 0.0]
    """
    from scipy.special import stdtrit

    if not 0 < confidence < 1:
        raise ValueError(f"confidence must satisfy 0 < confidence < 1, got {confidence}")
    offset_name = None if offset is None else (offset.expr if isinstance(offset, Law)
                                               else getattr(offset, "__qualname__", "law"))
    if unit not in ("run", "config"):
        raise ValueError(f"unit must be 'run' or 'config', got {unit!r}")
    keys, lo, hi, n_runs = config_intervals(points, offset)
    n_configs = len(keys)
    n_cens = int(np.sum(~(np.isclose(lo, hi) & np.isfinite(lo))))
    if unit == "run":
        # One row per run, each with its own interval: a censored seed does not make its
        # configuration's mean a half-line (which discards the other seeds and biases the
        # fit where the grid censors some seeds of a configuration).
        runs, lo, hi = run_intervals(points, offset)
        keys = [p.config for p in runs]
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
    # Runs of one configuration share its deviation from the law: with one row per run,
    # the configuration (the run (v, m, s, L) with levels) is the smallest cluster.
    clustered = (with_level or unit == "run") if cluster is None else cluster
    groups: list[tuple[int, ...]] | None = [k[:4] for k in keys] if clustered else None
    if cluster is None and shares_grammar_seeds(points):
        # One grammar seed at several depths: configuration means of one (v, m, s) share
        # its seeds' grammar effects, so (v, m, s) is the cluster.
        groups = [k[:3] for k in keys]
    n_clusters = len(set(groups)) if groups is not None else 0
    if (n_configs <= len(cols) or np.linalg.matrix_rank(X[:, cols]) < len(cols)
            or (groups is not None and n_clusters < 2)):
        return LogLinearFit(nan, nan, nan, n_runs, nan, 0, n_configs, n_cens,
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
    return LogLinearFit(full, low, high, n_runs, ses, df, n_configs, n_cens, sd,
                        offset_name, n_clusters,
                        {names[i]: float(dfs[j]) for j, i in enumerate(cols)})
