"""Thresholds of sweep rows: success events, one threshold per run, by one definition."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from rhm_theory.constants import DEFAULT_MERGE_FACTOR
from rhm_theory.scaling import ThresholdPoint, law, threshold_from_curve
from rhm_theory.sweeps.runner import row_context, row_family

__all__ = [
    "CONTEXT_LAWS",
    "EPS",
    "SUCCESS_EVENTS",
    "SuccessEvent",
    "ThresholdSummary",
    "cell_thresholds",
    "fit_growth_per_level",
    "method_scale",
    "summarize_thresholds",
    "threshold_points",
]

#: The misassigned fraction of tuple values the ``tuple_error`` event allows. Every grid
#: point of the checks has ``v m >= 16``, so ``EPS v m >= 2 > 1``: a fixed fraction, not
#: exact recovery (docs/theory.md section 4).
EPS = 0.125


@dataclass(frozen=True)
class SuccessEvent:
    """What a run must achieve at a sample size, and the row columns that record it.

    ``metric`` is the whole-tree column (every non-root level), ``level_metric`` the
    per-level one; the threshold is where the run's curve of that column reaches
    ``criterion`` (:func:`rhm_theory.scaling.threshold_from_curve`).
    """

    name: str
    metric: str
    level_metric: str
    criterion: float
    description: str


#: The success events of ILC runs (docs/theory.md section 4). ``exact_recovery`` is the
#: theorem's event (its law carries the union bound's ``log(L v m)``); ``tuple_error`` a
#: fixed fraction ``EPS`` of misassigned tuple values per level (law without ``log(v m)``);
#: ``node_accuracy`` the fraction 0.95 of nodes, whose meaning changes with ``v m`` (exact
#: recovery below ``v m = 20``), kept for plots and never judged.
SUCCESS_EVENTS: dict[str, SuccessEvent] = {
    "exact_recovery": SuccessEvent(
        "exact_recovery", "all_exact", "exact_partition", 0.5,
        "the tuple-to-parent partition of every non-root level is exact; P* is where the "
        "monotone fit of the 0/1 success reaches 1/2"),
    "tuple_error": SuccessEvent(
        "tuple_error", "min_tuple_accuracy", "tuple_accuracy", 1.0 - EPS,
        f"at most a fraction eps = {EPS} of each level's tuple values is misassigned"),
    "node_accuracy": SuccessEvent(
        "node_accuracy", "min_accuracy", "accuracy", 0.95,
        "0.95 of the nodes of every level right (a criterion whose meaning changes with v m)"),
}

#: The bare law that sizes the ``P`` grid of each ILC context kind (integer scales, so a
#: grid never depends on rounding): own latents, tokens, labels.
CONTEXT_LAWS: dict[str, str] = {"latent": "v m^3", "token": "v m^(L+1)", "label": "v m^L"}

_GROUP = ("v", "m", "s", "L", "n_c", "grammar_seed", "data_seed")
#: ILC variant columns and their defaults (rows written before they existed are defaults).
_VARIANTS: dict[str, Any] = {"pool_positions": True, "merge_factor": DEFAULT_MERGE_FACTOR}


def method_scale(method: str, v: int, m: int, s: int, L: int) -> float:
    """The grid scale of an ILC context kind (:data:`CONTEXT_LAWS`), exact.

    >>> method_scale("token", 16, 4, 2, 5)
    65536.0
    """
    if method not in CONTEXT_LAWS:
        raise ValueError(f"method must be one of {sorted(CONTEXT_LAWS)}, got {method!r}")
    exact = law(CONTEXT_LAWS[method]).exact(v, m, s, L)
    assert exact is not None  # integer laws
    return float(exact)


def cell_thresholds(
    rows: Iterable[Mapping[str, Any]],
    *,
    event: str = "tuple_error",
    level: int | None = None,
) -> list[dict[str, Any]]:
    """Threshold ``P*`` of every run (configuration and seed pair) of sweep rows.

    Parameters
    ----------
    rows : iterable of sweep rows
    event : str
        A key of :data:`SUCCESS_EVENTS`.
    level : int, optional
        Threshold of one level (the event's per-level column) instead of the whole tree.

    Returns
    -------
    list of dict
        One record per run: the run's keys, ``P_star`` (``nan`` when censored), ``kind``
        (``point``, ``below_grid``, ``above_grid``), ``P_min``/``P_max`` (the grid's ends),
        ``last_crossing``, ``dips`` and ``event``.
    """
    if event not in SUCCESS_EVENTS:
        raise ValueError(f"event must be one of {sorted(SUCCESS_EVENTS)}, got {event!r}")
    ev = SUCCESS_EVENTS[event]
    metric = ev.metric if level is None else ev.level_metric
    curves: dict[tuple[Any, ...], dict[int, float]] = defaultdict(dict)
    for r in rows:
        if level is not None and r["level"] != level:
            continue
        if level is None and r["level"] != 1:  # per-cell metrics repeat on every level row
            continue
        if metric not in r:
            raise ValueError(f"rows have no column {metric!r} (event {event!r}); rows written "
                             "by an older version lack it: rerun the sweep")
        key = (row_context(r), *(r[k] for k in _GROUP), row_family(r),
               *(r.get(k, d) for k, d in _VARIANTS.items()))
        curves[key][int(r["P"])] = float(r[metric])
    out = []
    for key, curve in sorted(curves.items(), key=lambda kv: str(kv[0])):
        Ps = sorted(curve)
        t = threshold_from_curve(Ps, [curve[q] for q in Ps], ev.criterion)
        P_star = t.P_star if t.kind != "below_grid" else t.P_min
        out.append({**dict(zip(("context", *_GROUP, "family", *_VARIANTS), key, strict=True)),
                    "P_star": P_star, "kind": t.kind, "n_points": len(Ps), "event": event,
                    "metric": metric, "criterion": ev.criterion, "level": level,
                    "P_min": t.P_min, "P_max": t.P_max, "last_crossing": t.last_crossing,
                    "dips": t.dips})
    return out


def threshold_points(
    rows: Iterable[Mapping[str, Any]],
    method: str,
    *,
    event: str = "tuple_error",
    per_level: bool = False,
    where: Callable[[Mapping[str, Any]], bool] | None = None,
) -> list[ThresholdPoint]:
    """Thresholds of every run of one ILC context kind, whole-tree or per level.

    Parameters
    ----------
    rows : iterable of sweep rows
    method : str
        Rows of this context kind only.
    event : str
        A key of :data:`SUCCESS_EVENTS`.
    per_level : bool
        ``False``: the whole-tree threshold (``level = 0``); ``True``: one per level.
    where : callable, optional
        Extra row filter.

    Returns
    -------
    list of ThresholdPoint
    """
    sel = [r for r in rows if row_context(r) == method and (where is None or where(r))]
    levels = sorted({int(r["level"]) for r in sel}) if per_level else [None]
    out = []
    for lv in levels:
        for t in cell_thresholds(sel, event=event, level=lv):
            out.append(ThresholdPoint(int(t["v"]), int(t["m"]), int(t["s"]), int(t["L"]),
                                      0 if lv is None else lv, int(t["grammar_seed"]),
                                      float(t["P_star"]), float(t["P_min"]),
                                      float(t["P_max"])))
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


def fit_growth_per_level(Ls: Sequence[int], P_star: Sequence[float]) -> float:
    """Least-squares growth factor of ``P*`` per added level: ``exp(slope of log P* vs L)``."""
    x = np.asarray(Ls, dtype=np.float64)
    y = np.log(np.asarray(P_star, dtype=np.float64))
    if x.size < 2 or np.any(~np.isfinite(y)):
        return math.nan
    slope = np.polyfit(x, y, 1)[0]
    return float(math.exp(slope))
