"""Reading a threshold off a curve: where a score first or last crosses its target."""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import numpy.typing as npt

from rhm_theory.constants import DEFAULT_TARGET
from rhm_theory.validation import check_choice

__all__ = ["CROSSING_RULES", "DEFAULT_TARGET", "CrossingRule", "crossing_point"]


#: How a threshold is read off a curve (the one estimator of the package, rule named):
#: ``"last"`` = the last upward crossing (after it every grid point is at or above the
#: target; robust to non-monotone curves; the default of every check), ``"first"`` = the
#: first upward crossing (what a neural probe curve, noisy at large P, may ask for).
CrossingRule = Literal["last", "first"]
CROSSING_RULES: tuple[CrossingRule, ...] = ("last", "first")


def crossing_point(
    P: npt.ArrayLike, score: npt.ArrayLike, target: float = DEFAULT_TARGET, *,
    rule: CrossingRule = "last",
) -> float:
    """Interpolated ``P`` at which ``score`` crosses ``target`` (upwards).

    Works on plain arrays (sweep rows, neural probe curves). With ``rule="last"`` (default)
    the threshold is the *last* upward crossing: after it every grid point is at or above
    ``target``. With ``rule="first"`` it is the first grid point at or above ``target``,
    interpolated from the point before. Interpolation is linear in ``log P`` between the
    two grid points around the crossing. Returns ``nan`` if the curve never reaches
    ``target`` (``"first"``) or ends below it (``"last"``), and the first grid ``P`` if the
    first point is already above (only an upper bound).

    Parameters
    ----------
    P, score : array_like, 1-D, same length
        Sample sizes (any order, positive) and the score at each.
    target : float
        Level to cross.
    rule : {"last", "first"}
        Which upward crossing (see :data:`CrossingRule`).

    Returns
    -------
    float

    Examples
    --------
    >>> round(crossing_point([100, 200, 400], [0.1, 0.5, 1.0], target=0.75), 6)  # 200 sqrt 2
    282.842712
    >>> round(crossing_point([1, 2, 4, 8], [0, 1, 0, 1], 0.5, rule="first"), 6)  # 2**0.5
    1.414214
    >>> round(crossing_point([1, 2, 4, 8], [0, 1, 0, 1], 0.5), 6)  # last: 4 * 2**0.5
    5.656854
    """
    check_choice("rule", rule, CROSSING_RULES)
    p = np.asarray(P, dtype=np.float64)
    y = np.asarray(score, dtype=np.float64)
    if p.shape != y.shape or p.ndim != 1 or p.size == 0:
        raise ValueError("P and score must be 1-D arrays of one non-zero length")
    if np.any(~(p > 0)):
        raise ValueError("P must satisfy P > 0 for every point")
    order = np.argsort(p, kind="stable")
    p, y = p[order], y[order]
    if rule == "last":
        if y[-1] < target:
            return math.nan
        below = np.flatnonzero(y < target)
        if below.size == 0:
            return float(p[0])
        i = int(below[-1])
    else:
        above = np.flatnonzero(y >= target)
        if above.size == 0:
            return math.nan
        if above[0] == 0:
            return float(p[0])
        i = int(above[0]) - 1
    lo, hi = math.log(p[i]), math.log(p[i + 1])
    frac = (target - y[i]) / (y[i + 1] - y[i])
    return float(math.exp(lo + frac * (hi - lo)))
