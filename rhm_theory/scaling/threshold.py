"""The threshold ``P*`` of a success curve: one definition, interval-censored."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "THRESHOLD_KINDS",
    "THRESHOLD_RULE",
    "Threshold",
    "ThresholdKind",
    "ThresholdPoint",
    "isotonic_fit",
    "threshold_from_curve",
]

#: ``"point"``: the criterion is reached inside the grid; ``"below_grid"``: already reached
#: at the smallest ``P`` (``P* <= P_min``); ``"above_grid"``: never reached (``P* > P_max``).
ThresholdKind = Literal["point", "below_grid", "above_grid"]
THRESHOLD_KINDS: tuple[ThresholdKind, ...] = ("point", "below_grid", "above_grid")

#: The one threshold definition of the library, in words (reported with every threshold).
THRESHOLD_RULE = ("first P at which the isotonic (non-decreasing, least-squares) fit of the "
                  "success curve over log P reaches the criterion, interpolated linearly in "
                  "log P between grid points; interval-censored outside the grid")


@dataclass(frozen=True)
class Threshold:
    """A threshold ``P*`` read off one success curve, with its censoring.

    Attributes
    ----------
    kind : {"point", "below_grid", "above_grid"}
        Whether the grid brackets the threshold.
    P_star : float
        The threshold for ``kind == "point"``; ``nan`` when censored.
    P_min, P_max : float
        Ends of the curve's ``P`` grid (``nan`` when unknown).
    criterion : float
        Success level the curve had to reach.
    last_crossing : float
        The last upward crossing of the raw curve (after it every grid point is at or above
        the criterion), reported beside ``P_star``; ``nan`` when the raw curve ends below.
    dips : bool
        Whether the raw curve falls below the criterion again after first reaching it.
    rule : str
        The definition that produced ``P_star`` (:data:`THRESHOLD_RULE`).
    """

    kind: ThresholdKind
    P_star: float
    P_min: float
    P_max: float
    criterion: float = math.nan
    last_crossing: float = math.nan
    dips: bool = False
    rule: str = THRESHOLD_RULE

    def __post_init__(self) -> None:
        if self.kind not in THRESHOLD_KINDS:
            raise ValueError(f"kind must be one of {THRESHOLD_KINDS}, got {self.kind!r}")
        if self.kind == "point" and not (math.isfinite(self.P_star) and self.P_star > 0):
            raise ValueError(f"a point threshold needs P_star > 0, got {self.P_star!r}")

    @classmethod
    def from_bounds(cls, P_lo: float, P_hi: float) -> Threshold:
        """A threshold known only as an interval ``[P_lo, P_hi]`` (from another code).

        ``P_lo == P_hi`` is a point; ``P_lo <= 0`` is below the grid (``P* <= P_hi``);
        ``P_hi = inf`` is above it (``P* > P_lo``). A bracket with two finite, distinct
        ends is not a censoring kind of this library and is refused.

        >>> Threshold.from_bounds(100, 100).kind, Threshold.from_bounds(0, 64).kind
        ('point', 'below_grid')
        >>> Threshold.from_bounds(512, math.inf).log_interval == (math.log(512), math.inf)
        True
        """
        lo, hi = float(P_lo), float(P_hi)
        if math.isnan(lo) or math.isnan(hi) or hi < lo:
            raise ValueError(f"P_lo <= P_hi must hold (got P_lo={P_lo!r}, P_hi={P_hi!r})")
        if lo == hi:
            return cls("point", lo, lo, lo)
        if lo <= 0 and math.isfinite(hi):
            return cls("below_grid", math.nan, hi, math.nan)
        if math.isinf(hi) and lo > 0:
            return cls("above_grid", math.nan, math.nan, lo)
        raise ValueError(f"[P_lo, P_hi] = [{P_lo!r}, {P_hi!r}] is neither a point (P_lo == "
                         "P_hi), below a grid (P_lo <= 0) nor above one (P_hi = inf)")

    @property
    def censored(self) -> bool:
        """Whether the threshold is only bounded on one side."""
        return self.kind != "point"

    @property
    def log_interval(self) -> tuple[float, float]:
        """``(lo, hi)`` bracketing ``log P*``; infinite on the censored side.

        Unknown grid ends give infinite bounds (no information), never an imputed value.
        """
        if self.kind == "point":
            y = math.log(self.P_star)
            return (y, y)
        if self.kind == "below_grid":
            return (-math.inf, math.log(self.P_min) if self.P_min > 0 else math.inf)
        return (math.log(self.P_max) if self.P_max > 0 else -math.inf, math.inf)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (``nan`` and ``inf`` as floats)."""
        return dict(self.__dict__)


def isotonic_fit(y: npt.ArrayLike, weights: npt.ArrayLike | None = None,
                 ) -> npt.NDArray[np.float64]:
    """Least-squares non-decreasing fit of ``y`` (pool adjacent violators).

    Parameters
    ----------
    y : array_like, 1-D
        Values in the order of increasing abscissa.
    weights : array_like, optional
        Positive weights (default all 1).

    Returns
    -------
    ndarray
        The fitted values, non-decreasing, same length as ``y``.

    Examples
    --------
    >>> isotonic_fit([0.0, 1.0, 0.5, 1.0]).tolist()
    [0.0, 0.75, 0.75, 1.0]
    """
    values = np.asarray(y, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError("y must be 1-D")
    w = np.ones_like(values) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != values.shape or np.any(~(w > 0)):
        raise ValueError("weights must be positive and match y in length")
    # Blocks as (mean, weight, length); merge backwards while the order is violated.
    means: list[float] = []
    wts: list[float] = []
    lens: list[int] = []
    for yi, wi in zip(values.tolist(), w.tolist(), strict=True):
        means.append(yi)
        wts.append(wi)
        lens.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            wsum = wts[-2] + wts[-1]
            mean = (means[-2] * wts[-2] + means[-1] * wts[-1]) / wsum
            n = lens[-2] + lens[-1]
            del means[-1], wts[-1], lens[-1]
            means[-1], wts[-1], lens[-1] = mean, wsum, n
    return np.repeat(np.asarray(means, dtype=np.float64), lens)


def _interpolate(p: npt.NDArray[np.float64], y: npt.NDArray[np.float64], i: int,
                 criterion: float) -> float:
    """``P`` where the segment from grid point ``i`` to ``i + 1`` reaches ``criterion``."""
    lo, hi = math.log(p[i]), math.log(p[i + 1])
    frac = (criterion - y[i]) / (y[i + 1] - y[i])
    return float(math.exp(lo + frac * (hi - lo)))


def threshold_from_curve(P: npt.ArrayLike, success: npt.ArrayLike, criterion: float,
                         ) -> Threshold:
    """The threshold of a success curve (:data:`THRESHOLD_RULE`).

    The curve is fitted by a non-decreasing function of ``P`` (isotonic regression, pool
    adjacent violators), so a single dip after the crossing cannot move ``P*``; ``P*`` is
    the first grid ``P`` at which the fit reaches ``criterion``, interpolated linearly in
    ``log P`` from the grid point before it. Already reached at the smallest ``P``:
    ``below_grid``; never reached: ``above_grid``. The last upward crossing of the raw curve
    and whether it dips after first reaching the criterion are reported beside it.

    Parameters
    ----------
    P : array_like, 1-D
        Sample sizes, positive, any order, distinct.
    success : array_like, 1-D
        The success measure at each ``P`` (an accuracy, or 0/1 for an event).
    criterion : float
        Level the success measure must reach.

    Returns
    -------
    Threshold

    Examples
    --------
    A dip after the crossing moves the last crossing, not the threshold:

    >>> t = threshold_from_curve([100, 200, 400, 800], [0.0, 1.0, 0.0, 1.0], 0.5)
    >>> t.kind, round(t.P_star, 6), round(t.last_crossing, 6), t.dips
    ('point', 200.0, 565.685425, True)
    >>> threshold_from_curve([100, 200], [0.2, 0.4], 0.5).kind
    'above_grid'
    """
    p = np.asarray(P, dtype=np.float64)
    y = np.asarray(success, dtype=np.float64)
    if p.ndim != 1 or p.shape != y.shape or p.size == 0:
        raise ValueError("P and success must be 1-D arrays of one non-zero length")
    if np.any(~(p > 0)) or np.any(~np.isfinite(p)):
        raise ValueError("P must satisfy 0 < P < inf at every point")
    if np.any(~np.isfinite(y)):
        raise ValueError("success must be finite at every point")
    if not math.isfinite(criterion):
        raise ValueError(f"criterion must be finite, got {criterion!r}")
    order = np.argsort(p, kind="stable")
    p, y = p[order], y[order]
    if np.any(np.diff(p) == 0):
        raise ValueError("P must be distinct (average repeated runs before reading P*)")
    P_min, P_max = float(p[0]), float(p[-1])
    reached = np.flatnonzero(y >= criterion)
    dips = bool(reached.size and np.any(y[int(reached[0]):] < criterion))
    below = np.flatnonzero(y < criterion)
    if y[-1] < criterion:
        last = math.nan
    elif below.size == 0:
        last = P_min
    else:
        last = _interpolate(p, y, int(below[-1]), criterion)
    fit = isotonic_fit(y)
    hit = np.flatnonzero(fit >= criterion)
    if hit.size == 0:
        return Threshold("above_grid", math.nan, P_min, P_max, criterion, last, dips)
    i = int(hit[0])
    if i == 0:
        return Threshold("below_grid", math.nan, P_min, P_max, criterion, last, dips)
    return Threshold("point", _interpolate(p, fit, i - 1, criterion), P_min, P_max,
                     criterion, last, dips)


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

    @classmethod
    def from_threshold(cls, v: int, m: int, s: int, L: int, level: int, grammar_seed: int,
                       threshold: Threshold) -> ThresholdPoint:
        """The point of one run whose curve gave ``threshold``."""
        t = threshold
        if t.kind == "point":
            return cls(v, m, s, L, level, grammar_seed, t.P_star, t.P_min, t.P_max)
        if t.kind == "below_grid":
            return cls(v, m, s, L, level, grammar_seed, t.P_min, t.P_min, t.P_max)
        return cls(v, m, s, L, level, grammar_seed, math.nan, t.P_min, t.P_max)

    @property
    def f(self) -> float:
        """The grammatical fraction ``m / v^(s-1)`` of the configuration."""
        return float(self.m / self.v ** (self.s - 1))

