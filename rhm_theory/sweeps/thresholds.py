"""Sample-complexity thresholds from sweep rows, their spread over seeds, and collapse quality."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rhm_theory.algorithms.crossing import CROSSING_RULES, CrossingRule, crossing_point
from rhm_theory.constants import DEFAULT_MERGE_FACTOR, DEFAULT_TARGET
from rhm_theory.sweeps.laws import CANDIDATES, METHOD_RESCALING
from rhm_theory.sweeps.runner import row_context, row_family

__all__ = [
    "CROSSING_RULES",
    "METHOD_RESCALING",
    "RESCALINGS",
    "CrossingRule",
    "ThresholdSummary",
    "cell_thresholds",
    "collapse_quality",
    "crossing_point",
    "fit_growth_per_level",
    "method_scale",
    "rescaling",
    "summarize_thresholds",
]


_GROUP = ("v", "m", "s", "L", "n_c", "grammar_seed", "data_seed")
#: ILC variant columns and their defaults (rows written before they existed are defaults).
_VARIANTS: dict[str, Any] = {"pool_positions": True, "merge_factor": DEFAULT_MERGE_FACTOR}


def cell_thresholds(
    rows: Iterable[Mapping[str, Any]],
    *,
    metric: str = "min_accuracy",
    target: float = DEFAULT_TARGET,
    level: int | None = None,
    rule: CrossingRule = "last",
) -> list[dict[str, Any]]:
    """Threshold ``P*`` per configuration and seed pair, from sweep rows.

    ``metric`` is a row column (``min_accuracy``: every non-root level; ``accuracy`` with
    ``level`` set: one level; ``all_exact``: exact recovery of every level, as 0/1).
    Each record also carries ``P_min`` and ``P_max``, the ends of the run's ``P`` grid: a
    ``nan`` ``P_star`` is censored above ``P_max``, and ``P_star == P_min`` below ``P_min``.
    """
    curves: dict[tuple[Any, ...], dict[int, float]] = defaultdict(dict)
    for r in rows:
        if metric != "min_accuracy" and metric != "all_exact" and level is None:
            raise ValueError(f"metric={metric!r} is per level: pass level=")
        if level is not None and r["level"] != level:
            continue
        if level is None and r["level"] != 1:  # per-cell metrics repeat on every level row
            continue
        key = (row_context(r), *(r[k] for k in _GROUP), row_family(r),
               *(r.get(k, d) for k, d in _VARIANTS.items()))
        curves[key][int(r["P"])] = float(r[metric])
    out = []
    for key, curve in sorted(curves.items(), key=lambda kv: str(kv[0])):
        Ps = sorted(curve)
        # P_min / P_max: the grid's ends, the bounds of a censored threshold (a nan P_star
        # lies above P_max; P_star == P_min means already past the target at P_min).
        out.append({**dict(zip(("context", *_GROUP, "family", *_VARIANTS), key, strict=True)),
                    "P_star": crossing_point(Ps, [curve[q] for q in Ps], target, rule=rule),
                    "n_points": len(Ps), "metric": metric, "target": target,
                    "level": level, "P_min": float(Ps[0]), "P_max": float(Ps[-1])})
    return out


@dataclass(frozen=True)
class ThresholdSummary:
    """Threshold of one configuration over seeds: geometric mean and spread."""

    context: str
    v: int
    m: int
    s: int
    L: int
    P_star: float
    log10_spread: float
    n_seeds: int
    n_missing: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for tables and JSON."""
        return dict(self.__dict__)


def summarize_thresholds(per_seed: Sequence[Mapping[str, Any]]) -> list[ThresholdSummary]:
    """Geometric mean and std of ``log10 P*`` over seeds, per (context, v, m, s, L).

    Seeds whose curve never crossed are counted in ``n_missing``; if any is missing the
    summary's ``P_star`` is ``nan`` (never silently dropped).
    """
    groups: dict[tuple[Any, ...], list[float]] = defaultdict(list)
    for r in per_seed:
        groups[(r["context"], r["v"], r["m"], r["s"], r["L"])].append(float(r["P_star"]))
    out = []
    for (context, v, m, s, L), vals in sorted(groups.items()):
        arr = np.asarray(vals)
        missing = int(np.isnan(arr).sum())
        logs = np.log10(arr[~np.isnan(arr)])
        gm = float(10 ** logs.mean()) if logs.size and not missing else math.nan
        spread = float(logs.std()) if logs.size else math.nan
        out.append(ThresholdSummary(context, v, m, s, L, gm, spread, len(vals), missing))
    return out


def _exact(name: str) -> Callable[[int, int, int, int], float]:
    exact = CANDIDATES[name].exact
    assert exact is not None, name  # the three objectives have integer scales
    return exact


#: The exact scales of the paper's three objectives (``(v, m, s, L) -> scale``), from the one
#: registry of laws (:data:`rhm_theory.sweeps.laws.CANDIDATES`).
RESCALINGS: dict[str, Callable[[int, int, int, int], float]] = {
    name: _exact(name) for name in ("v m^3", "v m^(L+1)", "v m^L")
}


def method_scale(method: str, v: int, m: int, s: int, L: int) -> float:
    """Reported sample-complexity scale of a method: ``v m^3``, ``v m^(L+1)`` or ``v m^L``.

    Parameters
    ----------
    method : {"latent", "token", "label"}
        ILC context kind (own latents, token-level SSL, supervised).
    v, m, s, L : int
        Grammar parameters.

    Returns
    -------
    float

    Examples
    --------
    >>> method_scale("latent", 16, 4, 2, 5), method_scale("label", 16, 4, 2, 3)
    (1024.0, 1024.0)
    """
    if method not in METHOD_RESCALING:
        raise ValueError(f"method must be one of {sorted(METHOD_RESCALING)}, got {method!r}")
    return RESCALINGS[METHOD_RESCALING[method]](v, m, s, L)


def rescaling(name: str) -> Callable[[int, int, int, int], float]:
    """The rescaling ``(v, m, s, L) -> scale`` named ``name`` (see ``RESCALINGS``)."""
    if name not in RESCALINGS:
        raise ValueError(f"rescaling must be one of {sorted(RESCALINGS)}, got {name!r}")
    return RESCALINGS[name]


def collapse_quality(summaries: Sequence[ThresholdSummary], name: str) -> dict[str, float]:
    """How well ``P* / scale`` collapses across configurations for a rescaling.

    Returns the max/min ratio of the rescaled thresholds and the std of their log10
    (0 = perfect collapse); ``nan`` if any threshold is missing.
    """
    f = rescaling(name)
    vals = np.array([s.P_star / f(s.v, s.m, s.s, s.L) for s in summaries])
    if vals.size == 0 or np.any(np.isnan(vals)):
        return {"ratio": math.nan, "log10_std": math.nan, "n": float(vals.size)}
    return {"ratio": float(vals.max() / vals.min()), "log10_std": float(np.log10(vals).std()),
            "n": float(vals.size)}


def fit_growth_per_level(Ls: Sequence[int], P_star: Sequence[float]) -> float:
    """Least-squares growth factor of ``P*`` per added level: ``exp(slope of log P* vs L)``."""
    x = np.asarray(Ls, dtype=np.float64)
    y = np.log(np.asarray(P_star, dtype=np.float64))
    if x.size < 2 or np.any(~np.isfinite(y)):
        return math.nan
    slope = np.polyfit(x, y, 1)[0]
    return float(math.exp(slope))
