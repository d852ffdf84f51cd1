"""Thresholds of the exploration map per point, and its EXPLORATORY separation decisions."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from rhm_theory.sweeps.decisions import SeparationDecision
from rhm_theory.sweeps.explore_cells import AXES, TARGET

__all__ = [
    "separation_decisions",
    "summarize_explore",
]


def _geo_mean(values: Sequence[float]) -> float:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0 or np.any(~np.isfinite(arr)) or np.any(arr <= 0):
        return math.nan
    return float(np.exp(np.log(arr).mean()))


def summarize_explore(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One record per (axis, value, context, L): measured and predicted ``P*``, their ratio.

    ``P_star`` (accuracy) and ``P_star_exact`` (exact partition; the 0/1 curve crosses 1/2
    at the geometric mean of the last failing and the next exact ``P``) are geometric means
    over grammar seeds of each curve's last crossing (``nan`` if any seed never crossed
    inside the grid); ``predicted`` and ``uniform_formula`` the geometric means of the
    exact prediction and of the negative control's prediction; ``ratio`` is
    ``P_star_exact / predicted``.
    """
    from rhm_theory.algorithms.crossing import crossing_point

    curves: dict[tuple[Any, ...], dict[int, dict[str, Any]]] = defaultdict(dict)
    for r in rows:
        cid = (r["axis"], r["value"], r["context"], r["L"], r["grammar_seed"])
        curves[cid][int(r["P"])] = dict(r)
    per_seed: dict[tuple[Any, ...], list[tuple[float, ...]]] = defaultdict(list)
    for (axis, value, context, L, _), curve in curves.items():
        Ps = sorted(curve)
        star = crossing_point(Ps, [curve[q]["min_accuracy"] for q in Ps], TARGET)
        star_x = crossing_point(Ps, [float(curve[q]["all_exact"]) for q in Ps], 0.5)
        first = curve[Ps[0]]
        per_seed[(axis, value, context, L)].append(
            (star, first["predicted_threshold"], first["uniform_formula_threshold"],
             max(curve[q]["min_accuracy"] for q in Ps), star_x)
        )  # fmt: skip
    out = []
    for (axis, value, context, L), vals in sorted(per_seed.items(), key=lambda kv: (
            AXES.index(kv[0][0]), kv[0][1], kv[0][2], kv[0][3])):  # fmt: skip
        star = _geo_mean([v[0] for v in vals])
        star_x = _geo_mean([v[4] for v in vals])
        pred = _geo_mean([v[1] for v in vals])
        unif = _geo_mean([v[2] for v in vals])
        out.append({
            "axis": axis, "value": value, "context": context, "L": L, "n_seeds": len(vals),
            "P_star": star, "P_star_exact": star_x, "predicted": pred,
            "uniform_formula": unif, "ratio": star_x / pred if pred > 0 else math.nan,
            "best_accuracy": float(min(v[3] for v in vals)),
        })  # fmt: skip
    return out


def separation_decisions(summary: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """EXPLORATORY: does the own-latent advantage survive at each point of the map?

    Per (axis, value): the growth factor per level of ``P*`` for each context (least squares
    of ``log P*`` on ``L``), the token/latent gap at the deepest ``L``, and a ``decision``
    (:data:`~rhm_theory.sweeps.decisions.SEPARATION_DECISIONS`). ``survives``: token ``P*``
    grows faster with depth than latent ``P*`` and stays above it at the deepest ``L``;
    ``degrades``: only one of the two; ``vanishes``: neither; ``undetermined`` when a
    threshold is missing.
    """
    from rhm_theory.sweeps.thresholds import fit_growth_per_level

    groups: dict[tuple[str, float], dict[str, dict[int, float]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for r in summary:
        groups[(r["axis"], r["value"])][r["context"]][int(r["L"])] = float(r["P_star"])
    out = []
    for (axis, value), by_context in groups.items():
        lat, tok = by_context.get("latent", {}), by_context.get("token", {})
        Ls = sorted(set(lat) & set(tok))
        rec: dict[str, Any] = {"axis": axis, "value": value, "Ls": Ls}
        if len(Ls) < 2 or any(math.isnan(d[L]) for d in (lat, tok) for L in Ls):
            rec.update(latent_growth=math.nan, token_growth=math.nan, gap=math.nan,
                       decision="undetermined")  # fmt: skip
        else:
            g_lat = fit_growth_per_level(Ls, [lat[L] for L in Ls])
            g_tok = fit_growth_per_level(Ls, [tok[L] for L in Ls])
            gap = tok[Ls[-1]] / lat[Ls[-1]]
            decision: SeparationDecision = "survives" if (g_tok > g_lat and gap > 1) else (
                "degrades" if (g_tok > g_lat or gap > 1) else "vanishes")
            rec.update(latent_growth=g_lat, token_growth=g_tok, gap=gap, decision=decision)
        out.append(rec)
    return out
