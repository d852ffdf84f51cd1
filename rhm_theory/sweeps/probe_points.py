"""Neural probe thresholds as threshold points: one per grammar seed, and their scatter."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rhm_theory.scaling import ThresholdPoint

__all__ = [
    "MIN_SEEDS",
    "pooled_log_scatter",
    "probe_threshold_points",
]

#: A cell enters the comparison only with at least this many grammar seeds (a single seed
#: has no spread to estimate).
MIN_SEEDS = 2


def _label(p: ThresholdPoint) -> str:
    return f"v={p.v},m={p.m},L={p.L}"


def probe_threshold_points(
    rows: Sequence[Mapping[str, Any]], method: str, metric: str, level_of: Callable[[int], int],
    criterion_fraction: float | None = None,
) -> tuple[list[ThresholdPoint], dict[str, Any]]:
    """One method's threshold rows as :class:`ThresholdPoint` s, one per grammar seed.

    Rows are those of ``method`` with ``metric = "threshold:<metric>"`` at level
    ``level_of(L)`` (and, for accuracy metrics, at the criterion ``chance +
    criterion_fraction (1 - chance)``). Every point carries its curve's ``P_min`` and
    ``P_max`` (when the row has them). Censored thresholds are interval data: a
    left-censored one (already crossed at the smallest ``P``) is ``P_star = P_min``, a
    right-censored one (never crossed) ``nan`` (:attr:`ThresholdPoint.log_interval` makes
    them bounds). Cells with fewer than :data:`MIN_SEEDS` seeds are left out. ``info``
    counts both per cell.

    >>> rows = [{"method": "mlm", "metric": "threshold:root_probe", "v": 8, "m": 3, "s": 2,
    ...          "L": 3, "level": 3, "grammar_seed": g, "censored": None, "value": 100.0 + g}
    ...         for g in range(2)]
    >>> pts, info = probe_threshold_points(rows, "mlm", "root_probe", lambda L: L)
    >>> [p.P_star for p in pts], info["cells_with_too_few_seeds"]
    ([100.0, 101.0], [])
    """
    points: list[ThresholdPoint] = []
    for r in rows:
        if r.get("method") != method or r.get("metric") != f"threshold:{metric}":
            continue
        L = int(r["L"])
        if r.get("level") != level_of(L):
            continue
        if criterion_fraction is not None and metric != "synonymic_sensitivity":
            n_sym = int(r["n_c"]) if r["level"] == L else int(r["v"])
            chance = 1.0 / n_sym
            want = chance + criterion_fraction * (1.0 - chance)
            if not math.isclose(float(r["criterion"]), want, rel_tol=1e-9):
                continue
        value = r.get("value")
        crossed = r.get("censored") is None and value is not None and math.isfinite(float(value))
        p_min, p_max = float(r.get("P_min", math.nan)), float(r.get("P_max", math.nan))
        p_star = float(value) if crossed and value is not None else math.nan
        if r.get("censored") == "left":
            p_star = p_min
        points.append(ThresholdPoint(int(r["v"]), int(r["m"]), int(r["s"]), L,
                                     int(r["level"]), int(r["grammar_seed"]), p_star,
                                     p_min, p_max))
    censored: dict[str, int] = {}
    seeds: dict[str, int] = {}
    for p in points:
        seeds[_label(p)] = seeds.get(_label(p), 0) + 1
        if p.censored:
            censored[_label(p)] = censored.get(_label(p), 0) + 1
    few = sorted(c for c, n in seeds.items() if n < MIN_SEEDS)
    kept = [p for p in points if _label(p) not in few]
    return kept, {"censored_by_cell": censored, "cells_with_too_few_seeds": few}


def pooled_log_scatter(points: Sequence[ThresholdPoint]) -> float | None:
    """Pooled within-cell standard deviation of ``log P*`` over cells with >= 2 crossed
    seeds, censored ones left out (``None`` when no cell has two)."""
    by: dict[str, list[float]] = {}
    for p in points:
        if math.isfinite(p.P_star) and p.P_star > 0 and not p.censored:
            by.setdefault(_label(p), []).append(math.log(p.P_star))
    ss, dof = 0.0, 0
    for vals in by.values():
        if len(vals) >= 2:
            mu = sum(vals) / len(vals)
            ss += sum((x - mu) ** 2 for x in vals)
            dof += len(vals) - 1
    return math.sqrt(ss / dof) if dof > 0 else None
